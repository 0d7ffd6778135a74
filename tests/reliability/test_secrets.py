"""No access token and no client secret anywhere a user or another system can see after full task runs.

Looked at: everything written to stdout/stderr (file-descriptor level) and every log record at DEBUG,
XCom pushes and return values, rendered template fields, exception messages, reprs and tracebacks, the
hook's, its settings' and the operator's reprs, and the triggers' serialised form (what the database keeps).
The tokens compared against are the ones the emulator issued, recorded where it makes them.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import CLIENT_SECRET, DEMO_FAILS_STUDIO, DEMO_STUDIO
from airflow_provider_modelstudio.foundry.auth import TOKEN_CACHE
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor
from tests.conftest import StartEmulator
from tests.lifecycle_helpers import StateStore, TaskDeferred, context, run_trigger
from tests.reliability.conftest import UseEmulator
from tests.reliability.support import RETRY

SLOW = "ri.models.main.model-studio.secrets-slow"
# Long enough (4 s of real time) to still run when a launch that met a fault has finished looking for a lost run,
# so the deferrable tasks really defer: that look runs on a fake clock (``launch_clock``), the launch's requests
# take well under a second.
STEADY = "ri.models.main.model-studio.secrets-steady"
STEADY_FAILS = "ri.models.main.model-studio.secrets-steady-fails"
WRONG_SECRET = "wr0ng-client-secret-value"


def describe_failure(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("launch_clock")
def test_tokens_and_the_client_secret_appear_nowhere(
    start_emulator: StartEmulator,
    use_emulator: UseEmulator,
    issued_tokens: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = start_emulator({"seed": 4, "token_lifetime_seconds": 40}, 20)
    emulator.add_studio(SLOW, duration_seconds=10**6)
    emulator.add_studio(STEADY, duration_seconds=80)
    emulator.add_studio(STEADY_FAILS, duration_seconds=80, outcome="FAILED")
    faults = {"rate_429": 0.05, "rate_503": 0.05, "rate_drop": 0.05}
    emulator.set_faults("*", **faults)
    use_emulator(emulator, "oauth2", timeout=1)
    seen: list[str] = []  # everything visible, as text
    results: list[Any] = []
    tis: list[Any] = []

    deferrals: list[Any] = []

    def task(op: Any, ctx: dict[str, Any] | None = None) -> None:
        """Run a task the way Airflow would; keep its XComs, result, failure, trigger and reprs."""
        ctx = ctx or context()
        tis.append(ctx["ti"])
        seen.extend([repr(op), *(repr(getattr(op, name)) for name in op.template_fields)])
        try:
            results.append(op.execute(ctx))  # a run already final is finished without deferring
        except TaskDeferred as deferral:
            trigger = deferral.trigger
            seen.extend([repr(trigger), json.dumps(trigger.serialize()[1])])
            deferrals.append(trigger)
            event = run_trigger(trigger)
            seen.append(json.dumps(event))
            try:
                results.append(op.execute_complete(ctx, event))
            except Exception as exc:
                seen.extend(describe_failure(exc))
        except Exception as exc:
            seen.extend(describe_failure(exc))

    def operator(**kwargs: Any) -> LaunchModelStudioOperator:
        kwargs.setdefault("model_studio_rid", DEMO_STUDIO)
        return LaunchModelStudioOperator(task_id="launch", poll_interval=0.05, retry=RETRY, **kwargs)

    task(operator())  # waits in the worker
    task(operator(model_studio_rid=STEADY, deferrable=True))
    task(operator(model_studio_rid=DEMO_FAILS_STUDIO))  # the run fails
    task(operator(model_studio_rid=STEADY_FAILS, deferrable=True))
    task(operator(model_studio_rid=SLOW, timeout=0.3))  # gives up, cancels the build
    task(operator(model_studio_rid=SLOW, timeout=0.3, deferrable=True))
    task(operator(wait_for_completion=False), context(StateStore()))
    launched = results[-1]
    emulator.advance(41)  # Foundry expires the token the process holds: 401, a new token, replay
    task(ModelStudioRunSensor(task_id="wait", run=launched, poke_interval=0.05, timeout=30, retry=RETRY))
    task(ModelStudioRunSensor(task_id="wait", run=launched, poke_interval=0.05, deferrable=True, retry=RETRY))
    templated = operator(model_studio_rid="{{ params.studio }}", foundry_conn_id="{{ params.conn }}")
    templated.render_template_fields({"params": {"studio": DEMO_STUDIO, "conn": "foundry_default"}})
    assert templated.model_studio_rid == DEMO_STUDIO
    task(templated)

    hook = ModelStudioHook(retry=RETRY)
    hook.get_model_studio(DEMO_STUDIO)
    seen.extend([repr(hook), repr(hook.settings), str(hook.settings), repr(hook.client), repr(vars(hook.client))])
    # The connection test tries each probe twice: at 15 % faults one of its probes fails twice in about one run of
    # ten (it says "Not connected"), so it runs without faults; the wrong secret's test below has them again.
    emulator.clear_faults()
    ok, reason = hook.test_connection()
    emulator.set_faults("*", **faults)
    seen.append(reason)
    use_emulator(emulator, "oauth2", conn_id="foundry_wrong", password=WRONG_SECRET)
    TOKEN_CACHE.clear()  # (see test_a_wrong_secret_does_not_borrow_another_connections_token)
    task(operator(foundry_conn_id="foundry_wrong"))
    ok_wrong, reason_wrong = ModelStudioHook("foundry_wrong", retry=RETRY).test_connection()
    seen.append(reason_wrong)

    captured = capfd.readouterr()
    seen.extend([captured.out, captured.err, caplog.text])
    seen.extend(f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records)
    seen.extend(json.dumps(ti.pushed, default=str) for ti in tis)
    seen.append(json.dumps(results, default=str))

    # The checks prove something only if the runs really happened, with tokens, faults and failures.
    assert ok and not ok_wrong
    assert len(deferrals) >= 3
    assert len(issued_tokens) >= 2, "the token was never renewed"
    assert sum(1 for r in results if isinstance(r, dict) and r.get("build_status") == "SUCCEEDED") >= 4
    assert any("ended FAILED" in text for text in seen)
    assert any("was cancelled" in text for text in seen)
    assert any("401" in text for text in seen), "the token refused by Foundry was not replayed"
    assert emulator.counters()["faults_injected"]
    everything = "\n".join(seen)
    for secret in {*issued_tokens, CLIENT_SECRET, WRONG_SECRET}:
        assert secret not in everything, f"a secret ({secret[:4]}...) is visible"


@pytest.mark.timeout(60)
def test_a_wrong_secret_does_not_borrow_another_connections_token(
    start_emulator: StartEmulator, use_emulator: UseEmulator
) -> None:
    emulator = start_emulator()
    use_emulator(emulator, "oauth2", conn_id="team_a")
    use_emulator(emulator, "oauth2", conn_id="team_b", password=WRONG_SECRET)
    ModelStudioHook("team_a", retry=RETRY).get_model_studio(DEMO_STUDIO)  # team A's task, same worker process
    ok, reason = ModelStudioHook("team_b", retry=RETRY).test_connection()
    assert not ok, f"a wrong client secret was accepted: {reason}"
