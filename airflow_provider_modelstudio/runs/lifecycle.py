"""Launch, reattach, wait, and finish a run: the steps the operator, sensor and trigger share.

What this module does not do: it does not decide how to wait (worker, reschedule or triggerer; the shells
choose), and it never retries a run that Foundry judged FAILED or CANCELED.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import (
    FoundryError,
    FoundryRateLimited,
    FoundryServerError,
    FoundryTransportError,
)
from airflow_provider_modelstudio.runs.result import build_result
from airflow_provider_modelstudio.runs.status import Verdict, is_unknown, judge

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

STATE_KEY = "modelstudio_run"
"""Key of the launched run in Airflow's task state store (3.3+), read back when a task is retried."""

MAX_CONSECUTIVE_POLL_FAILURES = 10
"""Status checks that may fail in a row (after each one's own retries) before a wait gives up."""


class RunFailedError(FoundryError):
    """The run's build ended FAILED or CANCELED, or succeeded without the model output asked for."""


class RunTimedOutError(FoundryError):
    """The run did not finish within the wait's ``timeout``."""


def is_transient(exc: BaseException) -> bool:
    """Failures a wait rides out: lost connections, timeouts, rate limits and server errors."""
    return isinstance(exc, FoundryTransportError | FoundryRateLimited | FoundryServerError | PollingFailedError)


def describe(run: dict[str, Any], studio_rid: str | None, build_url: str) -> str:
    studio = f"Model Studio {studio_rid} " if studio_rid else ""
    return f"{studio}run {run.get('runId')} (build {run.get('buildRid')}, {build_url})"


def finish(
    run: dict[str, Any],
    status: str,
    *,
    studio_rid: str | None,
    build_url: str,
    fail_on_missing_model_output: bool,
) -> dict[str, Any]:
    """The result of a run whose build reached ``status``; raises :class:`RunFailedError` unless it succeeded.

    :param run: the run (``ModelStudioRun`` JSON)
    :param status: the final build status
    :param studio_rid: the studio, for messages and the result
    :param build_url: the build link
    :param fail_on_missing_model_output: fail a succeeded run that resolved no model output
    """
    if judge(status) is Verdict.FAILED:
        raise RunFailedError(
            f"{describe(run, studio_rid, build_url)} ended {status}. Foundry judged this run; the task is not "
            "retried automatically (launching the same configuration again would most likely fail the same way)."
            " Open the build link for the logs."
        )
    result = build_result(run, build_status=status, build_url=build_url, model_studio_rid=studio_rid)
    if fail_on_missing_model_output and not result["model_outputs"]:
        raise RunFailedError(
            f"{describe(run, studio_rid, build_url)} SUCCEEDED but resolved no model output, so there is no model "
            "version RID to hand downstream. Check the studio's output configuration, or pass "
            "fail_on_missing_model_output=False."
        )
    return result


@dataclass
class StatusWatch:
    """Logs a wait the way a person watching it wants: each status change, elapsed time, the link.

    :param build_rid: the build watched
    :param build_url: its link
    :param poll_interval: seconds between checks, for the log line
    :param log: where to log
    """

    build_rid: str
    build_url: str
    poll_interval: float
    log: logging.Logger | Any
    started: float = field(default_factory=time.monotonic)
    last_status: object = None
    warned_unknown: set[str] = field(default_factory=set)

    def observe(self, status: object) -> Verdict:
        """Record a status; log it when it changed; judge it."""
        verdict = judge(status)
        if status != self.last_status:
            elapsed = time.monotonic() - self.started
            follow = "" if verdict is not Verdict.WAIT else f"; next check in {self.poll_interval:g} s"
            self.log.info(
                "Build %s is %s after %s%s. %s", self.build_rid, status, _clock(elapsed), follow, self.build_url
            )
            self.last_status = status
        if verdict is Verdict.WAIT and is_unknown(status) and str(status) not in self.warned_unknown:
            self.warned_unknown.add(str(status))
            self.log.warning(
                "Foundry reported build status %r, which this provider does not know; treating it as not "
                "finished and waiting on.",
                status,
            )
        return verdict


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


def wait_in_worker(
    hook: ModelStudioHook,
    build_rid: str,
    watch: StatusWatch,
    *,
    deadline: float | None,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Poll a build until it is final; return its status. Raises :class:`RunTimedOutError` at ``deadline``.

    :param hook: the hook
    :param build_rid: the build
    :param watch: logs and judges each status
    :param deadline: UNIX time at which to stop waiting, or None
    :param sleep: how to wait between checks (default ``time.sleep``)
    """
    pause = sleep or time.sleep
    failures = 0
    while True:
        try:
            status = hook.get_build(build_rid).get("status")
            failures = 0
            if watch.observe(status) is not Verdict.WAIT:
                return str(status)
        except FoundryError as exc:
            failures += 1
            if not is_transient(exc) or failures >= MAX_CONSECUTIVE_POLL_FAILURES:
                raise
            watch.log.warning("Status check %d failed (%s); will check again.", failures, exc)
        remaining = None if deadline is None else deadline - time.time()
        if remaining is not None and remaining <= 0:
            raise RunTimedOutError(f"Build {build_rid} did not finish before the wait's timeout. {watch.build_url}")
        pause(watch.poll_interval if remaining is None else min(watch.poll_interval, remaining))


def remembered_run(context: Any) -> dict[str, Any] | None:
    """The run a previous try of this task launched, from the task state store (Airflow 3.3+)."""
    store = context.get("task_state_store") if hasattr(context, "get") else None
    if store is None:
        return None
    value = store.get(STATE_KEY)
    return value if isinstance(value, dict) and value.get("buildRid") else None


def remember_run(context: Any, run: dict[str, Any]) -> bool:
    """Store the launched run for a retry to reattach to; False where Airflow has no task state store."""
    store = context.get("task_state_store") if hasattr(context, "get") else None
    if store is None:
        return False
    store.set(STATE_KEY, run)
    return True


def running_run_of_studio(hook: ModelStudioHook, studio_rid: str) -> dict[str, Any] | None:
    """The newest run of the studio whose build is still running (reattach fallback for Airflow < 3.3)."""
    runs = hook.list_model_studio_runs(studio_rid)
    running = [r for r in runs if judge(r.get("buildStatus")) is Verdict.WAIT and r.get("buildRid")]
    return max(running, key=lambda r: str(r.get("startedTime") or ""), default=None)


def reattachable(hook: ModelStudioHook, run: dict[str, Any]) -> str | None:
    """The current build status of a remembered run when it should be reused (running or succeeded)."""
    status = hook.get_build(str(run["buildRid"])).get("status")
    return None if judge(status) is Verdict.FAILED else str(status)


class PollingFailedError(FoundryError):
    """Checking the build kept failing for a transient reason (the trigger gave up); the run may be fine."""


def as_task_failure(exc: FoundryError, *, retry_allowed: bool) -> BaseException:
    """The exception a task raises for ``exc``.

    Transient failures stay retryable (the caller makes sure a retry cannot launch a second run). Everything
    else (a run Foundry failed, a timeout, bad input, a permission or a missing studio) fails the task without
    Airflow retries, unless ``retry_allowed`` for run failures and timeouts.

    :param exc: what went wrong
    :param retry_allowed: the user opted in to retrying failed runs and timeouts
    """
    from airflow_provider_modelstudio._compat import AirflowFailException

    if is_transient(exc) or (retry_allowed and isinstance(exc, RunFailedError | RunTimedOutError)):
        return exc
    failure = AirflowFailException(str(exc))
    failure.__cause__ = exc
    return failure
