"""``LiveDeploymentTrigger``: waits in the triggerer until a live deployment serves a version, ready.

It waits in the one trigger loop (:class:`~airflow_provider_modelstudio.triggers.resource_wait.ResourceWaitTrigger`).
Foundry has no batch read of live deployments, so requests are shared as far as the API allows: every wait
through the same connection, in one triggerer, shares one poller that sends one GET per distinct deployment per
poll interval (the smallest asked for). It follows the same
:class:`~airflow_provider_modelstudio.runs.waiting.WaitPolicy` as a wait in the worker and carries its own
deadline. It does not promote, roll back or cancel anything: the task does, from the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_modelstudio.deploys.events import make_deployment_event
from airflow_provider_modelstudio.deploys.serving import Serving, ServingGoal, ServingWatch
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.runs.waiting import MAX_CONSECUTIVE_POLL_FAILURES, WaitPolicy
from airflow_provider_modelstudio.triggers.resource_wait import EndKind, ResourceWaitTrigger
from airflow_provider_modelstudio.triggers.resume_hold import Deferral
from airflow_provider_modelstudio.waits.kinds import LIVE_DEPLOYMENTS

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook


class LiveDeploymentTrigger(ResourceWaitTrigger[ServingWatch]):
    """Fires once the deployment serves the expected version ready, fails, the deadline passes, or checks keep failing.

    :param live_deployment_rid: the deployment
    :param expected_version_rid: the model version it must serve
    :param foundry_conn_id: the Foundry connection
    :param poll_interval: seconds between checks
    :param deadline: UNIX time at which to give up with a ``timeout`` event; None waits indefinitely
    :param accept_degraded: a DEGRADED deployment serving the version counts as ready
    :param retry: retry bounds of each request (plain numbers)
    :param max_consecutive_failures: failed checks in a row before an ``error`` event
    :param deferred_at: UNIX time the task deferred (see :mod:`~airflow_provider_modelstudio.triggers.resume_hold`)
    :param deferred_from: the deferring process, ``host:pid``
    """

    waitable = LIVE_DEPLOYMENTS
    rid_field = "live_deployment_rid"

    def __init__(
        self,
        *,
        live_deployment_rid: str,
        expected_version_rid: str,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        accept_degraded: bool = False,
        retry: dict[str, Any] | None = None,
        max_consecutive_failures: int = MAX_CONSECUTIVE_POLL_FAILURES,
        deferred_at: float | None = None,
        deferred_from: str | None = None,
    ) -> None:
        policy = WaitPolicy(float(poll_interval), deadline, max_consecutive_failures)
        super().__init__(live_deployment_rid, foundry_conn_id, policy, retry, Deferral.of(deferred_at, deferred_from))
        self.expected_version_rid = expected_version_rid
        self.accept_degraded = accept_degraded

    @property
    def live_deployment_rid(self) -> str:
        return self.rid

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.wait_kwargs(),
                "expected_version_rid": self.expected_version_rid,
                "accept_degraded": self.accept_degraded,
            },
        )

    def watch(self, hook: ModelStudioHook) -> ServingWatch:
        return ServingWatch(self.rid, ServingGoal(self.expected_version_rid, self.accept_degraded), self.log)

    def final_event(self, state: LiveDeployment, verdict: Verdict) -> TriggerEvent:
        served = Serving.READY if verdict is Verdict.SUCCEEDED else Serving.FAILED
        return TriggerEvent(
            make_deployment_event("final", live_deployment_rid=self.rid, view=state, verdict=served.value)
        )

    def ended_event(self, kind: EndKind, message: str, transient: bool) -> TriggerEvent:
        return TriggerEvent(
            make_deployment_event(kind, live_deployment_rid=self.rid, message=message, transient=transient)
        )

    def still(self, watch: ServingWatch) -> str:
        return f"still {watch.last or 'unknown'}"
