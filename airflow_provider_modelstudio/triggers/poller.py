"""One status poller per connection per event loop, shared by every trigger waiting on builds.

N triggers waiting through the same connection cost ceil(N/100) getBatch requests per poll interval
instead of N single reads (Foundry allows 4 build reads a second). The poller reaches Foundry only through
its :class:`~airflow_provider_modelstudio.hooks.modelstudio.ModelStudioHook`, and keeps only each build's
status. It stops, and closes the hook's client, as soon as its last subscriber leaves. Pollers are keyed by
event loop: ``dag.test()`` runs each trigger in a fresh loop, and clients and locks cannot cross loops.

Each subscriber receives, per poll, the build's status or the error of that check. A failed request (or an
answer it cannot read) is a failed check for every wait it served, each counted against that wait's own
limit, never the end of all of them. Checks are handed over :data:`DELIVERY_SLICE` waits per turn of the event
loop, so that waking (and logging) thousands of waits never holds the loop in one go. It does not judge
statuses; triggers do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.runs.errors import PollingFailedError, is_transient
from airflow_provider_modelstudio.runs.waiting import FailedChecks, WaitPolicy

log = logging.getLogger(__name__)

PollerKey = tuple[str, str]

Check = str | FoundryError
"""One poll's news for one build: its status, or why the check failed."""

DELIVERY_SLICE = 100
"""Waits handed their check per turn of the event loop. Each wakes in the turn after, judges its status and may
log a line (a status change, a heartbeat); 500 at once held the triggerer's loop for one long turn."""


class Subscription:
    """One trigger's mailbox: the latest check, handed over as soon as the trigger asks for it.

    Deliberately small (thousands live in one triggerer): a slot and at most one pending future, and no
    coroutine of its own while a trigger waits.
    """

    __slots__ = ("_latest", "_waiter", "interval")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._latest: Check | None = None
        self._waiter: asyncio.Future[Check] | None = None

    def deliver(self, check: Check) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(check)
            self._waiter = None
        else:
            self._latest = check

    def next(self) -> asyncio.Future[Check]:
        """To await: the newest check not yet read, or when there is none, the next poll's."""
        future: asyncio.Future[Check] = asyncio.get_running_loop().create_future()
        if self._latest is not None:
            check, self._latest = self._latest, None
            future.set_result(check)
        else:
            self._waiter = future
        return future


@dataclass(frozen=True)
class Ended:
    """Why a trigger's wait ended without a usable check: the deadline, or too many failed checks."""

    kind: Literal["timeout", "error"]
    message: str = ""
    transient: bool = False


async def next_usable(subscription: Subscription, policy: WaitPolicy, failures: FailedChecks) -> Any:
    """The next check that is not a failure, or :class:`Ended` at the policy's deadline or failure limit.

    Every failure counts against the wait's own limit (one bad answer never ends every wait sharing it).
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


class BuildPoller:
    """Polls every subscribed build with getBatch, every ``interval`` seconds (the smallest asked for).

    :param hook: the hook it polls through; it closes the hook's client when it retires
    :param key: its key in the registry
    """

    _registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, BuildPoller]] = (
        weakref.WeakKeyDictionary()
    )
    _creation_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def __init__(self, hook: ModelStudioHook, key: PollerKey) -> None:
        self.hook = hook
        self.key = key
        self._subscribers: dict[str, list[Subscription]] = {}
        """Per build RID (lists: almost always one subscriber, and a one-item list is a third of a set)."""
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def acquire(cls, conn_id: str, retry: dict[str, Any] | None) -> BuildPoller:
        """The poller of ``conn_id`` on the running loop, created (and its connection read) on first use."""
        loop = asyncio.get_running_loop()
        key = (conn_id, json.dumps(retry or {}, sort_keys=True))
        lock = cls._creation_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            pollers = cls._registry.setdefault(loop, {})
            poller = pollers.get(key)
            if poller is None:
                hook = ModelStudioHook(conn_id, retry=retry)
                await hook.asettings()
                poller = pollers[key] = cls(hook, key)
            return poller

    @property
    def watched(self) -> int:
        return len(self._subscribers)

    def subscribe(self, build_rid: str, interval: float) -> Subscription:
        """Start receiving checks of ``build_rid`` at least every ``interval`` seconds."""
        subscription = Subscription(interval)
        self._subscribers.setdefault(build_rid, []).append(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll_forever())
        return subscription

    def unsubscribe(self, build_rid: str, subscription: Subscription) -> None:
        """Stop checks to ``subscription``; the poller shuts down when nobody is left."""
        subscriptions = self._subscribers.get(build_rid, [])
        if subscription in subscriptions:
            subscriptions.remove(subscription)
        if not subscriptions:
            self._subscribers.pop(build_rid, None)
        if not self._subscribers:
            self._retire()

    def _retire(self) -> None:
        pollers = self._registry.get(asyncio.get_running_loop(), {})
        if pollers.get(self.key) is self:
            del pollers[self.key]
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _interval(self) -> float:
        return min((sub.interval for subs in self._subscribers.values() for sub in subs), default=30.0)

    async def _poll_forever(self) -> None:
        try:
            while self._subscribers:
                await self._poll_once()
                await asyncio.sleep(self._interval())
        finally:
            await asyncio.shield(self.hook.aclose())

    async def _poll_once(self) -> None:
        rids = list(self._subscribers)
        failure: Check
        try:
            statuses = await self.hook.aget_build_statuses(rids)
        except FoundryError as exc:
            log.warning("Checking %d build(s) failed: %s", len(rids), exc)
            failure = exc
        except Exception as exc:
            log.exception("Unexpected failure while checking %d build(s)", len(rids))
            failure = PollingFailedError(f"Unexpected failure while checking builds: {exc!r}")
        else:
            await self._deliver_each(rids, lambda rid: _check(rid, statuses))
            return
        await self._deliver_each(rids, lambda rid: failure)

    async def _deliver_each(self, rids: list[str], check_of: Callable[[str], Check]) -> None:
        """Hand each build's check to its waits, :data:`DELIVERY_SLICE` builds per turn of the event loop."""
        for start in range(0, len(rids), DELIVERY_SLICE):
            if start:
                await asyncio.sleep(0)
            for rid in rids[start : start + DELIVERY_SLICE]:
                self._deliver(rid, check_of(rid))

    def _deliver(self, rid: str, check: Check) -> None:
        for subscription in self._subscribers.get(rid, ()):
            subscription.deliver(check)


def _check(build_rid: str, statuses: dict[str, str | None]) -> Check:
    if build_rid not in statuses:
        return FoundryError(f"Foundry did not return build {build_rid}.")
    status = statuses[build_rid]
    # interned: thousands of waits keep their last status, and there are only a few distinct ones
    return sys.intern(status) if status is not None else _unusable(build_rid)


def _unusable(build_rid: str) -> PollingFailedError:
    return PollingFailedError(f"Foundry's answer for build {build_rid} has no usable status.")
