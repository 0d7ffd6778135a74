"""The command line: what it prints, that it serves, and that it stops cleanly on a signal."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from airflow_provider_modelstudio.emulator import DEMO_STUDIO
from airflow_provider_modelstudio.emulator.scenario import ALL_SCOPES
from tests.emulator.helpers import PREVIEW, STUDIOS, TOKEN_PATH

COMMAND = [sys.executable, "-m", "airflow_provider_modelstudio.emulator"]
FIRST_LINE = re.compile(r"^Foundry emulator listening on (http://127\.0\.0\.1:(\d+))$")


@dataclass
class Cli:
    """The emulator's CLI in a subprocess, its stdout lines collected by a thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def read_line(self, timeout: float = 30) -> str:
        return self.lines.get(timeout=timeout)


@pytest.fixture
def cli() -> Iterator[Cli]:
    process = subprocess.Popen([*COMMAND, "--port", "0"], stdout=subprocess.PIPE, text=True)
    running = Cli(process)
    threading.Thread(target=running.collect, daemon=True).start()
    yield running
    if process.poll() is None:
        process.kill()
        process.wait()


def test_cli_serves_a_token_and_a_launch_then_stops_with_status_0_on_sigterm(cli: Cli) -> None:
    match = FIRST_LINE.match(cli.read_line())
    assert match, "unexpected first line"
    url = match.group(1)
    form = {"grant_type": "client_credentials", "client_id": "emulator-client", "client_secret": "emulator-secret"}
    token = httpx.post(url + TOKEN_PATH, data=form).json()["access_token"]
    launched = httpx.post(
        f"{url}{STUDIOS}/{DEMO_STUDIO}/launch", params=PREVIEW, headers={"Authorization": f"Bearer {token}"}
    )

    cli.process.send_signal(signal.SIGTERM)

    assert launched.json()["buildStatus"] == "RUNNING"
    assert cli.process.wait(timeout=10) == 0


def test_cli_stops_with_status_0_on_ctrl_c(cli: Cli) -> None:
    cli.read_line()

    cli.process.send_signal(signal.SIGINT)

    assert cli.process.wait(timeout=10) == 0


def test_cli_prints_the_airflow_connections_after_the_first_line(cli: Cli) -> None:
    match = FIRST_LINE.match(cli.read_line())
    assert match
    lines = [cli.read_line() for _ in range(4)]

    values = [
        json.loads(line.split("=", 1)[1].strip("'"))
        for line in lines
        if line.startswith("export AIRFLOW_CONN_FOUNDRY_DEFAULT=")
    ]

    assert values == [
        {"conn_type": "foundry", "host": match.group(1), "password": "emulator-token"},
        {
            "conn_type": "foundry",
            "host": match.group(1),
            "login": "emulator-client",
            "password": "emulator-secret",
            "extra": {"auth_type": "oauth2", "scopes": " ".join(ALL_SCOPES)},
        },
    ]


def test_cli_refuses_a_non_loopback_host_without_allow_remote() -> None:
    result = subprocess.run([*COMMAND, "--host", "0.0.0.0"], check=False, capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert "--allow-remote" in result.stderr


def test_cli_prints_the_scenario_file_it_was_given(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"seed": 42}), encoding="utf-8")

    result = subprocess.run(
        [*COMMAND, "--scenario", str(path), "--print-scenario"], check=False, capture_output=True, text=True, timeout=60
    )

    assert json.loads(result.stdout)["seed"] == 42


def test_cli_rejects_a_scenario_with_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"studio": {}}), encoding="utf-8")

    result = subprocess.run(
        [*COMMAND, "--scenario", str(path)], check=False, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert "unknown key 'studio'" in result.stderr


def test_cli_export_lines_connect_when_pasted_into_a_shell(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    cli.read_line()
    exports = [line for line in (cli.read_line() for _ in range(4)) if line.startswith("export ")]
    for line in exports:
        shell = subprocess.run(
            ["bash", "-c", f"{line}\nprintenv AIRFLOW_CONN_FOUNDRY_DEFAULT"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", shell.stdout.strip())
        ok, message = ModelStudioHook().test_connection()
        assert ok, (line, message)
    assert len(exports) == 2
