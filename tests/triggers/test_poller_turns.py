"""A poll round of many builds wakes their waits a slice at a time: the event loop turns between slices, so other
coroutines (other triggers, Airflow's own) run while hundreds of waits are woken."""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_modelstudio.triggers.poller import DELIVERY_SLICE, ResourcePoller
from airflow_provider_modelstudio.waits.kinds import BUILDS


class RunningBuilds:
    """Stands in for the hook: every build asked about is RUNNING."""

    async def aget_build_statuses(self, build_rids: list[str]) -> dict[str, str]:
        return dict.fromkeys(build_rids, "RUNNING")

    async def aclose(self) -> None:
        return None


def test_a_round_of_many_builds_lets_other_coroutines_run_between_slices_of_waits() -> None:
    builds = [f"ri.foundry.main.build.b{i}" for i in range(2 * DELIVERY_SLICE + 1)]
    turns_seen_at_delivery: list[int] = []

    async def round_of_checks() -> None:
        turns = 0
        poller = ResourcePoller(RunningBuilds(), BUILDS, ("build", "c", "{}"))  # type: ignore[arg-type]

        async def other_coroutine() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        async def wait(build_rid: str) -> Any:
            subscription = poller.subscribe(build_rid, 3600)
            await subscription.next()
            turns_seen_at_delivery.append(turns)
            poller.unsubscribe(build_rid, subscription)

        other = asyncio.create_task(other_coroutine())
        await asyncio.gather(*(wait(rid) for rid in builds))
        other.cancel()

    asyncio.run(round_of_checks())
    assert len(turns_seen_at_delivery) == len(builds)
    assert len(set(turns_seen_at_delivery)) == 3  # one turn of the loop per slice
