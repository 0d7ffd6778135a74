"""``ResourceWaitTrigger``: the one trigger loop, for a wait on any kind of resource.

A subclass names its kind (:attr:`ResourceWaitTrigger.waitable`), the keyword its RID travels under, the
:class:`~airflow_provider_modelstudio.runs.waiting.WaitPolicy` fields it serialises, how it watches its
resource, and the events it sends; the loop is the same for all. Each wait subscribes to the shared
:class:`~airflow_provider_modelstudio.triggers.poller.ResourcePoller` of its kind and connection, counts its own
failed checks, and carries its own deadline so that a timeout comes back as an event the task can act on. No
event is handed out sooner after the deferral than Airflow can resume the task safely (:mod:`.resume_hold`).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.errors import is_transient
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.runs.waiting import FailedChecks, WaitPolicy
from airflow_provider_modelstudio.triggers.poller import ResourcePoller, Subscription
from airflow_provider_modelstudio.triggers.resume_hold import Deferral, hold
from airflow_provider_modelstudio.waits.waitable import Watch

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.waits.waitable import Waitable

EndKind = Literal["timeout", "error"]
W = TypeVar("W", bound=Watch[Any])
"""The kind of watch a trigger class logs and judges with."""


@dataclass(frozen=True)
class Ended:
    """Why a trigger's wait ended without a usable check: the deadline, or too many failed checks.

    :param kind: ``timeout`` or ``error``
    :param message: for ``error``: the error that ended the wait
    :param transient: for ``error``: the failures were transient
    """

    kind: EndKind
    message: str = ""
    transient: bool = False


async def next_usable(subscription: Subscription, policy: WaitPolicy, failures: FailedChecks) -> Any:
    """The next check that is not a failure, or :class:`Ended` at the policy's deadline or failure limit.

    Every failure counts against the wait's own limit (one bad answer never ends every wait sharing it).

    :param subscription: the wait's mailbox at the poller
    :param policy: the deadline and failure limit
    :param failures: the wait's failed checks so far
    """
    while True:
        try:
            async with asyncio.timeout(policy.remaining()):
                check = await subscription.next()
        except TimeoutError:
            return Ended("timeout")
        if not isinstance(check, FoundryError):
            failures.passed()
            return check
        ending = failures.failed(check, all_transient=True)
        if ending is not None:
            return Ended("error", str(ending), is_transient(check))


class ResourceWaitTrigger(BaseTrigger, Generic[W]):
    """Fires once the resource's state ends the wait, the deadline passes, or checking keeps failing.

    :param rid: the resource
    :param foundry_conn_id: the Foundry connection
    :param policy: interval, deadline, failure limit (and heartbeat)
    :param retry: retry bounds of each request (plain numbers)
    :param deferral: when and where the task deferred (recorded by :meth:`waiting_on`); None holds no event
    """

    waitable: ClassVar[Waitable[Any, Any]]
    """The kind of resource waited on."""
    rid_field: ClassVar[str]
    """The keyword argument the resource's RID travels under."""
    policy_fields: ClassVar[tuple[str, ...]] = ("poll_interval", "deadline", "max_consecutive_failures")
    """The :class:`WaitPolicy` fields the trigger takes as keyword arguments."""

    def __init__(
        self,
        rid: str,
        foundry_conn_id: str,
        policy: WaitPolicy,
        retry: dict[str, Any] | None,
        deferral: Deferral | None = None,
    ) -> None:
        super().__init__()
        self.rid = rid
        self.foundry_conn_id = foundry_conn_id
        self.policy = policy
        self.retry = retry
        self.deferral = deferral

    @classmethod
    def waiting_on(
        cls, rid: str, *, foundry_conn_id: str, policy: WaitPolicy, retry: dict[str, Any] | None, **settings: Any
    ) -> Self:
        """The trigger of one wait deferred now, from its policy.

        :param rid: the resource
        :param foundry_conn_id: the Foundry connection
        :param policy: interval, deadline and failure limit
        :param retry: retry bounds of each request (plain numbers)
        :param settings: the trigger's own keyword arguments
        """
        arguments: dict[str, Any] = {field: getattr(policy, field) for field in cls.policy_fields}
        arguments.update(settings, foundry_conn_id=foundry_conn_id, retry=retry, **Deferral.now().to_kwargs())
        arguments[cls.rid_field] = rid
        return cls(**arguments)

    def wait_kwargs(self) -> dict[str, Any]:
        """The keyword arguments every kind's trigger serialises: the RID, connection, policy, retries, deferral."""
        policy = self.policy.to_dict()
        kwargs = {self.rid_field: self.rid, "foundry_conn_id": self.foundry_conn_id, "retry": self.retry}
        kwargs.update({field: policy[field] for field in self.policy_fields})
        return kwargs | (self.deferral.to_kwargs() if self.deferral is not None else {})

    @abstractmethod
    def watch(self, hook: ModelStudioHook) -> W:
        """The watch that logs and judges each state of this wait."""

    @abstractmethod
    def final_event(self, state: Any, verdict: Verdict) -> TriggerEvent:
        """The event of a state that ended the wait."""

    @abstractmethod
    def ended_event(self, kind: EndKind, message: str, transient: bool) -> TriggerEvent:
        """The event of a wait ended by its deadline or by failed checks."""

    @abstractmethod
    def still(self, watch: W) -> str:
        """The message of a ``timeout`` event: what the resource was still doing."""

    async def run(self) -> AsyncIterator[TriggerEvent]:
        what = f"{self.waitable.name} {self.rid}"
        try:
            poller = await ResourcePoller.acquire(self.waitable, self.foundry_conn_id, self.retry)
        except Exception as exc:  # a missing connection, bad settings: the task must hear of it, not hang
            await hold(self.deferral, self.log, what)
            yield self.ended_event("error", f"Could not start waiting on {what}: {exc}", False)
            return
        policy = self.policy
        watch = self.watch(poller.hook)
        failures = FailedChecks(policy.max_consecutive_failures, what)
        subscription = poller.subscribe(self.rid, policy.poll_interval)
        try:
            while True:
                check = await next_usable(subscription, policy, failures)
                if isinstance(check, Ended):
                    await hold(self.deferral, self.log, what)
                    yield self.ended_event(check.kind, check.message or self.still(watch), check.transient)
                    return
                verdict = watch.observe(check)
                if verdict is not Verdict.WAIT:
                    await hold(self.deferral, self.log, what)
                    yield self.final_event(check, verdict)
                    return
        finally:
            poller.unsubscribe(self.rid, subscription)
