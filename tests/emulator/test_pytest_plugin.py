"""The pytest plugin, used the way a provider user would: ``pytest -p ...pytest_plugin`` on their own tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = textwrap.dedent(
    """
    import json
    import os
    import time

    import httpx

    DEMO = "ri.models.main.model-studio.demo"


    def test_demo_run_finishes_within_a_second(foundry_emulator):
        headers = {"Authorization": "Bearer emulator-token"}
        url = f"{foundry_emulator.url}/api/v2/models/modelStudios/{DEMO}/launch"
        run = httpx.post(url, params={"preview": "true"}, headers=headers).json()
        deadline = time.monotonic() + 1.0
        while foundry_emulator.build_finished_at(run["buildRid"]) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)


    def test_connection_variable_points_at_the_emulator(foundry_connection):
        assert json.loads(os.environ["AIRFLOW_CONN_FOUNDRY_DEFAULT"])["host"] == foundry_connection.url
    """
)


def test_plugin_fixtures_work_in_a_users_test_run(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "airflow_provider_modelstudio.emulator.pytest_plugin",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
