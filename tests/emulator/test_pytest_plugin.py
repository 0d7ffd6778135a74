"""The pytest plugin, used the way a provider user would: ``pytest -p ...pytest_plugin`` on their own tests."""

from __future__ import annotations

import os
import re
import shutil
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


# dag.test(), the way the README tells users -----------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
README_SECTION = "### Your DAGs with `dag.test()`"


def readme_python_blocks(section: str, count: int) -> list[str]:
    """The first ``count`` Python blocks of a README section, verbatim."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    body = text[text.index(section) :]
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    return blocks[:count]


def user_environment() -> dict[str, str]:
    """This process's environment without Airflow's settings (this suite sets its own AIRFLOW_HOME)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}


def test_the_readmes_dag_test_example_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    conftest, tests = readme_python_blocks(README_SECTION, 2)
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    (tmp_path / "dags").mkdir()
    shutil.copy(REPO / "example_dags" / "quickstart.py", tmp_path / "dags" / "quickstart.py")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_quickstart.py").write_text(tests, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=user_environment(),
        timeout=110,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout


def test_a_dags_folder_that_does_not_exist_fails_saying_how_to_point_at_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["airflow_provider_modelstudio.emulator.pytest_plugin"]\n', encoding="utf-8"
    )
    (tmp_path / "test_dags.py").write_text("def test_dags(airflow_dags):\n    pass\n", encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=user_environment(),
        timeout=110,
    )

    assert result.returncode == 1
    assert f"No DAGs folder at {tmp_path.resolve() / 'dags'}" in result.stdout
    assert "def airflow_dags_folder():" in result.stdout


def test_airflow_imported_before_airflow_home_was_set_fails_instead_of_writing_into_the_users_home(
    tmp_path: Path,
) -> None:
    (tmp_path / "conftest.py").write_text(
        'import airflow.configuration\n\npytest_plugins = ["airflow_provider_modelstudio.emulator.pytest_plugin"]\n',
        encoding="utf-8",
    )
    (tmp_path / "test_db.py").write_text("def test_db(airflow_db):\n    pass\n", encoding="utf-8")
    env = {**user_environment(), "HOME": str(tmp_path / "home")}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=110,
    )

    assert result.returncode == 1
    assert "Airflow was imported before AIRFLOW_HOME was set" in result.stdout
    assert not (tmp_path / "home" / "airflow" / "airflow.db").exists()
