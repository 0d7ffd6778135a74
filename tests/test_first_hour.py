"""The README's first hour, as written: the compatibility statement, the five-minute run, `airflow connections add`."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.settings import FoundrySettings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
AIRFLOW_REQUIREMENT = "apache-airflow>=3.1,<3.4"
README_PORT = "8765"
README_HOME = "/tmp/modelstudio-airflow"


def section(title: str) -> str:
    """The README's text from the heading ``title`` to the next heading of the same level."""
    level = title.split(" ", maxsplit=1)[0]
    start = README.index(f"\n{title}\n")
    end = README.find(f"\n{level} ", start + 1)
    return README[start : end if end > 0 else None]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


# Compatibility ----------------------------------------------------------------------------------------


def test_the_package_requires_the_airflow_versions_the_readme_states() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    airflow = [dep for dep in project["dependencies"] if re.match(r"apache-airflow\b", dep)]
    assert airflow == [AIRFLOW_REQUIREMENT]
    assert "Supported: Apache Airflow 3.1 to 3.3" in README
    assert README.count(f"`{AIRFLOW_REQUIREMENT}`") == 2  # the statement under the title, and Install


def test_the_airflow_under_test_is_within_the_stated_versions() -> None:
    from importlib.metadata import version

    from packaging.requirements import Requirement

    assert version("apache-airflow") in Requirement(AIRFLOW_REQUIREMENT).specifier


# Run it in five minutes ------------------------------------------------------------------------------


def test_the_five_minute_run_works_as_written(tmp_path: Path, start_emulator: Any) -> None:
    """The second terminal's commands, verbatim but for the port, the Airflow home and the venv activation."""
    first, second = bash_blocks(section("## Run it in five minutes"))
    assert f"python -m airflow_provider_modelstudio.emulator --port {README_PORT}" in first
    emulator = start_emulator()
    commands = [line for line in second.splitlines() if not line.startswith(". /tmp/modelstudio-venv/")]
    script = "\n".join(commands).replace(README_PORT, str(emulator.port)).replace(README_HOME, str(tmp_path))
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"

    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=110
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "new model version ri.models.main.model-version." in output
    assert "state=success" in output
    (run,) = emulator.runs("ri.models.main.model-studio.demo")
    assert run["buildStatus"] == "SUCCEEDED"


def test_the_five_minute_run_pastes_what_the_emulator_prints() -> None:
    pasted = [line for line in bash_blocks(section("## Run it in five minutes"))[1].splitlines() if "CONN" in line]
    printed = section("### From the command line")
    assert len(pasted) == 1
    assert f"\n{pasted[0]}\n" in printed


# airflow connections add ------------------------------------------------------------------------------


def connections_added() -> list[Connection]:
    """Each ``airflow connections add`` line of the README, as the Connection it stores."""
    (block,) = bash_blocks(section("### With `airflow connections add`"))
    found = []
    for line in block.splitlines():
        if not line.startswith("airflow connections add "):
            continue
        words = shlex.split(line)
        options = dict(zip(words[4::2], words[5::2], strict=True))
        found.append(
            Connection(
                conn_id=words[3],
                conn_type=options["--conn-type"],
                host=options["--conn-host"],
                port=int(options["--conn-port"]) if "--conn-port" in options else None,
                login=options.get("--conn-login"),
                password=options["--conn-password"],
                extra=options.get("--conn-extra"),
            )
        )
    return found


def test_the_readme_adds_a_connection_for_each_auth_mode_against_foundry_and_the_emulator() -> None:
    read = [FoundrySettings.from_connection(connection) for connection in connections_added()]
    assert [(settings.base_url, settings.auth_type) for settings in read] == [
        ("https://example.palantirfoundry.com", "token"),
        ("https://example.palantirfoundry.com", "oauth2"),
        (f"http://127.0.0.1:{README_PORT}", "token"),
        (f"http://127.0.0.1:{README_PORT}", "oauth2"),
    ]


@pytest.mark.parametrize("index", [2, 3])
def test_the_readmes_emulator_connections_pass_the_connection_test(
    index: int, start_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    emulator = start_emulator()
    added = connections_added()[index]
    stored = {
        "conn_type": added.conn_type,
        "host": added.host,
        "port": emulator.port,
        "login": added.login,
        "password": added.password,
        "extra": json.loads(added.extra or "{}"),
    }
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", json.dumps(stored))

    ok, message = ModelStudioHook().test_connection()

    assert ok, message
