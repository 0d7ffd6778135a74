"""One poller per kind of resource, connection and retry settings per event loop, shared by every trigger waiting.

A poller reads every resource its waits subscribed to once per interval (the smallest asked for), through its
kind's :attr:`~airflow_provider_modelstudio.waits.waitable.Waitable.read_many`: N waits on builds cost ceil(N/100)
getBatch requests per interval instead of N single reads (Foundry allows 4 build reads a second); N waits on
live deployments cost one GET per distinct deployment. The poller reaches Foundry only through its
:class:`~airflow_provider_modelstudio.hooks.modelstudio.ModelStudioHook`, and keeps only each resource's state.
It stops, and closes the hook's client, as soon as its last subscriber leaves. Pollers are keyed by event loop:
``dag.test()`` runs each trigger in a fresh loop, and clients and locks cannot cross loops.

Each subscriber receives, per poll, the resource's state or the error of that check. A failed request (or an
answer it cannot read) is a failed check for every wait it served, each counted against that wait's own
limit, never the end of all of them. Checks are handed over :data:`DELIVERY_SLICE` resources per turn of the
event loop, so that waking (and logging) thousands of waits never holds the loop in one go. It does not judge
states; triggers do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.waits.waitable import Waitable

log = logging.getLogger(__name__)

PollerKey = tuple[str, str, str]
"""The kind's name, the connection id and the retry settings (as sorted JSON)."""

Check = Any
"""One poll's news for one resource: its state, or the :class:`FoundryError` of the failed check."""

DELIVERY_SLICE = 100
"""Resources whose waits are handed their check per turn of the event loop. Each wait wakes in the turn after,
judges its state and may log a line (a change, a heartbeat); 500 at once held the triggerer's loop for one long
turn."""


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


class ResourcePoller:
    """Reads every subscribed resource of one kind, every ``interval`` seconds (the smallest asked for).

    :param hook: the hook it reads through; it closes the hook's client when it retires
    :param waitable: the kind of resource it reads
    :param key: its key in the registry
    """

    _registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, ResourcePoller]] = (
        weakref.WeakKeyDictionary()
    )
    _creation_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def __init__(self, hook: ModelStudioHook, waitable: Waitable[Any, Any], key: PollerKey) -> None:
        self.hook = hook
        self.waitable = waitable
        self.key = key
        self._subscribers: dict[str, list[Subscription]] = {}
        """Per resource RID (lists: almost always one subscriber, and a one-item list is a third of a set)."""
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def acquire(cls, waitable: Waitable[Any, Any], conn_id: str, retry: dict[str, Any] | None) -> ResourcePoller:
        """The poller of ``waitable`` through ``conn_id`` on the running loop, created (and its connection read)
        on first use.

        :param waitable: the kind of resource
        :param conn_id: the Foundry connection
        :param retry: retry bounds of each request (plain numbers)
        """
        loop = asyncio.get_running_loop()
        key = (waitable.name, conn_id, json.dumps(retry or {}, sort_keys=True))
        lock = cls._creation_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            pollers = cls._registry.setdefault(loop, {})
            poller = pollers.get(key)
            if poller is None:
                hook = ModelStudioHook(conn_id, retry=retry)
                await hook.asettings()
                poller = pollers[key] = cls(hook, waitable, key)
            return poller

    @property
    def watched(self) -> int:
        return len(self._subscribers)

    def subscribe(self, rid: str, interval: float) -> Subscription:
        """Start receiving checks of ``rid`` at least every ``interval`` seconds."""
        subscription = Subscription(interval)
        self._subscribers.setdefault(rid, []).append(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll_forever())
        return subscription

    def unsubscribe(self, rid: str, subscription: Subscription) -> None:
        """Stop checks to ``subscription``; the poller shuts down when nobody is left."""
        subscriptions = self._subscribers.get(rid, [])
        if subscription in subscriptions:
            subscriptions.remove(subscription)
        if not subscriptions:
            self._subscribers.pop(rid, None)
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
        name = self.waitable.name
        failure: Check
        try:
            checks = await self.waitable.read_many(self.hook, rids)
        except FoundryError as exc:
            log.warning("Checking %d %s(s) failed: %s", len(rids), name, exc)
            failure = exc
        except Exception as exc:
            log.exception("Unexpected failure while checking %d %s(s)", len(rids), name)
            failure = PollingFailedError(f"Unexpected failure while checking {name}s: {exc!r}")
        else:
            await self._deliver_each(rids, lambda rid: self._check(rid, checks))
            return
        await self._deliver_each(rids, lambda rid: failure)

    async def _deliver_each(self, rids: list[str], check_of: Callable[[str], Check]) -> None:
        """Hand each resource's check to its waits, :data:`DELIVERY_SLICE` resources per turn of the event loop."""
        for start in range(0, len(rids), DELIVERY_SLICE):
            if start:
                await asyncio.sleep(0)
            for rid in rids[start : start + DELIVERY_SLICE]:
                self._deliver(rid, check_of(rid))

    def _deliver(self, rid: str, check: Check) -> None:
        for subscription in self._subscribers.get(rid, ()):
            subscription.deliver(check)

    def _check(self, rid: str, checks: Mapping[str, Check]) -> Check:
        """What one read round says of ``rid``: its state, or a failed check when it was missing or failed."""
        name = self.waitable.name
        if rid not in checks:
            return FoundryError(f"Foundry did not return {name} {rid}.")
        check = checks[rid]
        if isinstance(check, BaseException) and not isinstance(check, FoundryError):
            return PollingFailedError(f"Unexpected failure while reading {name} {rid}: {check!r}")
        return check
