"""Every hook call has an async twin that takes the same arguments and answers the same shapes, listings and
batches included; writes keep their one-run, one-copy guarantees when called async."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.emulator.catalog import CUSTOM_CONFIG, TRAINER_ID
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.deploy_helpers import promoted_from
from tests.foundry.support import DEMO, requests_of

T = TypeVar("T")
Connect = Callable[..., ModelStudioHook]

CALLS = (
    "launch_model_studio",
    "get_model_studio",
    "list_model_studio_runs",
    "get_latest_config_version",
    "get_config_version",
    "list_config_versions",
    "create_config_version",
    "get_trainer",
    "get_model",
    "get_model_version",
    "list_model_versions",
    "promote_model_version",
    "get_experiment",
    "search_experiments",
    "list_live_deployments",
    "get_live_deployment",
    "start_live_deployment",
    "transform_json",
    "get_build",
    "get_builds",
    "get_build_statuses",
    "cancel_build",
    "get_dataset_branch",
    "get_dataset_transaction",
)
"""The hook's calls to Foundry (the connection test and the form are Airflow's sync interfaces)."""


def in_loop(hook: ModelStudioHook, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` in a fresh event loop and close the hook's async client there."""

    async def main() -> T:
        try:
            return await work()
        finally:
            await hook.aclose()

    return asyncio.run(main())


@pytest.fixture
def model(emulator: FoundryEmulator) -> str:
    """A model with two versions on master (with experiments), one on staging, and a deployment of each branch."""
    rid = emulator.add_model()
    emulator.add_model_version(rid, metrics={"auc": 0.9})
    emulator.add_model_version(rid, metrics={"auc": 0.8})
    emulator.add_model_version(rid, branch="staging", metrics={"auc": 0.7})
    emulator.add_live_deployment(rid)
    emulator.add_live_deployment(rid, branch="staging")
    return rid


def test_the_hook_declares_exactly_these_calls_each_with_an_async_twin_of_the_same_parameters() -> None:
    public = {
        name
        for name, member in vars(ModelStudioHook).items()
        if callable(member)
        and re.fullmatch("[a-z][a-z_]*", name)
        and not name.startswith(("a", "get_conn", "get_ui", "get_connection_form"))
    }
    assert public - {"build_url", "test_connection", "lacking_scopes"} == set(CALLS)
    for name in CALLS:
        sync, twin = getattr(ModelStudioHook, name), getattr(ModelStudioHook, f"a{name}")
        assert inspect.iscoroutinefunction(twin), name
        assert inspect.signature(twin).parameters == inspect.signature(sync).parameters, name
        assert inspect.signature(twin).return_annotation == inspect.signature(sync).return_annotation, name


DATASET = "ri.foundry.main.dataset.twins"
STAGING = {"type": "eq", "field": "BRANCH", "value": "staging"}
SMOKE_INPUT = {"tenure_months": 3, "monthly_charges": 70.5}

READS: dict[str, Callable[[FoundryEmulator, str], tuple[Any, ...]]] = {
    "get_model_studio": lambda emu, model: (DEMO,),
    "list_model_studio_runs": lambda emu, model: (DEMO, 1),
    "get_latest_config_version": lambda emu, model: (DEMO,),
    "get_config_version": lambda emu, model: (DEMO, 1),
    "list_config_versions": lambda emu, model: (DEMO,),
    "get_trainer": lambda emu, model: (TRAINER_ID,),
    "get_model": lambda emu, model: (model,),
    "get_model_version": lambda emu, model: (model, emu.model_versions(model)[0]["rid"]),
    "list_model_versions": lambda emu, model: (model, "staging"),
    "get_experiment": lambda emu, model: (model, emu.experiments(model)[0]["rid"]),
    "search_experiments": lambda emu, model: (model, STAGING, {"field": "CREATED_TIME", "direction": "DESC"}),
    "list_live_deployments": lambda emu, model: (model, "staging"),
    "get_live_deployment": lambda emu, model: (next(iter(emu.live_deployments())),),
    "transform_json": lambda emu, model: (next(iter(emu.live_deployments())), SMOKE_INPUT),
    "get_build": lambda emu, model: (emu.create_runs(DEMO, 1)[0]["buildRid"],),
    "get_builds": lambda emu, model: ([r["buildRid"] for r in emu.create_runs(DEMO, 3)],),
    "get_build_statuses": lambda emu, model: ([r["buildRid"] for r in emu.create_runs(DEMO, 3)],),
    "get_dataset_branch": lambda emu, model: (emu.add_dataset(DATASET), "master"),
    "get_dataset_transaction": lambda emu, model: (DATASET, emu.commit(emu.add_dataset(DATASET))),
}


@pytest.mark.parametrize("name", list(READS))
def test_each_async_read_answers_what_its_sync_twin_answers(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str, name: str
) -> None:
    emulator.create_runs(DEMO, 2)
    arguments = READS[name](emulator, model)
    answer = getattr(hook, name)(*arguments)
    assert answer not in (None, (), [], {})
    assert in_loop(hook, lambda: getattr(hook, f"a{name}")(*arguments)) == answer


def test_an_async_listing_reads_every_page(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    created = emulator.create_runs(DEMO, 250)
    runs = in_loop(hook, lambda: hook.alist_model_studio_runs(DEMO))
    assert sorted(run["run_id"] for run in runs) == sorted(run["runId"] for run in created)
    assert requests_of(emulator.counters(), "list_model_studio_runs") == {"200": 3}


def test_an_async_search_pages_through_its_body(stub_foundry: Any, set_connection: Callable[..., str]) -> None:
    search = "/api/v2/models/ri.models.main.model.m/experiments/search"
    stub_foundry.on(
        "POST",
        search,
        (200, {"data": [{"rid": "e1"}], "nextPageToken": "p2"}, {}),
        (200, {"data": [{"rid": "e2"}]}, {}),
    )
    set_connection(host=stub_foundry.url, password="twin-token-1")
    hook = ModelStudioHook(retry={"max_attempts": 1})
    found = in_loop(hook, lambda: hook.asearch_experiments("ri.models.main.model.m", where={"type": "and"}))
    assert [experiment.rid for experiment in found] == ["e1", "e2"]
    assert [seen.json() for seen in stub_foundry.requests_to(search)] == [
        {"pageSize": 100, "where": {"type": "and"}},
        {"pageSize": 100, "where": {"type": "and"}, "pageToken": "p2"},
    ]


def test_async_batches_hold_100_builds_a_request_once_each_and_send_nothing_for_none(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    rids = [run["buildRid"] for run in emulator.create_runs(DEMO, 250)]
    builds = in_loop(hook, lambda: hook.aget_builds([*rids, rids[0], "ri.foundry.main.build.unknown"]))
    assert list(builds) == rids
    assert all(builds[rid].rid == rid and builds[rid].status == "RUNNING" for rid in rids)
    assert requests_of(emulator.counters(), "get_builds_batch") == {"200": 3}
    assert in_loop(hook, lambda: hook.aget_build_statuses([])) == {}
    assert requests_of(emulator.counters(), "get_builds_batch") == {"200": 3}


def test_an_async_launch_starts_one_run_even_when_its_answer_is_lost(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    run = in_loop(hook, lambda: hook.alaunch_model_studio(DEMO))
    (served,) = emulator.runs(DEMO)
    assert (run["run_id"], run["build_rid"]) == (served["runId"], served["buildRid"])
    assert emulator.counters()["launches"] == {DEMO: 1}


def test_an_async_promotion_makes_one_copy_even_when_its_answer_is_lost(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str
) -> None:
    source = emulator.model_versions(model, "master")[0]["rid"]
    emulator.set_faults("promote_model_version", drop_after_create=1.0)
    copy = in_loop(hook, lambda: hook.apromote_model_version(model, source, "staging"))
    copies = [v["rid"] for v in emulator.model_versions(model, "staging") if promoted_from(v, source)]
    assert copies == [copy.rid]


def test_async_writes_refuse_bad_input_before_any_request(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    from airflow_provider_modelstudio.foundry.errors import FoundryConfigError

    with pytest.raises(FoundryConfigError, match="model_studio_rid='x'"):
        in_loop(hook, lambda: hook.alaunch_model_studio("x"))
    with pytest.raises(FoundryConfigError, match="model_version_rid='y'"):
        in_loop(hook, lambda: hook.apromote_model_version("ri.models.main.model.m", "y"))
    assert emulator.counters()["requests"] == {}


def test_async_cancel_and_start_reach_foundry(emulator: FoundryEmulator, hook: ModelStudioHook, model: str) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    deployment = next(iter(emulator.live_deployments()))
    assert in_loop(hook, lambda: hook.acancel_build(run["buildRid"])) is None
    assert in_loop(hook, lambda: hook.astart_live_deployment(deployment)) is None
    assert emulator.counters()["cancels"] == {run["buildRid"]: 1}
    assert requests_of(emulator.counters(), "start_live_deployment") == {"204": 1}


def test_an_async_config_version_creation_makes_one_version_even_when_its_answer_is_lost(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    latest = hook.get_latest_config_version(DEMO)
    assert latest is not None
    body = new_config_version_body(hook, learning_rate=0.05)
    emulator.set_faults("create_config_version", drop_after_create=1.0)
    made = in_loop(hook, lambda: hook.acreate_config_version(DEMO, body))
    assert made.version == latest.version + 1 if latest.version is not None else False
    assert [v.version for v in hook.list_config_versions(DEMO)] == [made.version, latest.version]
    assert made.custom_config == {**CUSTOM_CONFIG, "learning_rate": 0.05}


def new_config_version_body(hook: ModelStudioHook, **custom: Any) -> dict[str, Any]:
    """A creation request: the latest configuration, with ``custom`` over its custom configuration."""
    raw = hook.client.call("get_latest_config_version", {"modelStudioRid": DEMO})
    worker = raw["workerConfig"]
    return {
        "name": "sweep",
        "trainerId": raw["trainerId"],
        "resources": raw["resources"],
        "changelog": "a test",
        "workerConfig": {**worker, "customConfig": {**worker["customConfig"], **custom}},
    }


FILTERED: dict[str, Callable[[ModelStudioHook, str], Any]] = {
    "list_model_versions": lambda hook, model: {v.rid for v in hook.list_model_versions(model)},
    "search_experiments": lambda hook, model: {e.rid for e in hook.search_experiments(model)},
    "list_live_deployments": lambda hook, model: {d.rid for d in hook.list_live_deployments(model)},
}


@pytest.mark.parametrize("name", list(FILTERED))
def test_an_async_listing_sends_its_filter(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str, name: str
) -> None:
    everything = FILTERED[name](hook, model)
    filtered = in_loop(hook, lambda: getattr(hook, f"a{name}")(*READS[name](emulator, model)))
    assert 0 < len(filtered) < len(everything)
    assert {item.rid for item in filtered} < everything


def test_an_async_listing_of_runs_sends_the_config_version(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    first = hook.launch_model_studio(DEMO)
    hook.create_config_version(DEMO, new_config_version_body(hook, max_depth=4))
    second = hook.launch_model_studio(DEMO)
    runs = {1: [first["run_id"]], 2: [second["run_id"]]}
    for version, expected in runs.items():
        listed = in_loop(hook, lambda version=version: hook.alist_model_studio_runs(DEMO, config_version=version))
        assert [run["run_id"] for run in listed] == expected
