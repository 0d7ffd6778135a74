"""A made-up third kind of resource (a dataset branch) waits through the same poller, trigger loop, worker loop
and poke as builds and live deployments, given only its description and its readers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_modelstudio.foundry.errors import FoundryError, FoundryServerError
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.runs.waiting import FailedChecks, WaitPolicy
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from airflow_provider_modelstudio.triggers.resource_wait import EndKind, ResourceWaitTrigger
from airflow_provider_modelstudio.triggers.resume_hold import Deferral
from airflow_provider_modelstudio.waits.kinds import read_each
from airflow_provider_modelstudio.waits.waitable import ChangeWatch, Waitable
from airflow_provider_modelstudio.waits.worker import check_once, wait_in_worker
from tests.lifecycle_helpers import FAST

BRANCH = "ri.foundry.main.dataset.d1:master"
OTHER = "ri.foundry.main.dataset.d2:master"
SERVER_ERROR = FoundryServerError(method="GET", path="/branches", status_code=500)


class Branches:
    """The branches' transaction states as a script: each read answers the next state of that branch (the last
    repeats); an exception in the script is raised. Records every read."""

    script: dict[str, list[Any]] = {}
    reads: list[str] = []
    rounds: list[list[str]] = []

    @classmethod
    def reset(cls, **script: list[Any]) -> None:
        cls.script = {BRANCH if name == "branch" else OTHER: list(states) for name, states in script.items()}
        cls.reads = []
        cls.rounds = []

    @classmethod
    def answer(cls, rid: str) -> str:
        cls.reads.append(rid)
        states = cls.script[rid]
        state = states.pop(0) if len(states) > 1 else states[0]
        if isinstance(state, Exception):
            raise state
        return str(state)


async def read_branch(hook: Any, rid: str) -> str:
    return Branches.answer(rid)


read_each_branch = read_each(read_branch)


async def read_branches(hook: Any, rids: list[str]) -> Mapping[str, str | BaseException]:
    Branches.rounds.append(list(rids))
    return await read_each_branch(hook, rids)


def judge_branch(state: str, goal: str) -> Verdict:
    if state == goal:
        return Verdict.SUCCEEDED
    return Verdict.FAILED if state == "ABORTED" else Verdict.WAIT


BRANCHES: Waitable[str, str] = Waitable(
    name="dataset branch",
    read=lambda hook, rid: Branches.answer(rid),
    read_many=read_branches,
    describe=lambda state: f"at a {state} transaction",
    judge=judge_branch,
    trigger=f"{__name__}.BranchTrigger",
)


class BranchTrigger(ResourceWaitTrigger[ChangeWatch[str, str]]):
    """A trigger of the made-up kind: its settings and its events, nothing of the loop."""

    waitable = BRANCHES
    rid_field = "branch_rid"

    def __init__(
        self,
        *,
        branch_rid: str,
        foundry_conn_id: str = "foundry_default",
        retry: Any = FAST,
        deferred_at: float | None = None,
        deferred_from: str | None = None,
        **wait: Any,
    ):
        super().__init__(
            branch_rid, foundry_conn_id, WaitPolicy(**wait), retry, Deferral.of(deferred_at, deferred_from)
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.BranchTrigger", {"branch_rid": self.rid}

    def watch(self, hook: Any) -> ChangeWatch[str, str]:
        return ChangeWatch(BRANCHES, self.rid, "COMMITTED", logging.getLogger("branch"))

    def final_event(self, state: str, verdict: Verdict) -> TriggerEvent:
        return TriggerEvent({"kind": "final", "state": state, "verdict": verdict.value})

    def ended_event(self, kind: EndKind, message: str, transient: bool) -> TriggerEvent:
        return TriggerEvent({"kind": kind, "message": message, "transient": transient})

    def still(self, watch: ChangeWatch[str, str]) -> str:
        return f"still {watch.last or 'unknown'}"


async def first_event(trigger: BranchTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("no event")


def wait_all(*triggers: BranchTrigger) -> list[dict[str, Any]]:
    async def gather() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(first_event(t) for t in triggers)))

    return asyncio.run(gather())


# In the triggerer ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("foundry_connection")
def test_waits_on_a_new_kind_share_one_poller_that_reads_each_branch_once_a_round() -> None:
    Branches.reset(branch=["OPEN", "OPEN", "COMMITTED"], other=["OPEN", "COMMITTED"])
    events = wait_all(*(BranchTrigger(branch_rid=rid, poll_interval=0.02) for rid in (BRANCH, BRANCH, BRANCH, OTHER)))
    assert events == [{"kind": "final", "state": "COMMITTED", "verdict": "succeeded"}] * 4
    assert Branches.reads == [rid for round_ in Branches.rounds for rid in round_]
    assert all(sorted(round_) in ([BRANCH], [OTHER], sorted([BRANCH, OTHER])) for round_ in Branches.rounds)
    assert Branches.reads.count(BRANCH) == 3  # one read per round for its three waits


@pytest.mark.usefixtures("foundry_connection")
def test_a_new_kind_ends_in_failure_timeout_or_failed_checks_like_any_other() -> None:
    Branches.reset(branch=["OPEN", "ABORTED"], other=[SERVER_ERROR])
    failed, broken = wait_all(
        BranchTrigger(branch_rid=BRANCH, poll_interval=0.02),
        BranchTrigger(branch_rid=OTHER, poll_interval=0.02, max_consecutive_failures=2),
    )
    assert failed == {"kind": "final", "state": "ABORTED", "verdict": "failed"}
    assert (broken["kind"], broken["transient"]) == ("error", True)
    assert broken["message"] == f"Stopped waiting after 2 failed check(s) of dataset branch {OTHER}: {SERVER_ERROR}"
    Branches.reset(branch=["OPEN"])
    (late,) = wait_all(BranchTrigger(branch_rid=BRANCH, poll_interval=0.02, deadline=0.0))
    assert late == {"kind": "timeout", "message": "still unknown", "transient": False}


@pytest.mark.usefixtures("foundry_connection")
def test_the_poller_of_a_new_kind_retires_with_its_last_wait_and_is_its_own() -> None:
    Branches.reset(branch=["OPEN"])

    async def scenario() -> tuple[list[str], dict[Any, Any]]:
        wait = asyncio.create_task(first_event(BranchTrigger(branch_rid=BRANCH, poll_interval=0.02)))
        await asyncio.sleep(0.1)
        kinds = [key[0] for key in ResourcePoller._registry[asyncio.get_running_loop()]]
        wait.cancel()
        await asyncio.gather(wait, return_exceptions=True)
        await asyncio.sleep(0)
        return kinds, dict(ResourcePoller._registry.get(asyncio.get_running_loop(), {}))

    assert asyncio.run(scenario()) == (["dataset branch"], {})


def test_a_branch_left_out_of_a_round_or_failing_unexpectedly_is_a_failed_check_naming_it() -> None:
    poller = ResourcePoller(None, BRANCHES, ("dataset branch", "c", "{}"))  # type: ignore[arg-type]
    checks: Mapping[str, Any] = {OTHER: RuntimeError("boom")}
    missing, unexpected = poller._check(BRANCH, checks), poller._check(OTHER, checks)
    assert isinstance(missing, FoundryError) and str(missing) == f"Foundry did not return dataset branch {BRANCH}."
    assert isinstance(unexpected, PollingFailedError)
    assert str(unexpected) == f"Unexpected failure while reading dataset branch {OTHER}: RuntimeError('boom')"


# In the worker and a sensor's poke -------------------------------------------------------------------------


def test_the_worker_loop_waits_on_a_new_kind_and_logs_each_change(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="branch")
    Branches.reset(branch=["OPEN", SERVER_ERROR, "OPEN", "COMMITTED"])
    slept: list[float] = []
    watch = ChangeWatch(BRANCHES, BRANCH, "COMMITTED", logging.getLogger("branch"))
    ended = wait_in_worker(BRANCHES, None, watch, WaitPolicy(5), sleep=slept.append)  # type: ignore[arg-type]
    assert ended == ("COMMITTED", Verdict.SUCCEEDED)
    assert slept == [5, 5, 5]
    assert [r.getMessage() for r in caplog.records] == [
        f"Dataset branch {BRANCH} is at a OPEN transaction.",
        f"Check 1 of dataset branch {BRANCH} failed ({SERVER_ERROR}); will check again.",
        f"Dataset branch {BRANCH} is at a COMMITTED transaction.",
    ]


def test_the_worker_loop_gives_up_on_a_new_kind_at_its_deadline_saying_where_it_was() -> None:
    Branches.reset(branch=["OPEN"])
    watch = ChangeWatch(BRANCHES, BRANCH, "COMMITTED", logging.getLogger("branch"))
    with pytest.raises(FoundryError) as info:
        wait_in_worker(BRANCHES, None, watch, WaitPolicy(5, deadline=0.0), sleep=lambda _s: None)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"Dataset branch {BRANCH} was not done within the wait's timeout; it is at a OPEN transaction."
    )


def test_a_poke_of_a_new_kind_checks_once() -> None:
    Branches.reset(branch=["OPEN", "COMMITTED"])
    watch = ChangeWatch(BRANCHES, BRANCH, "COMMITTED", logging.getLogger("branch"))
    failures = FailedChecks(3, f"dataset branch {BRANCH}")
    assert check_once(BRANCHES, None, watch, failures) is None  # type: ignore[arg-type]
    assert check_once(BRANCHES, None, watch, failures) == ("COMMITTED", Verdict.SUCCEEDED)  # type: ignore[arg-type]
