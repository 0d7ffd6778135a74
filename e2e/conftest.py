"""Fixtures of the deployment test: one emulator and one Airflow deployment for the whole session.

The emulator runs in this process (its clock and counters are read directly); Airflow's four services run as
separate processes on a temporary ``AIRFLOW_HOME`` and are stopped after the last test, or on Ctrl-C. The
OAuth2 client has a secret made for this session, and every access token the emulator issues is recorded, so
that the secrets test knows exactly what must never reach a file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from airflow_deployment import AirflowDeployment, stop_signals_interrupt  # noqa: E402

from airflow_provider_modelstudio.emulator import CLIENT_ID, FoundryEmulator, Scenario  # noqa: E402
from airflow_provider_modelstudio.emulator.scenario import ClientSettings  # noqa: E402
from airflow_provider_modelstudio.emulator.state import EmulatorState  # noqa: E402
from e2e.support import CANCEL_DELAY_SECONDS, CLIENT_SECRET, DAG_IDS  # noqa: E402

DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
# Builds last BUILD_SECONDS and tests advance the clock by that much each time: tokens must outlive it all.
TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600.0
SECRETS_TEST_MODULE = "test_secrets.py"
TEST_TIMEOUT_SECONDS = 600
# The example DAG in dags/ (retrain_then_deploy.py, a link to example_dags/) checks its waits this often.
POLL_SECONDS = "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the secrets test last, so that it searches what every other test wrote; give each test time for a
    deployment start and a scenario (each wait inside has its own, shorter, limit)."""
    items.sort(key=lambda item: item.path.name == SECRETS_TEST_MODULE)
    for item in items:
        item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def issued_tokens() -> Iterator[list[str]]:
    """Every access token the emulator issues during the session, in order."""
    tokens: list[str] = []
    issue = EmulatorState.issue_token

    def recording_issue(
        state: EmulatorState, form: Mapping[str, str], basic_credentials: tuple[str, str] | None
    ) -> dict[str, object]:
        answer = issue(state, form, basic_credentials)
        tokens.append(str(answer["access_token"]))
        return answer

    with mock.patch.object(EmulatorState, "issue_token", recording_issue):
        yield tokens


@pytest.fixture(scope="session")
def emulator(issued_tokens: list[str]) -> Iterator[FoundryEmulator]:
    """The Foundry emulator on loopback, in real time; tests add their own studios."""
    scenario = Scenario(
        token_lifetime_seconds=TOKEN_LIFETIME_SECONDS,
        cancel_delay_seconds=CANCEL_DELAY_SECONDS,
        clients={CLIENT_ID: ClientSettings(secret=CLIENT_SECRET)},
    )
    with FoundryEmulator(scenario) as running:
        yield running


@pytest.fixture(scope="session")
def airflow(emulator: FoundryEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowDeployment]:
    """Airflow's api-server, scheduler, dag-processor and triggerer, with the e2e DAGs parsed."""
    deployment = AirflowDeployment(
        home=tmp_path_factory.mktemp("airflow-home"),
        dags_folder=DAGS_FOLDER,
        connection=emulator.connection("oauth2"),
        extra_env={"MODELSTUDIO_POLL_SECONDS": POLL_SECONDS},
    )
    with stop_signals_interrupt(), deployment:
        deployment.wait_for_dags(DAG_IDS)
        yield deployment
