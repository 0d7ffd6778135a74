"""``make airflow`` (``scripts/airflow_deployment.py``): what it prints, what a person then finds in the UI, and
that Ctrl-C stops every process it started.

It runs as a person runs it, in a subprocess of its own with its own emulator, next to the session's deployment.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from airflow_deployment import REPO, AirflowApi, wait_until

START_SECONDS = 300.0
STOP_SECONDS = 60.0
BANNER_LINES = 7


@dataclass
class Running:
    """The script in a subprocess, its output lines collected by a thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def banner(self) -> dict[str, str]:
        """The lines after "Starting ...", by their label."""
        while len(self.seen) < BANNER_LINES + 1:
            try:
                self.seen.append(self.lines.get(timeout=START_SECONDS))
            except queue.Empty:
                raise AssertionError(f"no banner; printed so far: {self.seen}") from None
        labelled = [re.split(r"\s{2,}", line, maxsplit=1) for line in self.seen[1:]]
        return {parts[0]: parts[1] for parts in labelled if len(parts) == 2}


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "airflow_deployment.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    script = Running(process)
    threading.Thread(target=script.collect, daemon=True).start()
    yield script
    if process.poll() is None:  # Ctrl-C stops the services it started in their own sessions; SIGKILL would not
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def processes_in(home: Path) -> list[int]:
    """Living processes whose working directory is ``home`` or below (the services and their task processes)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd.removesuffix(" (deleted)").startswith(str(home)):
            pids.append(int(entry.name))
    return pids


def test_it_prints_the_url_the_login_the_connection_and_the_dags(running: Running) -> None:
    banner = running.banner()
    assert banner["Airflow UI"].startswith("http://127.0.0.1:")
    assert banner["Login"].startswith("none")
    assert banner["Connection"].startswith("foundry_default")
    assert "retrain_then_deploy" in banner["DAGs"]
    assert running.seen[-1] == "Ctrl-C stops everything."


def test_the_connection_is_listed_in_the_ui_and_its_test_passes(running: Running) -> None:
    api = AirflowApi(running.banner()["Airflow UI"])
    connection = api.request("GET", "/api/v2/connections/foundry_default")
    fields = ("connection_id", "conn_type", "host", "login", "port", "extra")
    tested = api.request(
        "POST",
        "/api/v2/connections/test",
        {**{name: connection[name] for name in fields}, "password": "emulator-secret"},
    )
    assert tested == {"status": True, "message": f"Connected to {connection['host']} with oauth2 authentication."}


def test_the_ui_test_button_passes_for_the_stored_connection(running: Running) -> None:
    """The body Airflow 3.3's UI posts from the connection list's Test button: every field as listed (the
    password masked, empty fields as ""), the port as a number, 0 for none. Airflow alone refuses it ("The host
    or port to test differs"); the provider's API-server plugin drops the 0."""
    api = AirflowApi(running.banner()["Airflow UI"])
    listed = api.request("GET", "/api/v2/connections/foundry_default")
    fields = ("conn_type", "connection_id", "description", "extra", "host", "login", "password", "schema")
    body = {name: listed.get(name) or "" for name in fields} | {"port": listed.get("port") or 0}
    assert body["password"] != "emulator-secret"  # the UI never has the secret: the test runs on the stored one

    tested = api.request("POST", "/api/v2/connections/test", body)

    assert body["port"] == 0
    assert tested == {"status": True, "message": f"Connected to {listed['host']} with oauth2 authentication."}


def test_every_studio_the_example_dags_name_exists_in_the_emulator(running: Running) -> None:
    api = AirflowApi(running.banner()["Airflow UI"])
    run_id = api.trigger_dag_run("retrain_many")
    run = wait_until(
        "retrain_many to finish",
        lambda: (found := api.dag_run("retrain_many", run_id))["state"] in ("success", "failed") and found,
        START_SECONDS,
    )
    assert run["state"] == "success", failure_report(api, "retrain_many", run_id)


def failure_report(api: AirflowApi, dag_id: str, run_id: str) -> str:
    """Each task instance's state, and the end of the log of those that failed."""
    lines = []
    for ti in api.task_instances(dag_id, run_id):
        lines.append(f"{ti['task_id']}[{ti['map_index']}]: {ti['state']}, try {ti['try_number']}")
        if ti["state"] in ("failed", "up_for_retry"):
            events = api.task_log(dag_id, run_id, ti["task_id"], ti["try_number"], map_index=ti["map_index"])
            lines += [f"    {event.get('event')}" for event in events[-30:]]
    return "\n".join(lines)


def test_ctrl_c_stops_every_process_it_started_and_deletes_its_home(running: Running) -> None:
    home = Path(running.banner()["Service logs"]).parents[1]
    assert processes_in(home)

    os.killpg(running.process.pid, signal.SIGINT)

    assert running.process.wait(timeout=STOP_SECONDS) == 0
    assert processes_in(home) == []
    assert not home.exists()
