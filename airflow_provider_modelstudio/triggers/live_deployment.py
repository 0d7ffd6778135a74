"""``LiveDeploymentTrigger``: waits in the triggerer until a live deployment serves a version, ready.

Foundry has no batch read of live deployments, so requests are shared as far as the API allows: every wait
on the same deployment through the same connection, in one triggerer, shares one GET per poll interval (the
smallest asked for). It follows the same :class:`~airflow_provider_modelstudio.runs.waiting.WaitPolicy` as a
wait in the worker and carries its own deadline. It does not promote, roll back or cancel anything: the task
does, from the event.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_modelstudio.deploys.events import DeploymentEventKind, make_deployment_event
from airflow_provider_modelstudio.deploys.serving import Serving, judge
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.runs.waiting import MAX_CONSECUTIVE_POLL_FAILURES, FailedChecks, WaitPolicy
from airflow_provider_modelstudio.triggers.poller import Ended, Subscription, next_usable

WatchKey = tuple[str, str, str]


class DeploymentWatch:
    """One polling task per deployment, connection and event loop; subscribers get each answer.

    :param hook: the hook it reads through (closed when the last subscriber leaves)
    :param rid: the deployment
    :param key: its key in the registry
    """

    _registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[WatchKey, DeploymentWatch]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, hook: ModelStudioHook, rid: str, key: WatchKey) -> None:
        self.hook = hook
        self.rid = rid
        self.key = key
        self.subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def subscribe(
        cls, conn_id: str, retry: dict[str, Any] | None, rid: str, interval: float
    ) -> tuple[DeploymentWatch, Subscription]:
        loop = asyncio.get_running_loop()
        key = (conn_id, json.dumps(retry or {}, sort_keys=True), rid)
        watches = cls._registry.setdefault(loop, {})
        watch = watches.get(key)
        if watch is None:
            watch = watches[key] = cls(ModelStudioHook(conn_id, retry=retry), rid, key)
        subscription = Subscription(interval)
        watch.subscribers.add(subscription)
        if watch._task is None or watch._task.done():
            watch._task = loop.create_task(watch._poll_forever())
        return watch, subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)
        if not self.subscribers:
            watches = self._registry.get(asyncio.get_running_loop(), {})
            if watches.get(self.key) is self:
                del watches[self.key]
            if self._task is not None and not self._task.done():
                self._task.cancel()

    async def _poll_forever(self) -> None:
        try:
            while self.subscribers:
                try:
                    check: Any = await self.hook.aget_live_deployment(self.rid)
                except FoundryError as exc:
                    check = exc
                except Exception as exc:
                    check = PollingFailedError(f"Unexpected failure while reading live deployment {self.rid}: {exc!r}")
                for subscription in list(self.subscribers):
                    subscription.deliver(check)
                await asyncio.sleep(min((s.interval for s in self.subscribers), default=30.0))
        finally:
            await asyncio.shield(self.hook.aclose())


class LiveDeploymentTrigger(BaseTrigger):
    """Fires once the deployment serves the expected version ready, fails, the deadline passes, or checks keep failing.

    :param live_deployment_rid: the deployment
    :param expected_version_rid: the model version it must serve
    :param foundry_conn_id: the Foundry connection
    :param poll_interval: seconds between checks
    :param deadline: UNIX time at which to give up with a ``timeout`` event; None waits indefinitely
    :param accept_degraded: a DEGRADED deployment serving the version counts as ready
    :param retry: retry bounds of each request (plain numbers)
    :param max_consecutive_failures: failed checks in a row before an ``error`` event
    """

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
    ) -> None:
        super().__init__()
        self.live_deployment_rid = live_deployment_rid
        self.expected_version_rid = expected_version_rid
        self.foundry_conn_id = foundry_conn_id
        self.policy = WaitPolicy(float(poll_interval), deadline, max_consecutive_failures)
        self.accept_degraded = accept_degraded
        self.retry = retry

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "live_deployment_rid": self.live_deployment_rid,
                "expected_version_rid": self.expected_version_rid,
                "foundry_conn_id": self.foundry_conn_id,
                "poll_interval": self.policy.poll_interval,
                "deadline": self.policy.deadline,
                "max_consecutive_failures": self.policy.max_consecutive_failures,
                "accept_degraded": self.accept_degraded,
                "retry": self.retry,
            },
        )

    def _event(
        self,
        kind: DeploymentEventKind,
        *,
        view: LiveDeployment | None = None,
        verdict: str = "",
        message: str = "",
        transient: bool = False,
    ) -> TriggerEvent:
        return TriggerEvent(
            make_deployment_event(
                kind,
                live_deployment_rid=self.live_deployment_rid,
                view=view,
                verdict=verdict,
                message=message,
                transient=transient,
            )
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        policy = self.policy
        watch, subscription = DeploymentWatch.subscribe(
            self.foundry_conn_id, self.retry, self.live_deployment_rid, policy.poll_interval
        )
        failures = FailedChecks(policy.max_consecutive_failures, f"live deployment {self.live_deployment_rid}")
        last = ""
        try:
            while True:
                check = await next_usable(subscription, policy, failures)
                if isinstance(check, Ended):
                    message = check.message or f"still {last or 'unknown'}"
                    yield self._event(check.kind, message=message, transient=check.transient)
                    return
                assert isinstance(check, LiveDeployment)
                if check.describe() != last:
                    last = check.describe()
                    self.log.info("Live deployment %s is %s.", self.live_deployment_rid, last)
                verdict = judge(check, self.expected_version_rid, accept_degraded=self.accept_degraded)
                if verdict is not Serving.WAIT:
                    yield self._event("final", verdict=verdict.value, view=check)
                    return
        finally:
            watch.unsubscribe(subscription)
