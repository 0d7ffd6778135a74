"""One status poller per connection per event loop, shared by every trigger waiting on builds.

N triggers waiting through the same connection cost ceil(N/100) getBatch requests per poll interval
instead of N single reads (Foundry allows 4 build reads a second). The poller owns one ``httpx`` client;
OAuth2 tokens are shared process-wide by the token cache. It stops, and closes its client, as soon as its
last subscriber leaves. Pollers are keyed by event loop: ``dag.test()`` runs each trigger in a fresh loop,
and clients and locks cannot cross loops. It does not judge statuses; triggers do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

log = logging.getLogger(__name__)

PollerKey = tuple[str, str]


@dataclass(frozen=True)
class Update:
    """One poll's news for one build: the build (None when Foundry did not return it) or the error."""

    build: dict[str, Any] | None = None
    error: FoundryError | None = None


class Subscription:
    """One trigger's mailbox: the latest update, handed over as soon as the trigger asks for it.

    Deliberately small (thousands live in one triggerer): a slot and at most one pending future.
    """

    __slots__ = ("_latest", "_waiter", "interval")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._latest: Update | None = None
        self._waiter: asyncio.Future[Update] | None = None

    def deliver(self, update: Update) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(update)
            self._waiter = None
        else:
            self._latest = update

    async def next(self) -> Update:
        """The newest update not yet read, waiting for the next poll when there is none."""
        if self._latest is not None:
            update, self._latest = self._latest, None
            return update
        self._waiter = asyncio.get_running_loop().create_future()
        return await self._waiter


async def load_settings(conn_id: str) -> FoundrySettings:
    """Read a connection from inside the triggerer (no database access there)."""
    from airflow.sdk import BaseHook

    return FoundrySettings.from_connection(await BaseHook.aget_connection(conn_id))


class BuildPoller:
    """Polls every subscribed build with getBatch, every ``interval`` seconds (the smallest asked for).

    :param client: the async client it owns and closes
    """

    _registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, BuildPoller]] = (
        weakref.WeakKeyDictionary()
    )
    _creation_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def __init__(self, client: AsyncFoundryClient, key: PollerKey) -> None:
        self.client = client
        self.key = key
        self._subscribers: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def acquire(cls, conn_id: str, retry: dict[str, Any] | None) -> BuildPoller:
        """The poller of ``conn_id`` on the running loop, created on first use."""
        loop = asyncio.get_running_loop()
        key = (conn_id, json.dumps(retry or {}, sort_keys=True))
        lock = cls._creation_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            pollers = cls._registry.setdefault(loop, {})
            poller = pollers.get(key)
            if poller is None:
                settings = await load_settings(conn_id)
                poller = cls(AsyncFoundryClient(settings, retry=RetryPolicy.from_value(retry)), key)
                pollers[key] = poller
            return poller

    @property
    def settings(self) -> FoundrySettings:
        return self.client.settings

    @property
    def watched(self) -> int:
        return len(self._subscribers)

    def subscribe(self, build_rid: str, interval: float) -> Subscription:
        """Start receiving updates for ``build_rid`` at least every ``interval`` seconds."""
        subscription = Subscription(interval)
        self._subscribers.setdefault(build_rid, set()).add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll_forever())
        return subscription

    def unsubscribe(self, build_rid: str, subscription: Subscription) -> None:
        """Stop updates to ``subscription``; the poller shuts down when nobody is left."""
        subscriptions = self._subscribers.get(build_rid, set())
        subscriptions.discard(subscription)
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
            await asyncio.shield(self.client.aclose())

    async def _poll_once(self) -> None:
        rids = list(self._subscribers)
        try:
            builds = await self.client.get_builds(rids)
        except FoundryError as exc:
            log.warning("Checking %d build(s) failed: %s", len(rids), exc)
            failed = Update(error=exc)
            self._deliver(rids, lambda _rid: failed)
            return
        except Exception as exc:
            log.exception("Unexpected failure while checking %d build(s)", len(rids))
            unexpected = Update(error=FoundryError(f"Unexpected failure while checking builds: {exc!r}"))
            self._deliver(rids, lambda _rid: unexpected)
            return
        self._deliver(rids, lambda rid: Update(build=builds.get(rid)))

    def _deliver(self, rids: list[str], update_for: Any) -> None:
        for rid in rids:
            for subscription in self._subscribers.get(rid, ()):
                subscription.deliver(update_for(rid))
