"""``ModelStudioRunTrigger``: waits on a run's build in the triggerer, for the operator and the sensor.

It serialises to plain values only, shares one getBatch poller with every other trigger of the same
connection (see :mod:`~airflow_provider_modelstudio.triggers.poller`), rides out transient failures, and
carries its own deadline so that a timeout comes back as an event the task can act on (cancel the build)
rather than a framework kill. On Airflow 3.3+, ``on_kill`` cancels the build when a user kills the task.
It does not launch runs and does not build results: the task does, from the event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.runs.events import EventKind, make_event
from airflow_provider_modelstudio.runs.lifecycle import MAX_CONSECUTIVE_POLL_FAILURES, StatusWatch, is_transient
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.triggers.poller import BuildPoller, load_settings

KILL_CANCEL_RETRY = {"max_attempts": 3, "backoff_initial": 0.5, "backoff_max": 2.0, "max_elapsed": 10.0}


class ModelStudioRunTrigger(BaseTrigger):
    """Fires once the build of a Model Studio run is final, the deadline passes, or polling keeps failing.

    :param build_rid: the build to wait on
    :param foundry_conn_id: the Foundry connection
    :param poll_interval: seconds between status checks
    :param deadline: UNIX time at which to give up with a ``timeout`` event; None waits indefinitely
    :param run: the run (``ModelStudioRun`` JSON), echoed in the event
    :param model_studio_rid: the studio, echoed in the event
    :param retry: retry bounds of each request (plain numbers)
    :param cancel_on_kill: cancel the build when a user kills the task (Airflow 3.3+)
    :param max_consecutive_failures: failed checks in a row (each after its own retries) before an error event
    """

    def __init__(
        self,
        *,
        build_rid: str,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        run: dict[str, Any] | None = None,
        model_studio_rid: str | None = None,
        retry: dict[str, Any] | None = None,
        cancel_on_kill: bool = True,
        max_consecutive_failures: int = MAX_CONSECUTIVE_POLL_FAILURES,
    ) -> None:
        super().__init__()
        self.build_rid = build_rid
        self.foundry_conn_id = foundry_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.run_info = run or {"buildRid": build_rid}
        self.model_studio_rid = model_studio_rid
        self.retry = retry
        self.cancel_on_kill = cancel_on_kill
        self.max_consecutive_failures = max_consecutive_failures

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "build_rid": self.build_rid,
                "foundry_conn_id": self.foundry_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "run": self.run_info,
                "model_studio_rid": self.model_studio_rid,
                "retry": self.retry,
                "cancel_on_kill": self.cancel_on_kill,
                "max_consecutive_failures": self.max_consecutive_failures,
            },
        )

    def _event(
        self, kind: EventKind, build_url: str, status: str | None = None, message: str = "", transient: bool = False
    ) -> TriggerEvent:
        return TriggerEvent(
            make_event(
                kind,
                build_rid=self.build_rid,
                status=status,
                message=message,
                run=self.run_info,
                model_studio_rid=self.model_studio_rid,
                build_url=build_url,
                transient=transient,
            )
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            poller = await BuildPoller.acquire(self.foundry_conn_id, self.retry)
        except Exception as exc:  # a missing connection, bad settings: the task must hear of it, not hang
            yield self._event("error", "", message=f"Could not start waiting on build {self.build_rid}: {exc}")
            return
        build_url = poller.settings.build_url(self.build_rid)
        watch = StatusWatch(self.build_rid, build_url, self.poll_interval, self.log)
        subscription = poller.subscribe(self.build_rid, self.poll_interval)
        failures = 0
        try:
            while True:
                remaining = None if self.deadline is None else self.deadline - time.time()
                try:
                    async with asyncio.timeout(remaining):
                        update = await subscription.next()
                except TimeoutError:
                    yield self._event("timeout", build_url, message=f"Build {self.build_rid} was still not final.")
                    return
                problem = update.error or (
                    None
                    if update.build is not None
                    else FoundryError(f"Foundry did not return build {self.build_rid}.")
                )
                if problem is not None:
                    failures += 1
                    transient = update.error is not None and is_transient(problem)
                    if (update.error is not None and not transient) or failures >= self.max_consecutive_failures:
                        yield self._event(
                            "error",
                            build_url,
                            message=f"Stopped waiting after {failures} failed check(s) of build {self.build_rid}: "
                            f"{problem}",
                            transient=transient,
                        )
                        return
                    continue
                failures = 0
                status = update.build.get("status") if update.build else None
                if watch.observe(status) is not Verdict.WAIT:
                    yield self._event("final", build_url, status=str(status))
                    return
        finally:
            poller.unsubscribe(self.build_rid, subscription)

    async def on_kill(self) -> None:
        """Cancel the build: the user killed, cleared or marked the deferred task (Airflow 3.3+)."""
        if not self.cancel_on_kill:
            self.log.info("Task killed; build %s left running (cancel_on_kill=False).", self.build_rid)
            return
        from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
        from airflow_provider_modelstudio.foundry.retry import RetryPolicy

        client = AsyncFoundryClient(
            await load_settings(self.foundry_conn_id), retry=RetryPolicy.from_value(KILL_CANCEL_RETRY)
        )
        try:
            await client.cancel_build(self.build_rid)
            self.log.info("Task killed; asked Foundry to cancel build %s.", self.build_rid)
        except FoundryError as exc:
            self.log.warning("Task killed, but cancelling build %s failed: %s", self.build_rid, exc)
        finally:
            await client.aclose()
