"""The smoke test after a deploy: one inference call on the live deployment, timed, optionally checked.

The check is a dict of expected output values (each must be equal in the answer's ``output``) or a callable
taking the output and returning True when it is acceptable; callables run in the worker only. It does not
retry a failed inference beyond the hook's safe retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.answers import quoted
from airflow_provider_modelstudio.foundry.errors import FoundryError

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

Check = dict[str, Any] | Callable[[dict[str, Any]], bool] | None


class SmokeTestFailed(FoundryError):
    """The deployment answered the smoke test wrongly, or not at all."""


@dataclass(frozen=True)
class SmokeResult:
    output: dict[str, Any]
    latency_ms: float


def run_smoke_test(hook: ModelStudioHook, deployment_rid: str, inputs: dict[str, Any], check: Check) -> SmokeResult:
    """Call ``transformJson`` with ``inputs``; raise :class:`SmokeTestFailed` when it fails or the check refuses."""
    started = time.monotonic()
    try:
        answer = hook.transform_json(deployment_rid, inputs)
    except FoundryError as exc:
        raise SmokeTestFailed(f"The smoke test's inference call on {deployment_rid} failed: {exc}") from exc
    latency_ms = (time.monotonic() - started) * 1000
    output = answer.output
    if output is None:
        raise SmokeTestFailed(f"The smoke test on {deployment_rid} got no output: {quoted(answer.answer, limit=300)}")
    problem = _refusal(output, check)
    if problem:
        raise SmokeTestFailed(f"The smoke test on {deployment_rid} answered {quoted(output, limit=300)}: {problem}")
    return SmokeResult(output, round(latency_ms, 1))


def _refusal(output: dict[str, Any], check: Check) -> str | None:
    if check is None:
        return None
    if callable(check):
        try:
            accepted = check(output)
        except Exception as exc:
            return f"the smoke_test_check callable raised {type(exc).__name__}: {exc}"
        return None if accepted else "the smoke_test_check callable refused it"
    wrong = {key: output.get(key, "<missing>") for key, value in check.items() if output.get(key) != value}
    return f"expected {check!r:.200}, these differ: {wrong!r:.200}" if wrong else None
