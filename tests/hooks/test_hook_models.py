"""The hook's calls for models, experiments and live deployments, against the emulator: each reaches the endpoint
it names with the arguments it was given, and returns Foundry's JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.shapes import Build, Experiment
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import DEMO, requests_of

Connect = Callable[..., ModelStudioHook]


@pytest.fixture
def model(emulator: FoundryEmulator) -> str:
    """A model with a version on master (metric 0.9) and one on staging (metric 0.7)."""
    rid = emulator.add_model()
    emulator.add_model_version(rid, metrics={"auc": 0.9})
    emulator.add_model_version(rid, branch="staging", metrics={"auc": 0.7})
    return rid


def test_get_model_answers_the_model(hook: ModelStudioHook, model: str) -> None:
    assert hook.get_model(model).rid == model


def test_list_model_versions_of_one_branch_leaves_the_others_out(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str
) -> None:
    staging = [v["rid"] for v in emulator.model_versions(model, "staging")]
    assert [v.rid for v in hook.list_model_versions(model, branch="staging")] == staging
    assert len(hook.list_model_versions(model)) == 2


def test_promote_into_a_branch_lands_the_copy_on_that_branch(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str
) -> None:
    (source,) = emulator.model_versions(model, "master")
    copy = hook.promote_model_version(model, source["rid"], branch="staging")
    assert copy.rid in [v["rid"] for v in emulator.model_versions(model, "staging")]
    assert copy.promoted_from(source["rid"])


def test_get_experiment_answers_the_experiment(hook: ModelStudioHook, emulator: FoundryEmulator, model: str) -> None:
    experiment = emulator.experiments(model)[0]
    assert hook.get_experiment(model, experiment["rid"]) == Experiment.from_json(experiment)


def test_search_experiments_sends_the_filter_and_the_order(
    hook: ModelStudioHook, emulator: FoundryEmulator, model: str
) -> None:
    emulator.add_model_version(model, metrics={"auc": 0.8})
    master = hook.search_experiments(
        model,
        where={"type": "eq", "field": "BRANCH", "value": "master"},
        order_by={"field": "CREATED_TIME", "direction": "ASC"},
    )
    assert [e.branch for e in master] == ["master", "master"]
    assert str(master[0].created_time) <= str(master[1].created_time)
    newest_first = hook.search_experiments(model, order_by={"field": "CREATED_TIME", "direction": "DESC"})
    assert [e.rid for e in newest_first] == [
        e.rid for e in reversed(hook.search_experiments(model, order_by={"field": "CREATED_TIME", "direction": "ASC"}))
    ]
    assert len(newest_first) == 3


def test_live_deployments_of_a_branch_are_listed_read_and_started(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str
) -> None:
    staging = emulator.add_live_deployment(model, branch="staging")
    emulator.add_live_deployment(model)
    assert [d.rid for d in hook.list_live_deployments(model, branch="staging")] == [staging["rid"]]
    assert len(hook.list_live_deployments(model)) == 2
    assert hook.get_live_deployment(staging["rid"]).branch == "staging"
    assert hook.start_live_deployment(staging["rid"]) is None
    assert sum(requests_of(emulator.counters(), "start_live_deployment").values()) == 1


def test_transform_json_sends_the_input_and_answers_the_output(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str
) -> None:
    deployment = emulator.add_live_deployment(model)
    answer = hook.transform_json(deployment["rid"], {"tenure_months": 12, "monthly_charges": 70.5})
    assert answer.output is not None
    assert set(answer.answer) == {"output"}


def test_get_config_version_answers_that_version(hook: ModelStudioHook) -> None:
    assert hook.get_config_version(DEMO, 1).version == 1


def test_aget_build_answers_the_build(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    (run,) = emulator.create_runs(DEMO, 1)

    async def read() -> Build:
        try:
            return await hook.aget_build(run["buildRid"])
        finally:
            await hook.aclose()

    assert asyncio.run(read()).rid == run["buildRid"]


def test_a_lost_promotion_is_looked_for_on_the_target_branch_only(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (source,) = emulator.model_versions(model, "master")
    emulator.set_faults("promote_model_version", drop_after_create=1.0)
    listed: list[dict[str, Any]] = []
    real = hook._run

    def recording(request: Any) -> Any:
        if request.endpoint == "list_model_versions":
            listed.append(dict(request.query))
        return real(request)

    monkeypatch.setattr(hook, "_run", recording)
    copy = hook.promote_model_version(model, source["rid"], branch="staging")
    assert copy.rid in [v["rid"] for v in emulator.model_versions(model, "staging")]
    assert len(listed) >= 2
    assert all(query == {"branch": "staging"} for query in listed)


def test_a_promotion_of_a_bad_source_is_refused_naming_the_argument_before_any_request(
    emulator: FoundryEmulator, hook: ModelStudioHook, model: str
) -> None:
    with pytest.raises(FoundryConfigError, match=r"^model_version_rid='x' is not a model version RID"):
        hook.promote_model_version(model, "x")
    assert emulator.counters()["requests"] == {}
