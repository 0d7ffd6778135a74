"""Waiting outside the triggerer, for any kind of resource: one check (a sensor's poke), and the worker's loop.

Both read through the kind's :attr:`~.waitable.Waitable.read`, count failed checks with a
:class:`~airflow_provider_modelstudio.runs.waiting.FailedChecks` and let the wait's :class:`~.waitable.Watch`
log and judge, so a wait gives up for the same reasons in every mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.runs.waiting import FailedChecks

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.waiting import WaitPolicy
    from airflow_provider_modelstudio.waits.waitable import Waitable, Watch

S = TypeVar("S")


def check_once(
    waitable: Waitable[S, Any], hook: ModelStudioHook, watch: Watch[S], failures: FailedChecks
) -> tuple[S, Verdict] | None:
    """Read the resource once: its state and verdict when the wait is over, None to check again.

    A failed check is logged and counted; the one that ends the wait is raised.

    :param waitable: the kind of resource
    :param hook: the hook to read through
    :param watch: logs and judges the state
    :param failures: the wait's failed checks so far
    """
    try:
        state = waitable.read(hook, watch.rid)
    except FoundryError as exc:
        failures.absorb(exc)
        watch.check_failed(failures.count, exc)
        return None
    failures.passed()
    verdict = watch.observe(state)
    return None if verdict is Verdict.WAIT else (state, verdict)


def wait_in_worker(
    waitable: Waitable[S, Any],
    hook: ModelStudioHook,
    watch: Watch[S],
    policy: WaitPolicy,
    *,
    sleep: Callable[[float], None] | None = None,
) -> tuple[S, Verdict]:
    """Check the resource every ``policy.poll_interval`` seconds until its state ends the wait; return it, judged.

    Raises ``watch.timed_out()`` at the policy's deadline, and the ending error of the failed checks.

    :param waitable: the kind of resource
    :param hook: the hook to read through
    :param watch: logs and judges each state
    :param policy: interval, deadline and failure limit
    :param sleep: how to wait between checks (default ``time.sleep``)
    """
    pause = sleep or time.sleep
    failures = FailedChecks(policy.max_consecutive_failures, f"{waitable.name} {watch.rid}")
    while True:
        ended = check_once(waitable, hook, watch, failures)
        if ended is not None:
            return ended
        remaining = policy.remaining()
        if remaining is not None and remaining <= 0:
            raise watch.timed_out()
        pause(policy.poll_interval if remaining is None else min(policy.poll_interval, remaining))
