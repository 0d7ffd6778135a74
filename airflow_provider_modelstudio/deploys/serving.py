"""What a live deployment's status means for a deploy, judged in one place.

A direct live deployment follows the latest version on a branch of its model; after a promotion it starts
the new version (``STARTING``), then serves it (``ACTIVE`` and ``isReady``). ``ACTIVE`` may still be not ready
(scaled to zero); ``DEGRADED`` means only some replicas are healthy, accepted only when asked. ``FAILED`` and
``DISABLED`` end a wait. Unknown states mean "keep waiting", like unknown build statuses. :func:`judge` sends no
request; :func:`wait_until_served` is the worker's wait, under the same policy as a run's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.shapes import LiveDeployment

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.waiting import WaitPolicy

FINAL_BAD_STATES = frozenset({"FAILED", "DISABLED"})


class Serving(Enum):
    WAIT = "wait"
    READY = "ready"
    FAILED = "failed"


def judge(view: LiveDeployment, expected_version_rid: str, *, accept_degraded: bool) -> Serving:
    """Whether the deployment now serves ``expected_version_rid`` and is ready, is still getting there, or failed."""
    if view.state in FINAL_BAD_STATES:
        return Serving.FAILED
    if view.version_rid != expected_version_rid or not view.ready:
        return Serving.WAIT
    if view.state == "ACTIVE" or (accept_degraded and view.state == "DEGRADED"):
        return Serving.READY
    return Serving.WAIT


def wait_until_served(
    hook: ModelStudioHook,
    deployment_rid: str,
    expected_version_rid: str,
    policy: WaitPolicy,
    *,
    accept_degraded: bool,
    log: Any,
    sleep: Callable[[float], None] | None = None,
) -> LiveDeployment:
    """Poll the deployment until it serves ``expected_version_rid`` and is ready; return what it looks like then.

    Raises :class:`DeploymentFailed` when it goes FAILED or DISABLED, :class:`DeploymentNotReady` at the
    policy's deadline, and the ending error of the policy's failed checks.
    """
    from airflow_provider_modelstudio.runs.waiting import FailedChecks

    pause = sleep or time.sleep
    failures = FailedChecks(policy.max_consecutive_failures, f"live deployment {deployment_rid}")
    last = ""
    while True:
        try:
            view = hook.get_live_deployment(deployment_rid)
        except FoundryError as exc:
            failures.absorb(exc)
            log.warning(
                "Check %d of live deployment %s failed (%s); will check again.", failures.count, deployment_rid, exc
            )
        else:
            failures.passed()
            if view.describe() != last:
                last = view.describe()
                log.info("Live deployment %s is %s.", deployment_rid, last)
            verdict = judge(view, expected_version_rid, accept_degraded=accept_degraded)
            if verdict is Serving.READY:
                return view
            if verdict is Serving.FAILED:
                raise DeploymentFailed(f"Live deployment {deployment_rid} is {view.describe()}.", view)
        remaining = policy.remaining()
        if remaining is not None and remaining <= 0:
            raise DeploymentNotReady(
                f"Live deployment {deployment_rid} did not serve {expected_version_rid} ready within the timeout; "
                f"it is {last or 'unknown'}."
            )
        pause(policy.poll_interval if remaining is None else min(policy.poll_interval, remaining))


class DeploymentFailed(FoundryError):
    """The live deployment went FAILED or DISABLED."""

    def __init__(self, message: str, view: LiveDeployment) -> None:
        super().__init__(message)
        self.view = view


class DeploymentNotReady(FoundryError):
    """The live deployment did not serve the expected version, ready, in time."""
