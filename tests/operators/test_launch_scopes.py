"""A launch that could start a run but not follow it is refused before anything is started: the token must be
able to read the build's status to wait, and to cancel it when ``cancel_on_kill``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.endpoints import REQUIRED_SCOPES
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from tests.conftest import emulator_connection
from tests.lifecycle_helpers import DEMO, FAST, context

TOKEN = "limited-token-1"


def without(*scopes: str) -> list[str]:
    return [scope for scope in REQUIRED_SCOPES if scope not in scopes]


@pytest.fixture
def token_without(emulator: FoundryEmulator, set_connection: Callable[..., str]) -> Callable[..., None]:
    def _token_without(*scopes: str) -> None:
        emulator.set_scenario({"static_tokens": {TOKEN: without(*scopes)}})
        emulator.add_studio(DEMO, duration_seconds=0.2)
        set_connection(host=emulator.url, password=TOKEN)

    return _token_without


def operator(**kwargs: Any) -> LaunchModelStudioOperator:
    return LaunchModelStudioOperator(task_id="train", model_studio_rid=DEMO, poll_interval=0.05, retry=FAST, **kwargs)


def test_a_token_that_cannot_read_builds_launches_nothing(
    emulator: FoundryEmulator, token_without: Callable[..., None]
) -> None:
    token_without("api:orchestration-read")

    with pytest.raises(AirflowFailException) as info:
        operator().execute(context())

    assert str(info.value) == (
        f"Not launching {DEMO}: connection 'foundry_default' lacks api:orchestration-read, to wait for the run. Use "
        "a token that carries it."
    )
    assert emulator.counters()["launches"] == {}


def test_a_token_that_cannot_cancel_launches_nothing_unless_cancelling_is_off(
    emulator: FoundryEmulator, token_without: Callable[..., None]
) -> None:
    token_without("api:orchestration-write")

    with pytest.raises(AirflowFailException) as info:
        operator().execute(context())
    assert str(info.value) == (
        f"Not launching {DEMO}: connection 'foundry_default' lacks api:orchestration-write, to cancel it on timeout "
        "or kill (or set cancel_on_kill=False). Use a token that carries it."
    )
    assert emulator.counters()["launches"] == {}

    result = operator(cancel_on_kill=False).execute(context())
    assert result["build_status"] == "SUCCEEDED"


def test_an_oauth2_connection_is_told_to_ask_for_the_scope(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(**emulator_connection(emulator, "oauth2", scopes=" ".join(without("api:orchestration-read"))))

    with pytest.raises(AirflowFailException) as info:
        operator().execute(context())

    assert str(info.value).endswith(
        "lacks api:orchestration-read, to wait for the run. Add it to the connection's OAuth2 scopes (or empty that "
        "field) and grant it to the application."
    )
    assert emulator.counters()["launches"] == {}


def test_a_launch_that_does_not_wait_needs_no_build_scope(
    emulator: FoundryEmulator, token_without: Callable[..., None]
) -> None:
    token_without("api:orchestration-read", "api:orchestration-write")

    result = operator(wait_for_completion=False).execute(context())

    assert emulator.counters()["launches"] == {DEMO: 1}
    assert result["build_status"] == "RUNNING"


def test_a_scope_check_that_gets_no_usable_answer_is_logged_and_the_launch_goes_on(
    emulator: FoundryEmulator, token_without: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    token_without()
    emulator.set_faults("get_builds_batch", rate_500=1.0)

    result = operator().execute(context())

    assert result["build_status"] == "SUCCEEDED"
    assert emulator.counters()["launches"] == {DEMO: 1}
    assert (
        "Could not check the connection's scopes before launching (Default:Internal: POST " in capsys.readouterr().out
    )
