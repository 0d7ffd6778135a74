"""`make demo`: run the example DAG ``retrain_then_deploy`` against a local Foundry emulator.

Starts the emulator on a free loopback port, points a throw-away Airflow (``.airflow-demo/``, SQLite) at
it, runs ``airflow dags test retrain_then_deploy`` (the deferred wait runs its trigger inline), then reads
Airflow's own record of the run (the metadata database) and prints a short summary. Airflow's output goes
to ``.airflow-demo/demo.log``; its tail is shown when something went wrong. The emulator is always stopped.

    python scripts/demo.py                      # a training run that succeeds
    python scripts/demo.py --scenario failure   # a training run that fails, and how the DAG reports it

Exit status 0 when the DAG ended the way the scenario expects, 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import queue
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from airflow_provider_modelstudio.emulator import ADMIN_HEADERS

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / ".airflow-demo"
LOG = HOME / "demo.log"
DAG_ID = "retrain_then_deploy"
LAUNCH_TASK = "launch_training"
STUDIOS = {
    "success": "ri.models.main.model-studio.demo",
    "failure": "ri.models.main.model-studio.demo-fails",
}
EMULATOR_BANNER = "Foundry emulator listening on "
EMULATOR_TOKEN = "emulator-token"
POLL_SECONDS = "1"  # the emulator's runs take 5 s; real ones want the DAG's default of 30 s
START_TIMEOUT = 60.0
DAG_TEST_TIMEOUT = 240.0
TAIL_LINES = 30
# The line of a traceback that names the exception, e.g. "airflow.sdk.exceptions.AirflowFailException: ..."
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(?:AirflowFailException|\w+(?:Error|Exception)): (?P<message>.+)$")


class DemoError(Exception):
    """Something outside the DAG went wrong (the emulator, Airflow's database, a timeout)."""


def say(text: str = "") -> None:
    print(text, flush=True)


def field_line(label: str, value: object) -> None:
    say(f"  {label:<20} {value}")


def wrapped(text: str, indent: int = 4) -> str:
    pad = " " * indent
    return textwrap.fill(
        text, width=100, initial_indent=pad, subsequent_indent=pad, break_long_words=False, break_on_hyphens=False
    )


# The emulator ---------------------------------------------------------------------------------------------


@contextmanager
def emulator(log: IO[str]) -> Iterator[str]:
    """Start ``python -m airflow_provider_modelstudio.emulator --port 0``; yield its URL; always stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_modelstudio.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    try:
        yield _emulator_url(proc, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _emulator_url(proc: subprocess.Popen[str], log: IO[str]) -> str:
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump(stream: IO[str]) -> None:  # keeps the pipe drained for as long as the emulator runs
        for line in stream:
            lines.put(line)
            log.write(f"[emulator] {line}")
        lines.put("")

    threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
    try:
        first = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        raise DemoError(f"the emulator printed nothing within {START_TIMEOUT:g} s") from None
    if not first.startswith(EMULATOR_BANNER):
        raise DemoError(f"the emulator did not start (exit status {proc.poll()}); first line: {first!r}")
    return first[len(EMULATOR_BANNER) :].strip()


def emulator_get(url: str, path: str) -> Any:
    request = urllib.request.Request(url + path, headers=dict(ADMIN_HEADERS))
    with urllib.request.urlopen(request, timeout=10) as answer:  # loopback only
        return json.load(answer)


# Airflow ------------------------------------------------------------------------------------------------


def airflow_env(emulator_url: str) -> dict[str, str]:
    """This process's environment without any Airflow setting of the user's, plus the demo's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    connection = {"conn_type": "foundry", "host": emulator_url, "password": EMULATOR_TOKEN}
    env.update(
        AIRFLOW_HOME=str(HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_CONN_FOUNDRY_DEFAULT=json.dumps(connection),
        MODELSTUDIO_POLL_SECONDS=POLL_SECONDS,
    )
    return env


def run_airflow(args: list[str], env: dict[str, str], log: IO[str], timeout: float) -> int:
    log.write(f"\n$ airflow {' '.join(args)}\n")
    log.flush()
    try:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            timeout=timeout,
            check=False,
        ).returncode
    except subprocess.TimeoutExpired:
        raise DemoError(f"`airflow {args[0]} {args[1]}` did not finish within {timeout:g} s") from None


def prepare_database(env: dict[str, str], log: IO[str]) -> str:
    """Migrate the demo's SQLite database unless it was already migrated by this Airflow version."""
    version = importlib.metadata.version("apache-airflow")
    stamp = HOME / ".migrated"
    if (HOME / "airflow.db").exists() and stamp.exists() and stamp.read_text().strip() == version:
        return "ready"
    started = time.monotonic()
    if run_airflow(["db", "migrate"], env, log, timeout=180) != 0:
        raise DemoError("`airflow db migrate` failed")
    stamp.write_text(version + "\n")
    return f"migrated for Airflow {version} in {time.monotonic() - started:.0f} s"


# What Airflow recorded ---------------------------------------------------------------------------------


@dataclass
class Record:
    """The demo's DAG run as Airflow's metadata database has it."""

    run_id: str
    state: str
    seconds: float | None
    tasks: dict[str, str]
    launch: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None


def last_dag_run_id(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM dag_run").fetchone()[0])


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def read_record(db: Path, after_id: int) -> Record:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT run_id, state, start_date, end_date FROM dag_run WHERE dag_id = ? AND id > ? "
            "ORDER BY id DESC LIMIT 1",
            (DAG_ID, after_id),
        ).fetchone()
        if row is None:
            raise DemoError("Airflow recorded no new run of the DAG")
        run_id, state, start, end = row
        tasks = dict(
            conn.execute(
                "SELECT task_id, coalesce(state, 'none') FROM task_instance WHERE dag_id = ? AND run_id = ? "
                "ORDER BY priority_weight DESC, task_id",
                (DAG_ID, run_id),
            ).fetchall()
        )
        xcoms = {
            key: json.loads(value) if isinstance(value, str) else value
            for key, value in conn.execute(
                "SELECT key, value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = -1",
                (DAG_ID, run_id, LAUNCH_TASK),
            ).fetchall()
        }
    result = xcoms.pop("return_value", None)
    return Record(run_id, state, _seconds(start, end), tasks, launch=xcoms, result=result)


def failure_message(log_path: Path) -> str | None:
    """The message of the last exception in Airflow's output (Airflow keeps no error text in its database)."""
    found = None
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = EXCEPTION_LINE.match(line.strip())
        if match:
            found = match["message"]
    return found


def tail(log_path: Path, lines: int = TAIL_LINES) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(line[:300] for line in text[-lines:])


# The demo ----------------------------------------------------------------------------------------------


def summarize(record: Record, emulator_url: str, studio: str) -> list[str]:
    """Print what Airflow recorded; return the problems found (empty: the run went as its scenario expects)."""
    problems = []
    result = record.result or {}
    launch = {**record.launch, **result}
    say()
    field_line("DAG run", f"{record.run_id}")
    field_line("state", f"{record.state}" + (f" after {record.seconds:.1f} s" if record.seconds is not None else ""))
    for task_id, state in record.tasks.items():
        field_line(f"  {task_id}", state)
    field_line("Model Studio", studio)
    field_line("training run", launch.get("run_id") or "(none: the launch did not happen)")
    build_status = result.get("build_status")
    if build_status is None and launch.get("build_rid"):
        build = emulator_get(emulator_url, "/_emulator/builds").get(launch["build_rid"], {})
        build_status = f"{build.get('status')} (from the emulator: a failed task returns no result)"
    field_line("build status", build_status or "unknown")
    field_line("new model version", result.get("model_version_rid") or "none")
    if launch.get("build_url"):
        field_line("build link", launch["build_url"])
    if launch.get("run_id"):
        runs = emulator_get(emulator_url, f"/_emulator/runs?studioRid={studio}")
        emulated = next((r for r in runs if r.get("runId") == launch["run_id"]), None)
        version = ((emulated or {}).get("resolvedOutputs") or {}).get("model", {}).get("modelVersionRid")
        if emulated is None:
            problems.append(f"the emulator has no run {launch['run_id']} of {studio}")
        elif version != launch.get("model_version_rid"):
            problems.append(f"Airflow recorded model version {launch.get('model_version_rid')}, the emulator {version}")
        else:
            agrees = f"made model version {version}" if result else f"is {emulated.get('buildStatus')}"
            field_line("cross-check", f"the emulator's run {emulated['runId']} {agrees}")
    return problems


def check_success(record: Record) -> list[str]:
    problems = []
    if record.state != "success":
        problems.append(f"the DAG run ended {record.state}")
    result = record.result or {}
    if result.get("build_status") != "SUCCEEDED":
        problems.append(f"the training build is {result.get('build_status')}, not SUCCEEDED")
    if not str(result.get("model_version_rid") or "").startswith("ri.models."):
        problems.append("the launch task returned no model version RID")
    return problems


def check_expected_failure(record: Record, message: str | None) -> list[str]:
    problems = []
    if record.state != "failed":
        problems.append(f"the DAG run ended {record.state}, but this scenario expects it to fail")
    if record.tasks.get(LAUNCH_TASK) != "failed":
        problems.append(f"{LAUNCH_TASK} is {record.tasks.get(LAUNCH_TASK)}, not failed")
    if not message or "ended FAILED" not in message:
        problems.append(f"the failure message does not say the training run ended FAILED: {message!r}")
    downstream = {t: s for t, s in record.tasks.items() if t != LAUNCH_TASK}
    if any(state != "upstream_failed" for state in downstream.values()):
        problems.append(f"tasks after the launch should not run: {downstream}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(STUDIOS), default="success", help="default: %(default)s")
    scenario = parser.parse_args(argv).scenario
    studio = STUDIOS[scenario]
    HOME.mkdir(exist_ok=True)
    started = time.monotonic()
    say(f"Model Studio demo ({scenario}): DAG {DAG_ID} on Airflow {importlib.metadata.version('apache-airflow')}")
    say(f"  against a local Foundry emulator; Airflow's output goes to {LOG.relative_to(REPO)}")
    with LOG.open("w", encoding="utf-8") as log:
        try:
            with emulator(log) as url:
                field_line("Foundry emulator", url)
                env = airflow_env(url)
                field_line("Airflow database", prepare_database(env, log))
                before = last_dag_run_id(HOME / "airflow.db")
                args = ["dags", "test", DAG_ID]
                if scenario == "failure":
                    args += ["-c", json.dumps({"model_studio_rid": studio})]
                say(f"  running              airflow {' '.join(args)}")
                exit_status = run_airflow(args, env, log, timeout=DAG_TEST_TIMEOUT)
                log.flush()
                record = read_record(HOME / "airflow.db", before)
                problems = summarize(record, url, studio)
        except DemoError as exc:
            log.flush()
            say(f"\nThe demo could not run: {exc}.\nLast lines of {LOG.relative_to(REPO)}:\n{tail(LOG)}")
            return 1
        except KeyboardInterrupt:
            say("\nInterrupted; the emulator was stopped.")
            return 130
    if scenario == "success":
        problems += check_success(record)
        if exit_status != 0 and not problems:
            problems.append(f"`airflow dags test` exited with status {exit_status}")
    else:
        message = failure_message(LOG)
        say(f"\n  {LAUNCH_TASK} failed with:\n{wrapped(message or '(no message found in the log)')}")
        problems += check_expected_failure(record, message)
    elapsed = time.monotonic() - started
    if problems:
        say("\nDemo FAILED:\n" + "\n".join(f"  - {p}" for p in problems))
        say(f"\nLast lines of {LOG.relative_to(REPO)}:\n{tail(LOG)}")
        return 1
    if scenario == "success":
        say(f"\nDemo succeeded in {elapsed:.0f} s: the DAG trained, checked and handed on a new model version.")
    else:
        say(
            f"\nDemo succeeded in {elapsed:.0f} s: the DAG failed the expected way. The training run ended FAILED, "
            f"{LAUNCH_TASK} failed with Foundry's verdict and a link to the build, and nothing downstream ran."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
