"""``FoundryDatasetTrigger`` against the emulator: one event per new commit, none for OPEN or ABORTED
transactions, nothing lost or repeated across restarts, one read per branch per interval however many
watchers, and failures that are said out loud.

Each scenario runs the watcher as the triggerer does (its ``run()`` iterated in an event loop) and moves on
when the emulator has answered a number of branch reads, never after a wall-clock time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from airflow_provider_modelstudio.datasets.news import Watermark
from airflow_provider_modelstudio.datasets.watermarks import watermark_key
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.triggers import dataset_watcher
from airflow_provider_modelstudio.triggers.dataset_watcher import FoundryDatasetTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from tests.foundry.support import requests_of
from tests.lifecycle_helpers import FAST

INTERVAL = 0.02


class MemoryWatermarks:
    """Watermarks kept in a dict, as Variables would keep them; counts saves."""

    def __init__(self) -> None:
        self.saved: dict[str, dict[str, Any]] = {}
        self.saves = 0
        self.broken = False

    async def load(self, key: str) -> Watermark | None:
        if self.broken:
            raise RuntimeError("the store is down")
        return Watermark.from_json(self.saved.get(key))

    async def save(self, key: str, mark: Watermark, about: dict[str, Any]) -> None:
        if self.broken:
            raise RuntimeError("the store is down")
        self.saves += 1
        self.saved[key] = {**about, **mark.to_json()}


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> MemoryWatermarks:
    kept = MemoryWatermarks()
    monkeypatch.setattr(FoundryDatasetTrigger, "watermarks", kept)
    monkeypatch.setattr(dataset_watcher, "PERSIST_GRACE_SECONDS", 0.0)
    return kept


def lines(logs: list[dict[str, Any]], level: str) -> list[str]:
    return [str(line["event"]) for line in logs if line["log_level"] == level]


def branch_reads(emulator: FoundryEmulator) -> int:
    return sum(requests_of(emulator.counters(), "get_dataset_branch").values())


def transaction_reads(emulator: FoundryEmulator) -> int:
    return sum(requests_of(emulator.counters(), "get_dataset_transaction").values())


def watcher(dataset_rid: str, **kwargs: Any) -> FoundryDatasetTrigger:
    kwargs.setdefault("poll_interval", INTERVAL)
    kwargs.setdefault("retry", FAST)
    return FoundryDatasetTrigger(dataset_rid=dataset_rid, **kwargs)


class Watching:
    """Watchers running in one event loop, their events collected as they fire."""

    def __init__(self, emulator: FoundryEmulator, *triggers: FoundryDatasetTrigger) -> None:
        self.emulator = emulator
        self.triggers = triggers
        self.events: list[list[dict[str, Any]]] = [[] for _ in triggers]
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Watching:
        for index, trigger in enumerate(self.triggers):
            self._tasks.append(asyncio.create_task(self._collect(index, trigger.run())))
        return self

    async def _collect(self, index: int, events: AsyncIterator[Any]) -> None:
        async for event in events:
            self.events[index].append(dict(event.payload))

    async def reads(self, more: int) -> None:
        """Wait until the emulator has answered ``more`` further branch reads (and what follows them ran)."""
        target = branch_reads(self.emulator) + more
        while branch_reads(self.emulator) < target:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def scenario(emulator: FoundryEmulator, *triggers: FoundryDatasetTrigger) -> Callable[..., Any]:
    """Decorate ``async def steps(watching)``: run it with the watchers running; return the events."""

    def run(steps: Callable[[Watching], Any]) -> list[list[dict[str, Any]]]:
        async def everything() -> list[list[dict[str, Any]]]:
            async with Watching(emulator, *triggers) as watching:
                await steps(watching)
            return watching.events

        return asyncio.run(everything())

    return run


def waiting(reads: int) -> Callable[[Watching], Any]:
    """Steps that only let ``reads`` branch reads pass."""

    async def steps(watching: Watching) -> None:
        await watching.reads(reads)

    return steps


def one_commit(
    emulator: FoundryEmulator, dataset: str, commits: list[str], *, start: int = 2, settle: int = 3
) -> Callable[[Watching], Any]:
    """Steps: let the watcher start (``start`` reads), commit once (noted in ``commits``), let it see the commit."""

    async def steps(watching: Watching) -> None:
        await watching.reads(start)
        commits.append(emulator.commit(dataset))
        await watching.reads(settle)

    return steps


def test_a_new_watcher_starts_from_the_branch_as_it_is_and_fires_once_per_commit(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks
) -> None:
    dataset = foundry_connection.add_dataset()
    commits: list[str] = []

    async def steps(watching: Watching) -> None:
        await watching.reads(3)
        commits.append(foundry_connection.commit(dataset))
        await watching.reads(3)
        commits.append(foundry_connection.commit(dataset, transaction_type="UPDATE"))
        await watching.reads(3)

    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, watcher(dataset))(steps)
    assert [e["transaction_rid"] for e in events] == commits
    what = f"dataset {dataset} branch 'master'"
    said = lines(logs, "info")
    assert len(said) == 3
    assert said[0].startswith(f"Watching {what} from now on: it is at COMMITTED SNAPSHOT transaction ri.foundry.")
    assert said[1].startswith(f"New commit on {what}: it is at COMMITTED APPEND transaction {commits[0]} (closed ")
    assert said[2].startswith(f"New commit on {what}: it is at COMMITTED UPDATE transaction {commits[1]} (closed ")
    assert said[1].endswith("Z). Firing an event.")
    started_from = events[0]["previous_transaction_rid"]  # the SNAPSHOT the dataset was made with
    assert started_from.startswith("ri.foundry.main.transaction.") and started_from not in commits
    assert events[1]["previous_transaction_rid"] == commits[0]
    assert [e["transaction_type"] for e in events] == ["APPEND", "UPDATE"]
    assert all(e["dataset_rid"] == dataset and e["branch"] == "master" for e in events)
    assert all(e["closed_time"].endswith("Z") for e in events)
    (saved,) = store.saved.values()
    assert saved["transaction_rid"] == commits[1]
    assert (saved["dataset_rid"], saved["branch"], saved["foundry_conn_id"]) == (dataset, "master", "foundry_default")


def test_open_and_aborted_transactions_fire_nothing_and_an_open_one_fires_once_committed(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks
) -> None:
    dataset = foundry_connection.add_dataset()
    opened: list[str] = []

    async def steps(watching: Watching) -> None:
        await watching.reads(2)
        aborted = foundry_connection.open_transaction(dataset)
        await watching.reads(3)
        foundry_connection.abort_transaction(dataset, aborted)
        await watching.reads(3)
        opened.append(foundry_connection.open_transaction(dataset))
        await watching.reads(3)
        foundry_connection.commit_transaction(dataset, opened[0])
        await watching.reads(3)

    (events,) = scenario(foundry_connection, watcher(dataset))(steps)
    assert [e["transaction_rid"] for e in events] == opened


def test_commits_between_two_checks_fire_one_event_for_the_newest(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks
) -> None:
    dataset = foundry_connection.add_dataset()
    commits: list[str] = []

    async def steps(watching: Watching) -> None:
        await watching.reads(2)
        commits.extend(foundry_connection.commit(dataset) for _ in range(3))
        await watching.reads(4)

    (events,) = scenario(foundry_connection, watcher(dataset))(steps)
    assert [e["transaction_rid"] for e in events] == commits[-1:]


def test_a_restarted_watcher_repeats_no_commit_and_announces_the_one_made_while_it_was_down(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks
) -> None:
    dataset = foundry_connection.add_dataset()
    commits: list[str] = []

    (first,) = scenario(foundry_connection, watcher(dataset))(one_commit(foundry_connection, dataset, commits))
    commits.append(foundry_connection.commit(dataset))  # while no triggerer runs the watcher
    with capture_logs() as logs:
        (second,) = scenario(foundry_connection, watcher(dataset))(waiting(4))
    (key,) = store.saved
    assert lines(logs, "info")[0] == (
        f"Watching dataset {dataset} branch 'master'; the last commit announced is {commits[0]} (Variable {key})."
    )
    assert [e["transaction_rid"] for e in first] == commits[:1]
    assert [e["transaction_rid"] for e in second] == commits[1:]
    assert second[0]["previous_transaction_rid"] == commits[0]


def test_watchers_that_differ_in_any_argument_keep_their_own_watermarks(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks
) -> None:
    dataset = foundry_connection.add_dataset()
    commits: list[str] = []

    steps = one_commit(foundry_connection, dataset, commits, start=3, settle=4)
    fast, slower = watcher(dataset), watcher(dataset, poll_interval=INTERVAL * 2)
    events = scenario(foundry_connection, fast, slower)(steps)
    assert [[e["transaction_rid"] for e in each] for each in events] == [commits, commits]
    assert len(store.saved) == 2


def test_watchers_share_one_branch_read_per_interval_and_read_a_closed_transaction_once(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = foundry_connection.add_dataset(), foundry_connection.add_dataset()
    triggers = [watcher(first) for _ in range(5)] + [watcher(second, poll_interval=1.0) for _ in range(5)]
    read: list[str] = []
    rounds: list[list[str]] = []
    real_read, real_round = ModelStudioHook.aget_dataset_branch, ResourcePoller._poll_once

    async def counted_read(self: ModelStudioHook, dataset_rid: str, branch_name: str) -> Any:
        read.append(f"{dataset_rid}/branches/{branch_name}")
        return await real_read(self, dataset_rid, branch_name)

    async def counted_round(self: ResourcePoller) -> None:
        rounds.append(sorted(self._subscribers))
        await real_round(self)

    monkeypatch.setattr(ModelStudioHook, "aget_dataset_branch", counted_read)
    monkeypatch.setattr(ResourcePoller, "_poll_once", counted_round)

    steps = waiting(20)
    events = scenario(foundry_connection, *triggers)(steps)
    both = sorted(f"{rid}/branches/master" for rid in (first, second))
    assert events == [[]] * 10
    assert rounds.count(both) >= 9
    assert sorted(read) == sorted(key for round_ in rounds for key in round_)  # one read per branch a round
    assert transaction_reads(foundry_connection) == 2  # one per dataset: a closed transaction is read once


def test_a_deleted_branch_is_an_error_in_the_log_until_it_is_back(
    foundry_connection: FoundryEmulator,
    store: MemoryWatermarks,
) -> None:
    dataset = foundry_connection.add_dataset(branch="develop")
    commits: list[str] = []

    async def steps(watching: Watching) -> None:
        await watching.reads(2)
        foundry_connection.delete_dataset_branch(dataset, "develop")
        await watching.reads(5)
        foundry_connection.add_dataset(dataset, branch="develop")
        commits.append(foundry_connection.commit(dataset, branch="develop"))
        await watching.reads(4)

    trigger = watcher(dataset, branch="develop")
    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, trigger)(steps)
    errors = lines(logs, "error")
    assert len(errors) == 1  # said once, then repeated only every ten minutes
    assert f"Watching dataset {dataset} branch 'develop': 1 check(s) in a row failed" in errors[0]
    assert "BranchNotFound" in errors[0] and "No event fires until a check succeeds" in errors[0]
    assert any("checks succeed again after" in line for line in lines(logs, "info"))
    assert [e["transaction_rid"] for e in events] == commits


def test_a_token_without_the_datasets_scope_is_an_error_naming_the_scope(
    foundry_connection: FoundryEmulator,
    store: MemoryWatermarks,
    set_connection: Callable[..., str],
) -> None:
    dataset = foundry_connection.add_dataset()
    foundry_connection.set_scenario({"static_tokens": {"no-datasets": ["api:models-read"]}})
    set_connection("foundry_limited", host=foundry_connection.url, password="no-datasets")

    steps = waiting(3)
    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, watcher(dataset, foundry_conn_id="foundry_limited"))(steps)
    errors = lines(logs, "error")
    assert events == []
    assert len(errors) == 1 and "api:datasets-read" in errors[0]


def test_hostile_answers_are_warned_about_and_fire_nothing(
    foundry_connection: FoundryEmulator,
    store: MemoryWatermarks,
) -> None:
    dataset = foundry_connection.add_dataset()

    async def steps(watching: Watching) -> None:
        await watching.reads(2)
        foundry_connection.set_faults("get_dataset_branch", rate_html=1.0)
        foundry_connection.commit(dataset)
        await watching.reads(8)

    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, watcher(dataset, retry={**FAST, "max_attempts": 1}))(steps)
    problems = lines(logs, "warning")
    assert events == []
    assert problems and "3 check(s) in a row failed" in problems[0]


def test_a_watermark_store_that_fails_is_reported_and_retried(
    foundry_connection: FoundryEmulator,
    store: MemoryWatermarks,
) -> None:
    dataset = foundry_connection.add_dataset()
    store.broken = True

    async def steps(watching: Watching) -> None:
        while not any("could not read Variable" in line for line in lines(logs, "warning")):
            await asyncio.sleep(0.01)
        store.broken = False
        while store.saves == 0:
            await asyncio.sleep(0.01)

    with capture_logs() as logs:
        scenario(foundry_connection, watcher(dataset))(steps)
    (warning,) = lines(logs, "warning")
    assert "3 check(s) in a row failed" in warning and "the store is down" in warning


def test_a_watermark_that_cannot_be_saved_is_an_error_and_the_events_still_fire(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = foundry_connection.add_dataset()
    commits: list[str] = []
    real_save = store.save

    async def save_only_the_start(key: str, mark: Watermark, about: dict[str, Any]) -> None:
        if store.saves:
            raise RuntimeError("the database is gone")
        await real_save(key, mark, about)

    monkeypatch.setattr(store, "save", save_only_the_start)

    steps = one_commit(foundry_connection, dataset, commits)
    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, watcher(dataset))(steps)
    (key,) = store.saved
    assert [e["transaction_rid"] for e in events] == commits
    assert lines(logs, "error") == [
        f"Could not save the last commit announced on dataset {dataset} branch 'master' in Variable {key} "
        "(RuntimeError('the database is gone')); after a triggerer restart it may be announced again."
    ]


def test_a_connection_defined_after_the_watcher_started_is_picked_up(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks, set_connection: Callable[..., str]
) -> None:
    dataset = foundry_connection.add_dataset()
    commits: list[str] = []

    async def steps(watching: Watching) -> None:
        while not any("could not read connection 'foundry_later'" in line for line in lines(logs, "warning")):
            await asyncio.sleep(0.01)
        set_connection("foundry_later", raw=foundry_connection.connection_env())
        while not store.saved:
            await asyncio.sleep(0.01)
        commits.append(foundry_connection.commit(dataset))
        await watching.reads(3)

    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, watcher(dataset, foundry_conn_id="foundry_later"))(steps)
    assert [e["transaction_rid"] for e in events] == commits
    assert any(re.search(r"checks succeed again after \d+ failed\.$", line) for line in lines(logs, "info"))


def test_a_watcher_that_started_on_an_empty_branch_says_it_has_announced_none_yet(
    foundry_connection: FoundryEmulator, store: MemoryWatermarks
) -> None:
    dataset = foundry_connection.add_dataset()
    restarted = watcher(dataset)
    key = watermark_key(dataset, restarted.serialize()[1])
    store.saved[key] = Watermark(None, None).to_json()

    steps = waiting(2)
    with capture_logs() as logs:
        (events,) = scenario(foundry_connection, restarted)(steps)
    assert lines(logs, "info")[0] == (
        f"Watching dataset {dataset} branch 'master'; the last commit announced is none yet (Variable {key})."
    )
    (snapshot,) = events  # the branch's SNAPSHOT was committed after nothing: news
    assert snapshot["previous_transaction_rid"] is None


def test_the_defaults_are_master_the_default_connection_and_a_minute() -> None:
    assert FoundryDatasetTrigger(dataset_rid="ri.foundry.main.dataset.x").serialize()[1] == {
        "dataset_rid": "ri.foundry.main.dataset.x",
        "branch": "master",
        "foundry_conn_id": "foundry_default",
        "poll_interval": 60.0,
        "retry": None,
    }


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"dataset_rid": "ri.models.main.model.x"}, "dataset_rid"),
        ({"dataset_rid": "ri.foundry.main.dataset.x", "branch": " "}, "branch=' '"),
        ({"dataset_rid": "ri.foundry.main.dataset.x", "poll_interval": 0}, "poll_interval=0"),
        ({"dataset_rid": "ri.foundry.main.dataset.x", "poll_interval": True}, "poll_interval=True"),
    ],
)
def test_bad_arguments_are_refused_when_the_dag_is_parsed(arguments: dict[str, Any], named: str) -> None:
    with pytest.raises(FoundryConfigError, match=named.replace("(", r"\(")):
        FoundryDatasetTrigger(**arguments)


def test_the_trigger_serializes_to_what_it_was_made_with() -> None:
    made = FoundryDatasetTrigger(dataset_rid="ri.foundry.main.dataset.x", branch="develop", poll_interval=5)
    classpath, kwargs = made.serialize()
    assert classpath == "airflow_provider_modelstudio.triggers.dataset_watcher.FoundryDatasetTrigger"
    assert FoundryDatasetTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert kwargs == {
        "dataset_rid": "ri.foundry.main.dataset.x",
        "branch": "develop",
        "foundry_conn_id": "foundry_default",
        "poll_interval": 5.0,
        "retry": None,
    }
