"""The kinds' own pieces: a kind without a batch read reads each resource at once and keeps each one's failure
to itself; a build is judged by its status; a watch that timed out before any state says so."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.waits.kinds import BUILDS, LIVE_DEPLOYMENTS, read_each
from airflow_provider_modelstudio.waits.waitable import ChangeWatch


def test_reading_each_reads_every_resource_at_once_and_keeps_a_failure_to_its_own() -> None:
    started: list[str] = []
    refused = FoundryError("refused")

    async def read_one(hook: Any, rid: str) -> str:
        started.append(rid)
        await asyncio.sleep(0)
        assert set(started) == {"a", "b", "c"}, "each read waits until all have started"
        if rid == "b":
            raise refused
        return rid.upper()

    answers = asyncio.run(read_each(read_one)(object(), ["a", "b", "c"]))
    assert answers == {"a": "A", "b": refused, "c": "C"}


@pytest.mark.parametrize(
    ("status", "verdict"),
    [("RUNNING", Verdict.WAIT), ("SUCCEEDED", Verdict.SUCCEEDED), ("FAILED", Verdict.FAILED), ("QUEUED", Verdict.WAIT)],
)
def test_a_build_is_judged_by_its_status(status: str, verdict: Verdict) -> None:
    assert BUILDS.judge(status, None) is verdict


def test_a_wait_that_timed_out_before_any_state_says_it_is_unknown() -> None:
    watch: ChangeWatch[Any, Any] = ChangeWatch(LIVE_DEPLOYMENTS, "d", None, logging.getLogger("test"))
    assert str(watch.timed_out()) == (
        f"{LIVE_DEPLOYMENTS.title} d was not done within the wait's timeout; it is unknown."
    )
