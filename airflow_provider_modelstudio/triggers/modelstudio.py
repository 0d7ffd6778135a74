"""``ModelStudioRunTrigger``: waits on a run's build in the triggerer, for the operator and the sensor.

It serialises to plain values only, waits in the one trigger loop
(:class:`~airflow_provider_modelstudio.triggers.resource_wait.ResourceWaitTrigger`), sharing one getBatch poller
with every other trigger of the same connection, follows the same
:class:`~airflow_provider_modelstudio.runs.waiting.WaitPolicy` as a wait in the worker, and carries its own
deadline so that a timeout comes back as an event the task can act on (cancel the build) rather than a
framework kill. On Airflow 3.3+, ``on_kill`` cancels the build when a user marks the task failed or
succeeded, and leaves it running when the task was cleared and its next try will reattach to it. It does
not launch runs, does not carry the run, and does not build results: the task does, from the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from airflow.triggers.base import TriggerEvent

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.runs.events import make_event
from airflow_provider_modelstudio.runs.progress import StatusWatch
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.runs.waiting import MAX_CONSECUTIVE_POLL_FAILURES, WaitPolicy
from airflow_provider_modelstudio.triggers.resource_wait import EndKind, ResourceWaitTrigger
from airflow_provider_modelstudio.triggers.resume_hold import Deferral
from airflow_provider_modelstudio.waits.kinds import BUILDS

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

KILL_CANCEL_RETRY = {"max_attempts": 3, "backoff_initial": 0.5, "backoff_max": 2.0, "max_elapsed": 10.0}

_STATUS_LOG = structlog.wrap_logger(
    None, logger_factory_args=(f"{__name__}.ModelStudioRunTrigger",), cache_logger_on_first_use=False
)
"""The status lines of every wait, under the name ``self.log`` has. One logger for all triggers (a logger of
its own costs each waiting trigger about 1 KB); not cached, so each line follows the logging configuration of
the moment, and the triggerer's context variables still say which trigger and task it belongs to."""


class ModelStudioRunTrigger(ResourceWaitTrigger[StatusWatch]):
    """Fires once the build of a Model Studio run is final, the deadline passes, or checking keeps failing.

    :param build_rid: the build to wait on
    :param foundry_conn_id: the Foundry connection
    :param poll_interval: seconds between status checks
    :param deadline: UNIX time at which to give up with a ``timeout`` event; None waits indefinitely
    :param retry: retry bounds of each request (plain numbers)
    :param cancel_on_kill: cancel the build when a user kills the task (Airflow 3.3+)
    :param keep_for_next_try: when the task was cleared, leave the build to its next try (which reattaches)
    :param max_consecutive_failures: failed checks in a row (each after its own retries) before an error event
    :param started_at: UNIX time the run started, so elapsed times survive a triggerer restart
    :param heartbeat: seconds between "still running" log lines at first; 0 for none
    :param deferred_at: UNIX time the task deferred (see :mod:`~airflow_provider_modelstudio.triggers.resume_hold`)
    :param deferred_from: the deferring process, ``host:pid``
    """

    waitable = BUILDS
    rid_field = "build_rid"
    policy_fields = ("poll_interval", "deadline", "max_consecutive_failures", "heartbeat")

    def __init__(
        self,
        *,
        build_rid: str,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        retry: dict[str, Any] | None = None,
        cancel_on_kill: bool = True,
        keep_for_next_try: bool = False,
        max_consecutive_failures: int = MAX_CONSECUTIVE_POLL_FAILURES,
        started_at: float | None = None,
        heartbeat: float = 60.0,
        deferred_at: float | None = None,
        deferred_from: str | None = None,
    ) -> None:
        policy = WaitPolicy(float(poll_interval), deadline, max_consecutive_failures, heartbeat)
        super().__init__(build_rid, foundry_conn_id, policy, retry, Deferral.of(deferred_at, deferred_from))
        self.cancel_on_kill = cancel_on_kill
        self.keep_for_next_try = keep_for_next_try
        self.started_at = started_at

    @property
    def build_rid(self) -> str:
        return self.rid

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.wait_kwargs(),
                "cancel_on_kill": self.cancel_on_kill,
                "keep_for_next_try": self.keep_for_next_try,
                "started_at": self.started_at,
            },
        )

    def watch(self, hook: ModelStudioHook) -> StatusWatch:
        return StatusWatch(
            self.build_rid,
            hook.build_url(self.build_rid),
            self.policy.poll_interval,
            _STATUS_LOG,
            started_at=self.started_at,
            heartbeat=self.policy.heartbeat,
        )

    def final_event(self, state: str, verdict: Verdict) -> TriggerEvent:
        return TriggerEvent(make_event("final", build_rid=self.build_rid, status=state))

    def ended_event(self, kind: EndKind, message: str, transient: bool) -> TriggerEvent:
        return TriggerEvent(make_event(kind, build_rid=self.build_rid, message=message, transient=transient))

    def still(self, watch: StatusWatch) -> str:
        return f"Build {self.build_rid} was still not final."

    async def on_kill(self) -> None:
        """The user cleared, marked failed or marked succeeded the deferred task (Airflow 3.3+)."""
        if not self.cancel_on_kill:
            self.log.info("Task killed; build %s left running (cancel_on_kill=False).", self.build_rid)
            return
        if self.keep_for_next_try:
            from airflow_provider_modelstudio.runs.task_instance import runs_again

            if await runs_again(self.task_instance):
                self.log.info(
                    "Task cleared; build %s left running for the task's next try, which reattaches to it.",
                    self.build_rid,
                )
                return
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        hook = ModelStudioHook(self.foundry_conn_id, retry=KILL_CANCEL_RETRY)
        try:
            await hook.acancel_build(self.build_rid)
            self.log.info("Task killed; asked Foundry to cancel build %s.", self.build_rid)
        except FoundryError as exc:
            self.log.warning("Task killed, but cancelling build %s failed (it may still run): %s", self.build_rid, exc)
        finally:
            await hook.aclose()
