"""Every kind of resource a task can wait on, each described once: a :class:`~.waitable.Waitable` and its readers.

To wait on a new kind, add its description and readers here (and a trigger class, to defer); the poller,
the trigger loop, the worker's loop and the sensors' pokes need nothing else.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from airflow_provider_modelstudio.datasets import heads
from airflow_provider_modelstudio.datasets.heads import BranchHead
from airflow_provider_modelstudio.datasets.news import Watermark, is_news
from airflow_provider_modelstudio.deploys import serving
from airflow_provider_modelstudio.deploys.serving import Serving, ServingGoal
from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
from airflow_provider_modelstudio.runs import status
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.waits.waitable import Waitable

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

S = TypeVar("S")


CONCURRENT_READS = 20
"""Reads of one round in flight at once: the async client's connection pool holds as many."""


def read_each(
    read_one: Callable[[ModelStudioHook, str], Awaitable[S]],
) -> Callable[[ModelStudioHook, list[str]], Awaitable[Mapping[str, S | BaseException]]]:
    """A ``read_many`` for a kind Foundry cannot read in batches: one read per distinct resource, by
    :data:`CONCURRENT_READS` readers taking the next resource as they finish (more would only queue for a
    connection, and time out there; a coroutine per resource would cost memory for thousands at once).

    :param read_one: one resource's state, read through the hook's async client
    """

    async def read_many(hook: ModelStudioHook, rids: list[str]) -> Mapping[str, S | BaseException]:
        found: dict[str, S | BaseException] = {}
        pending = iter(rids)

        async def reader() -> None:
            for rid in pending:
                try:
                    found[rid] = await read_one(hook, rid)
                except Exception as exc:  # one resource's failed check, not the round's
                    found[rid] = exc

        await asyncio.gather(*(reader() for _ in range(min(CONCURRENT_READS, len(rids)))))
        return {rid: found[rid] for rid in rids}

    return read_many


# Builds: a run's build, read 100 at a time with getBatch ------------------------------------------------------


def _build_status(hook: ModelStudioHook, build_rid: str) -> str:
    found = hook.get_build(build_rid).status
    if found is None:
        raise PollingFailedError(_no_status(build_rid))
    return found


async def _build_statuses(hook: ModelStudioHook, build_rids: list[str]) -> Mapping[str, str | BaseException]:
    statuses = await hook.aget_build_statuses(build_rids)
    # interned: thousands of waits keep their last status, and there are only a few distinct ones
    return {
        rid: sys.intern(found) if found is not None else PollingFailedError(_no_status(rid))
        for rid, found in statuses.items()
    }


def _no_status(build_rid: str) -> str:
    return f"Foundry's answer for build {build_rid} has no usable status."


def _judge_build(found: str, _goal: None) -> Verdict:
    return status.judge(found)


BUILDS: Waitable[str, None] = Waitable(
    name="build",
    read=_build_status,
    read_many=_build_statuses,
    describe=str,
    judge=_judge_build,
    trigger="airflow_provider_modelstudio.triggers.modelstudio.ModelStudioRunTrigger",
)


# Live deployments: no batch read, so one GET per distinct deployment ----------------------------------------

_SERVING_VERDICTS = {Serving.WAIT: Verdict.WAIT, Serving.READY: Verdict.SUCCEEDED, Serving.FAILED: Verdict.FAILED}


def _deployment(hook: ModelStudioHook, rid: str) -> LiveDeployment:
    return hook.get_live_deployment(rid)


async def _adeployment(hook: ModelStudioHook, rid: str) -> LiveDeployment:
    return await hook.aget_live_deployment(rid)


def _judge_serving(view: LiveDeployment, goal: ServingGoal) -> Verdict:
    return _SERVING_VERDICTS[serving.judge(view, goal.version_rid, accept_degraded=goal.accept_degraded)]


LIVE_DEPLOYMENTS: Waitable[LiveDeployment, ServingGoal] = Waitable(
    name="live deployment",
    read=_deployment,
    read_many=read_each(_adeployment),
    describe=LiveDeployment.describe,
    judge=_judge_serving,
    trigger="airflow_provider_modelstudio.triggers.live_deployment.LiveDeploymentTrigger",
)


# Dataset branches: one GET of the branch per distinct branch, plus one of a transaction not yet seen closed -----


def _judge_branch(head: BranchHead, since: Watermark) -> Verdict:
    return Verdict.SUCCEEDED if is_news(head, since) else Verdict.WAIT


DATASET_BRANCHES: Waitable[BranchHead, Watermark] = Waitable(
    name="dataset branch",
    read=heads.read_head,
    read_many=read_each(heads.aread_head),
    describe=BranchHead.describe,
    judge=_judge_branch,
    trigger="airflow_provider_modelstudio.triggers.dataset_watcher.FoundryDatasetTrigger",
)
"""Waited on by the dataset watcher (an event trigger that never ends): the goal is the last commit announced."""
