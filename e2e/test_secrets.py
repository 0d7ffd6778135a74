"""No secret reaches a file under ``AIRFLOW_HOME``: task and trigger logs, service logs, the database.

Runs last (see ``conftest.py``), after a launch of its own that ends in success, so that workers and the
triggerer have fetched and used tokens and every other test has written what it writes.
"""

from __future__ import annotations

import base64

from airflow_deployment import AirflowDeployment

from airflow_provider_modelstudio.emulator import CLIENT_ID, FoundryEmulator
from e2e.support import CLIENT_SECRET, ONE_LAUNCH_DAG, add_studio, finish_builds, wait_until_waiting_in_the_triggerer


def secrets_of_the_session(tokens: list[str]) -> dict[str, str]:
    """Label (safe to print) -> secret: the client secret, as itself and inside HTTP Basic, and every token."""
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    labelled = {"client secret": CLIENT_SECRET, "client secret in HTTP Basic": basic}
    labelled.update({f"access token #{number}": token for number, token in enumerate(tokens, start=1)})
    return labelled


def test_no_client_secret_or_access_token_is_written_under_airflow_home(
    airflow: AirflowDeployment, emulator: FoundryEmulator, issued_tokens: list[str]
) -> None:
    studio = add_studio(emulator, "secrets")
    run_id = airflow.api.trigger_dag_run(ONE_LAUNCH_DAG, {"model_studio_rid": studio})
    wait_until_waiting_in_the_triggerer(airflow, emulator, ONE_LAUNCH_DAG, run_id)
    finish_builds(airflow, emulator, ONE_LAUNCH_DAG, run_id)

    found = airflow.files_containing(secrets_of_the_session(issued_tokens))

    assert issued_tokens, "the emulator issued no access token: the connection did not use OAuth2"
    assert found == {}
