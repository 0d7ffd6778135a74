"""``FoundryDatasetTrigger``: an event trigger that fires once for each new commit on a Foundry dataset branch.

Give it to an ``AssetWatcher`` and a DAG scheduled on that asset runs once per commit. Every watcher through
the same connection in one triggerer shares one poller that reads each distinct branch once per interval (the
smallest asked for), with one token. What is news is decided in :mod:`~airflow_provider_modelstudio.datasets.news`;
the last commit announced is remembered in an Airflow Variable
(:mod:`~airflow_provider_modelstudio.datasets.watermarks`), written :data:`PERSIST_GRACE_SECONDS` after the event
left the trigger, so that a triggerer killed before Airflow stored the event announces it again after a restart
instead of losing it. Failed checks are reported, never ended on (:mod:`~airflow_provider_modelstudio.datasets.health`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_modelstudio.datasets.heads import BranchHead, branch_key
from airflow_provider_modelstudio.datasets.health import WatchHealth
from airflow_provider_modelstudio.datasets.news import Watermark, announced, event_payload, is_news, starting_point
from airflow_provider_modelstudio.datasets.watermarks import VariableWatermarks, WatermarkStore, watermark_key
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.runs import arguments
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from airflow_provider_modelstudio.waits.kinds import DATASET_BRANCHES

PERSIST_GRACE_SECONDS = 5.0
"""How long after an event its watermark is written: the triggerer hands events to Airflow every second or so."""


class FoundryDatasetTrigger(BaseEventTrigger):
    """Fires once for each new COMMITTED transaction on a branch of a Foundry dataset (for an ``AssetWatcher``).

    The event's payload names ``dataset_rid``, ``branch``, ``transaction_rid``, ``transaction_type``,
    ``closed_time`` and ``previous_transaction_rid`` (the commit announced before, or for the first event the one
    the watcher started from; None when the branch had none). OPEN and
    ABORTED transactions fire nothing; several commits between two checks fire one event, for the newest. A
    watcher that has never announced anything starts from the branch as it finds it.

    :param dataset_rid: the dataset, ``ri.foundry.<instance>.dataset.<locator>``
    :param branch: its branch
    :param foundry_conn_id: a connection of type ``foundry`` whose token has the ``api:datasets-read`` scope
    :param poll_interval: seconds between checks of the branch
    :param retry: retry bounds of each request (plain numbers, see ``RetryPolicy``)
    """

    watermarks: ClassVar[WatermarkStore] = VariableWatermarks()
    """Where watermarks are kept (tests put another store here)."""

    def __init__(
        self,
        *,
        dataset_rid: str,
        branch: str = "master",
        foundry_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 60.0,
        retry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.key = branch_key(dataset_rid, branch)
        arguments.check_conn_id(foundry_conn_id)
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float) or not poll_interval > 0:
            raise FoundryConfigError(
                f"poll_interval={poll_interval!r} is not a number of seconds above 0; e.g. poll_interval=60."
            )
        self.dataset_rid = dataset_rid
        self.branch = branch
        self.foundry_conn_id = foundry_conn_id
        self.poll_interval = float(poll_interval)
        self.retry = arguments.check_retry(retry)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dataset_rid": self.dataset_rid,
                "branch": self.branch,
                "foundry_conn_id": self.foundry_conn_id,
                "poll_interval": self.poll_interval,
                "retry": self.retry,
            },
        )

    @property
    def what(self) -> str:
        return f"dataset {self.dataset_rid} branch {self.branch!r}"

    async def run(self) -> AsyncIterator[TriggerEvent]:
        health = WatchHealth(self.what, self.poll_interval, self.log)
        poller = await self._poller(health)
        watermark_at = watermark_key(self.dataset_rid, self.serialize()[1])
        mark = await self._load(watermark_at, health)
        subscription = poller.subscribe(self.key, self.poll_interval)
        try:
            while True:
                check = await subscription.next()
                if isinstance(check, FoundryError):
                    health.failed(check)
                    continue
                health.answered()
                head: BranchHead = check
                if mark is None:
                    mark = starting_point(head)
                    self.log.info("Watching %s from now on: it is %s.", self.what, head.describe())
                    await self._save(watermark_at, mark)
                elif is_news(head, mark):
                    self.log.info("New commit on %s: it is %s. Firing an event.", self.what, head.describe())
                    yield TriggerEvent(event_payload(head, mark))
                    mark = announced(head)
                    await asyncio.sleep(PERSIST_GRACE_SECONDS)
                    await self._save(watermark_at, mark)
        finally:
            poller.unsubscribe(self.key, subscription)

    async def _poller(self, health: WatchHealth) -> ResourcePoller:
        """The shared poller, once the connection can be read (a missing one is reported and tried again)."""
        while True:
            try:
                return await ResourcePoller.acquire(DATASET_BRANCHES, self.foundry_conn_id, self.retry)
            except FoundryError as exc:
                health.failed(exc)
            except Exception as exc:
                health.failed(PollingFailedError(f"could not read connection {self.foundry_conn_id!r}: {exc}"))
            await asyncio.sleep(self.poll_interval)

    async def _load(self, key: str, health: WatchHealth) -> Watermark | None:
        """The watermark saved before; until it can be read, failures are reported and it is tried again."""
        while True:
            try:
                mark = await self.watermarks.load(key)
            except Exception as exc:
                health.failed(PollingFailedError(f"could not read Variable {key!r}: {exc!r}"))
                await asyncio.sleep(self.poll_interval)
                continue
            if mark is not None:
                self.log.info(
                    "Watching %s; the last commit announced is %s (Variable %s).",
                    self.what,
                    mark.transaction_rid or "none yet",
                    key,
                )
            return mark

    async def _save(self, key: str, mark: Watermark) -> None:
        about = {"dataset_rid": self.dataset_rid, "branch": self.branch, "foundry_conn_id": self.foundry_conn_id}
        try:
            await self.watermarks.save(key, mark, about)
        except Exception as exc:
            self.log.error(
                "Could not save the last commit announced on %s in Variable %s (%r); after a triggerer restart "
                "it may be announced again.",
                self.what,
                key,
                exc,
            )
