"""What a live deployment's status means for a deploy, judged in one place.

A direct live deployment follows the latest version on a branch of its model; after a promotion it starts
the new version (``STARTING``), then serves it (``ACTIVE`` and ``isReady``). ``ACTIVE`` may still be not ready
(scaled to zero); ``DEGRADED`` means only some replicas are healthy, accepted only when asked. ``FAILED`` and
``DISABLED`` end a wait. Unknown states mean "keep waiting", like unknown build statuses. :func:`judge` sends no
request; :func:`wait_until_served` is the worker's wait, the one loop of
:mod:`~airflow_provider_modelstudio.waits.worker`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
from airflow_provider_modelstudio.waits.waitable import ChangeWatch

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


@dataclass(frozen=True)
class ServingGoal:
    """What a wait on a live deployment wants: ``version_rid`` served, ready.

    :param version_rid: the model version it must serve
    :param accept_degraded: a DEGRADED deployment serving it counts as ready
    """

    version_rid: str
    accept_degraded: bool


class ServingWatch(ChangeWatch[LiveDeployment, ServingGoal]):
    """Logs each state the deployment goes through, and judges it against the version it must serve.

    :param rid: the deployment
    :param goal: the version it must serve
    :param log: where to log
    """

    def __init__(self, rid: str, goal: ServingGoal, log: Any) -> None:
        from airflow_provider_modelstudio.waits.kinds import LIVE_DEPLOYMENTS

        super().__init__(LIVE_DEPLOYMENTS, rid, goal, log)

    def timed_out(self) -> DeploymentNotReady:
        return DeploymentNotReady(
            f"Live deployment {self.rid} did not serve {self.goal.version_rid} ready within the timeout; "
            f"it is {self.last or 'unknown'}."
        )


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
    from airflow_provider_modelstudio.runs.status import Verdict
    from airflow_provider_modelstudio.waits.kinds import LIVE_DEPLOYMENTS
    from airflow_provider_modelstudio.waits.worker import wait_in_worker

    watch = ServingWatch(deployment_rid, ServingGoal(expected_version_rid, accept_degraded), log)
    view, verdict = wait_in_worker(LIVE_DEPLOYMENTS, hook, watch, policy, sleep=sleep)
    if verdict is Verdict.FAILED:
        raise DeploymentFailed(f"Live deployment {deployment_rid} is {view.describe()}.", view)
    return view


class DeploymentFailed(FoundryError):
    """The live deployment went FAILED or DISABLED."""

    def __init__(self, message: str, view: LiveDeployment) -> None:
        super().__init__(message)
        self.view = view


class DeploymentNotReady(FoundryError):
    """The live deployment did not serve the expected version, ready, in time."""
