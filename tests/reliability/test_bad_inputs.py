"""Bad inputs and odd answers: each gets a clear error naming the field or value, or is handled.

"Clear" means the exception is the provider's own (``FoundryError``), Airflow's task failure
(``AirflowFailException``) or Airflow's own connection error, with a message that names what is wrong, and
never a ``KeyError``/``TypeError``/``AttributeError``/``JSONDecodeError``/... from deep inside.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import context, run_trigger

try:
    from airflow.sdk.exceptions import AirflowNotFoundException
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import AirflowNotFoundException  # type: ignore[attr-defined,no-redef]

STUDIO = "ri.models.main.model-studio.odd"
BUILD = "ri.foundry.main.build.0d0d0d0d-1111-2222-3333-444444444444"
RUN = {
    "runId": "a1b2c3d4e5f6",
    "buildRid": BUILD,
    "jobRid": "ri.foundry.main.job.1",
    "configVersion": 1,
    "startedBy": "f05f8da4-b84c-4fca-9c77-8af0b13d11de",
    "startedTime": "2025-05-06T12:34:56.789Z",
    "buildStatus": "RUNNING",
    "resolvedOutputs": {
        "model": {
            "type": "model",
            "modelRid": "ri.models.main.model.m",
            "modelVersionRid": "ri.models.main.model-version.v",
        }
    },
}
ONE_TRY = {"max_attempts": 2, "backoff_initial": 0.01, "backoff_max": 0.02, "max_elapsed": 2}
RUNS_PATH = f"/api/v2/models/modelStudios/{STUDIO}/runs"
LAUNCH_PATH = f"/api/v2/models/modelStudios/{STUDIO}/launch"
BUILD_PATH = f"/api/v2/orchestration/builds/{BUILD}"
BATCH_PATH = "/api/v2/orchestration/builds/getBatch"
TOKEN_PATH = "/multipass/api/oauth2/token"
CLEAR_TYPES = (FoundryError, AirflowFailException, AirflowNotFoundException)


def failure_of(action: Callable[[], Any]) -> BaseException:
    try:
        action()
    except Exception as exc:
        return exc
    raise AssertionError("no error was raised")


def assert_clear(exc: BaseException, *needles: str) -> None:
    """A clear failure: the provider's or Airflow's exception type, naming ``needles``, of readable length."""
    assert isinstance(exc, CLEAR_TYPES), f"raw {type(exc).__module__}.{type(exc).__name__}: {exc}"
    text = str(exc)
    for needle in needles:
        assert needle in text, f"{needle!r} not in the message: {text}"
    assert len(text) < 3000, f"a {len(text)}-character message"


def operator(**kwargs: Any) -> LaunchModelStudioOperator:
    kwargs.setdefault("model_studio_rid", STUDIO)
    kwargs.setdefault("poll_interval", 0.01)
    kwargs.setdefault("retry", ONE_TRY)
    return LaunchModelStudioOperator(task_id="launch", **kwargs)


# Task arguments --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "studio-42",
        "ri.models.main.model.x",
        "ri.foundry.main.build.x",
        "ri.models.main.model-studio.",
        "",
        "  ",
        42,
        None,
    ],
)
def test_a_malformed_studio_rid_is_refused_when_the_dag_is_parsed(value: Any) -> None:
    exc = failure_of(lambda: operator(model_studio_rid=value))
    assert isinstance(exc, FoundryConfigError)
    assert_clear(exc, f"model_studio_rid={value!r}", "ri.models.<instance>.model-studio.<locator>")


@pytest.mark.parametrize("value", ["ri.foundry.main.job.1", "build-7", "ri.models.main.model-studio.x"])
def test_a_malformed_build_rid_is_refused_by_the_sensor(value: str) -> None:
    exc = failure_of(lambda: ModelStudioRunSensor(task_id="wait", build_rid=value))
    assert_clear(exc, f"build_rid={value!r}")


def test_a_templated_rid_rendered_to_garbage_fails_the_task_before_any_request(
    foundry_emulator: FoundryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", foundry_emulator.connection_env())
    op = operator(model_studio_rid="{{ params.studio }}")
    op.model_studio_rid = "not a rid"  # what rendering produced
    assert_clear(failure_of(lambda: op.execute(context())), "model_studio_rid='not a rid'")
    assert foundry_emulator.counters()["requests"] == {}


def test_bad_rids_given_to_the_hook_name_the_argument() -> None:
    hook = ModelStudioHook(retry=ONE_TRY)
    assert_clear(failure_of(lambda: hook.get_model_version("m", "ri.models.main.model-version.v")), "model_rid='m'")
    assert_clear(failure_of(lambda: hook.get_builds([BUILD, "nope"])), "build_rids='nope'")
    assert_clear(failure_of(lambda: hook.cancel_build("ri.models.main.model.x")), "build_rid=")


def test_a_misspelt_retry_setting_is_named(foundry_emulator: FoundryEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", foundry_emulator.connection_env())
    exc = failure_of(lambda: operator(retry={"max_attempt": 3}).execute(context()))
    assert_clear(exc, "max_attempt")
    event = run_trigger(ModelStudioRunTrigger(build_rid=BUILD, retry={"max_attempt": 3}))
    assert event["kind"] == "error"
    assert "max_attempt" in event["message"]


# Connections ---------------------------------------------------------------------------------------------

BAD_CONNECTIONS: list[Any] = [
    pytest.param({"host": ""}, "host is empty", id="empty host"),
    pytest.param({"host": "   "}, "host is empty", id="blank host"),
    pytest.param({"host": "https://"}, "host='https://'", id="scheme only"),
    pytest.param({"host": "example.com/api"}, "path", id="host with a path"),
    pytest.param({"host": "https://example.com?x=1"}, "query", id="host with a query"),
    pytest.param({"host": "ftp://example.com"}, "host='ftp://example.com'", id="ftp scheme"),
    pytest.param({"host": "http://example.com"}, "http://", id="plain http to a remote host"),
    pytest.param({"host": "example.com:99999"}, "invalid port", id="port out of range"),
    pytest.param({"host": "user:pw@example.com"}, "credentials", id="credentials in the host"),
    pytest.param(
        {"host": "[::1"},
        "host='[::1'",
        id="unclosed IPv6 bracket",
    ),
    pytest.param(
        {"host": "example..com"},
        "host='example..com'",
        id="empty label",
    ),
    pytest.param(
        {"host": "exa mple.com"},
        "host='exa mple.com'",
        id="space in the hostname",
    ),
    pytest.param({"conn_type": "http"}, "'http'", id="wrong connection type"),
    pytest.param({"password": ""}, "password", id="static token missing"),
    pytest.param({"extra": {"auth_type": "oauth2"}}, "login (client id)", id="oauth2 without client id"),
    pytest.param({"login": "client", "password": ""}, "password", id="oauth2 without secret"),
    pytest.param({"extra": {"timout": 5}}, "'timout'", id="misspelt extra field"),
    pytest.param({"extra": {"timeout": "fast"}}, "timeout='fast'", id="timeout not a number"),
    pytest.param({"extra": {"timeout": 0}}, "timeout=0", id="timeout zero"),
    pytest.param({"extra": {"auth_type": "basic"}}, "auth_type='basic'", id="unknown auth type"),
    pytest.param({"extra": {"scopes": 42}}, "scopes=42", id="scopes not a string"),
    pytest.param({"extra": {"verify": "maybe"}}, "verify='maybe'", id="verify not a boolean"),
    pytest.param({"extra": {"build_url_template": "{nope}"}}, "build_url_template", id="bad link template"),
]


def connection_with(change: dict[str, Any]) -> str:
    connection: dict[str, Any] = {"conn_type": "foundry", "host": "example.palantirfoundry.com", "password": "t0k3n"}
    connection.update(change)
    return json.dumps(connection)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("change", "needle"), BAD_CONNECTIONS)
def test_a_bad_connection_fails_the_task_naming_the_field(
    change: dict[str, Any], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", connection_with(change))
    exc = failure_of(lambda: operator().execute(context()))
    assert_clear(exc, needle, "foundry_default")
    assert "t0k3n" not in str(exc)
    if "@" in str(change.get("host")):
        assert "pw" not in str(exc).replace("password", "")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("change", "needle"), [p for p in BAD_CONNECTIONS if not p.marks])
def test_a_bad_connection_ends_a_deferred_wait_with_an_error_event(
    change: dict[str, Any], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", connection_with(change))
    event = run_trigger(ModelStudioRunTrigger(build_rid=BUILD, poll_interval=0.01, retry=ONE_TRY))
    assert event["kind"] == "error"
    assert needle in event["message"]
    assert "t0k3n" not in json.dumps(event)


def test_a_missing_connection_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_FOUNDRY_MISSING", raising=False)
    exc = failure_of(lambda: operator(foundry_conn_id="foundry_missing").execute(context()))
    assert_clear(exc, "foundry_missing")


# Odd answers from the emulator's fault injection ---------------------------------------------------------


@pytest.fixture
def on_emulator(foundry_emulator: FoundryEmulator, monkeypatch: pytest.MonkeyPatch) -> FoundryEmulator:
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", foundry_emulator.connection_env("oauth2"))
    foundry_emulator.add_studio(STUDIO, duration_seconds=3600)
    return foundry_emulator


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("fault", "needles"),
    [
        ({"rate_html": 1.0}, ("502", "HTML page", "proxy")),
        ({"rate_truncated_json": 1.0}, ("not complete JSON",)),
        ({"rate_500": 1.0}, ("500", "errorInstanceId")),
        ({"rate_429": 1.0, "retry_after_seconds": 0}, ("429", "rate-limited")),
        ({"rate_503": 1.0, "do_not_retry_hint": True}, ("503",)),
    ],
    ids=["HTML error page", "truncated JSON", "500 envelope", "429 always", "503 do-not-retry"],
)
def test_status_checks_that_never_succeed_fail_clearly_in_both_paths(
    on_emulator: FoundryEmulator, fault: dict[str, Any], needles: tuple[str, ...]
) -> None:
    on_emulator.set_faults("get_build", **fault)
    on_emulator.set_faults("get_builds_batch", **fault)
    exc = failure_of(lambda: operator(deferrable=False).execute(context()))
    assert_clear(exc, *needles, "/api/v2/orchestration/builds/")
    (run,) = on_emulator.runs(STUDIO)
    trigger = ModelStudioRunTrigger(
        build_rid=run["buildRid"], poll_interval=0.01, retry=ONE_TRY, max_consecutive_failures=2
    )
    event = run_trigger(trigger)
    assert event["kind"] == "error"
    for needle in needles:
        assert needle in event["message"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "fault", [{"rate_truncated_json": 1.0}, {"rate_html": 1.0}], ids=["truncated JSON", "HTML error page"]
)
def test_a_token_endpoint_that_never_answers_properly_fails_clearly(
    on_emulator: FoundryEmulator, fault: dict[str, Any]
) -> None:
    on_emulator.set_faults("oauth2_token", **fault)
    assert_clear(failure_of(lambda: operator().execute(context())), TOKEN_PATH)
    event = run_trigger(ModelStudioRunTrigger(build_rid=BUILD, poll_interval=0.01, retry=ONE_TRY))
    assert event["kind"] == "error"
    assert TOKEN_PATH in event["message"]


@pytest.mark.timeout(30)
def test_unknown_statuses_are_waited_on_until_a_final_one(on_emulator: FoundryEmulator) -> None:
    (run,) = on_emulator.create_runs(STUDIO, 1)
    rid = run["buildRid"]
    on_emulator.set_build_status(rid, "QUEUED")

    async def wait_then_finish() -> dict[str, Any]:
        waiting = asyncio.ensure_future(run_first(ModelStudioRunTrigger(build_rid=rid, poll_interval=0.01)))
        for _ in range(500):
            if sum(on_emulator.counters()["requests"].get("get_builds_batch", {}).values()) >= 3 or waiting.done():
                break
            await asyncio.sleep(0.01)
        assert not waiting.done(), "an unknown status ended the wait"
        on_emulator.set_build_status(rid, "WAITING_FOR_RESOURCES")
        await asyncio.sleep(0.05)
        on_emulator.set_build_status(rid, "SUCCEEDED")
        return await asyncio.wait_for(waiting, 10)

    event = asyncio.run(wait_then_finish())
    assert (event["kind"], event["status"]) == ("final", "SUCCEEDED")


async def run_first(trigger: ModelStudioRunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("no event")


@pytest.mark.timeout(30)
def test_a_build_foundry_no_longer_returns_ends_the_deferred_wait_with_an_error(on_emulator: FoundryEmulator) -> None:
    event = run_trigger(
        ModelStudioRunTrigger(build_rid=BUILD, poll_interval=0.01, retry=ONE_TRY, max_consecutive_failures=3)
    )
    assert event["kind"] == "error"
    assert BUILD in event["message"]


# Odd answers from a scripted server ----------------------------------------------------------------------


@pytest.fixture
def odd(stub_foundry: Any, set_connection: Callable[..., str]) -> Any:
    """A scripted Foundry with an empty studio whose launch returns :data:`RUN`; tests script the rest."""
    set_connection("foundry_default", host=stub_foundry.url, password="t0k3n")
    stub_foundry.on("GET", RUNS_PATH, (200, {"data": []}, {}))
    stub_foundry.on("POST", LAUNCH_PATH, (200, RUN, {}))
    return stub_foundry


def finished_build(**extra: Any) -> dict[str, Any]:
    return {"rid": BUILD, "status": "SUCCEEDED", "finishedTime": "2025-05-06T13:00:00.000Z", **extra}


@pytest.mark.timeout(30)
def test_a_5_mb_build_answer_is_read(odd: Any) -> None:
    odd.on("GET", BUILD_PATH, (200, finished_build(padding="x" * 5_000_000, unknownField={"a": [1, 2]}), {}))
    result = operator().execute(context())
    assert (result["build_status"], result["model_version_rid"]) == ("SUCCEEDED", "ri.models.main.model-version.v")


@pytest.mark.timeout(30)
def test_a_5_mb_html_error_page_gives_a_short_message(odd: Any) -> None:
    page = b"<html><body>" + b"<p>Bad gateway</p>" * 300_000 + b"</body></html>"
    odd.on("GET", BUILD_PATH, (502, page, {"Content-Type": "text/html"}))
    exc = failure_of(lambda: operator().execute(context()))
    assert_clear(exc, "502", "HTML page")


@pytest.mark.timeout(30)
def test_a_runs_list_of_thousands_of_runs_over_many_pages_is_read(odd: Any) -> None:
    earlier = [{**RUN, "runId": f"old{i:05d}", "buildRid": f"ri.foundry.main.build.old{i}"} for i in range(3000)]
    pages = [
        (200, {"data": earlier[i : i + 100], **({"nextPageToken": f"p{i + 100}"} if i + 100 < 3000 else {})}, {})
        for i in range(0, 3000, 100)
    ]
    odd.on("GET", RUNS_PATH, *pages)
    odd.on("GET", BUILD_PATH, (200, finished_build(), {}))
    result = operator().execute(context())
    assert result["run_id"] == RUN["runId"]
    assert len(odd.requests_to(RUNS_PATH)) == 30


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "outputs",
    [{"model": {"type": "dataset", "rid": "ri.foundry.main.dataset.d"}}, {"model": "not an object"}, None, []],
    ids=["unknown output type", "output not an object", "null outputs", "outputs a list"],
)
def test_odd_resolved_outputs_fail_only_for_the_missing_model_version(odd: Any, outputs: Any) -> None:
    odd.on("POST", LAUNCH_PATH, (200, {**RUN, "resolvedOutputs": outputs}, {}))
    odd.on("GET", BUILD_PATH, (200, finished_build(), {}))
    assert_clear(failure_of(lambda: operator().execute(context())), "resolved no model output")
    result = operator(fail_on_missing_model_output=False).execute(context())
    assert result["build_status"] == "SUCCEEDED"
    assert result["model_version_rid"] is None


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "answer",
    [(200, None, {}), (200, {}, {}), (200, [], {}), (200, {"runId": "x"}, {}), (200, {**RUN, "buildRid": 7}, {})],
    ids=["empty body", "empty object", "a list", "no buildRid", "buildRid not a string"],
)
def test_a_launch_answer_that_is_not_a_run_fails_clearly(odd: Any, answer: Any) -> None:
    odd.on("POST", LAUNCH_PATH, answer)
    assert_clear(failure_of(lambda: operator().execute(context())), "buildRid")


@pytest.mark.timeout(30)
def test_a_404_without_body_says_the_endpoint_does_not_exist(odd: Any) -> None:
    odd.on("POST", LAUNCH_PATH, (404, None, {}))
    assert_clear(failure_of(lambda: operator().execute(context())), "404", "does not exist on this Foundry")


@pytest.mark.timeout(30)
def test_an_error_envelope_with_odd_fields_is_read(odd: Any) -> None:
    envelope = {"errorCode": "INVALID_ARGUMENT", "errorName": None, "errorInstanceId": 12, "parameters": "x" * 10_000}
    odd.on("POST", LAUNCH_PATH, (400, envelope, {}))
    assert_clear(failure_of(lambda: operator().execute(context())), "400", "errorInstanceId 12")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("retry_after", ["soon", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "nan", ""])
def test_an_unreadable_or_past_retry_after_is_ridden_out(odd: Any, retry_after: str) -> None:
    odd.on("GET", BUILD_PATH, (429, None, {"Retry-After": retry_after}), (200, finished_build(), {}))
    assert operator().execute(context())["build_status"] == "SUCCEEDED"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("retry_after", ["86400", "1e9999", "Fri, 01 Jan 9999 00:00:00 GMT"])
def test_a_retry_after_beyond_the_retry_budget_fails_at_once_instead_of_sleeping(odd: Any, retry_after: str) -> None:
    odd.on("GET", BUILD_PATH, (429, None, {"Retry-After": retry_after}))
    assert_clear(failure_of(lambda: operator().execute(context())), "429")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "answer",
    [(200, {"access_token": 123}, {}), (200, {"token_type": "bearer"}, {}), (200, b"<html>login</html>", {})],
    ids=["token not a string", "no access_token", "an HTML login page"],
)
def test_an_odd_token_answer_fails_clearly(odd: Any, set_connection: Callable[..., str], answer: Any) -> None:
    set_connection("foundry_default", host=odd.url, login="client", password="s3cr3t", extra={"auth_type": "oauth2"})
    odd.on("POST", TOKEN_PATH, answer)
    exc = failure_of(lambda: operator().execute(context()))
    assert_clear(exc, TOKEN_PATH if answer[1] == b"<html>login</html>" else "access_token")
    assert "s3cr3t" not in str(exc)


@pytest.mark.timeout(30)
def test_a_getbatch_answer_without_data_ends_the_deferred_wait_with_an_error(odd: Any) -> None:
    odd.on("POST", BATCH_PATH, (200, {"data": None}, {}))
    event = run_trigger(ModelStudioRunTrigger(build_rid=BUILD, poll_interval=0.01, max_consecutive_failures=2))
    assert event["kind"] == "error"
    assert BUILD in event["message"]


@pytest.mark.timeout(30)
def test_deeply_nested_json_ends_the_deferred_wait_with_an_error(odd: Any) -> None:
    odd.on("POST", BATCH_PATH, (200, b"[" * 100_000 + b"]" * 100_000, {}))
    event = run_trigger(ModelStudioRunTrigger(build_rid=BUILD, poll_interval=0.01, retry=ONE_TRY))
    assert event["kind"] == "error"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((200, None, {}), id="empty body"),
        pytest.param((200, "RUNNING", {}), id="a JSON string"),
        pytest.param((200, [finished_build()], {}), id="a JSON list"),
        pytest.param(
            (200, b"[" * 100_000 + b"]" * 100_000, {}),
            id="deeply nested JSON",
        ),
        pytest.param((200, {"status": None}, {}), id="null status"),
    ],
)
def test_a_build_answer_that_is_not_a_build_fails_clearly_or_is_waited_on(odd: Any, answer: Any) -> None:
    odd.on("GET", BUILD_PATH, answer, answer, (200, finished_build(), {}))
    sensor = ModelStudioRunSensor(
        task_id="wait", build_rid=BUILD, poke_interval=0.01, timeout=5, fail_on_missing_model_output=False
    )
    for task in (operator(), sensor):
        try:
            task.execute(context())
        except Exception as exc:
            assert_clear(exc, BUILD)
        odd.on("GET", BUILD_PATH, answer, answer, (200, finished_build(), {}))
