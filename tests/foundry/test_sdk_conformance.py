"""Our requests and the answers we read have the shapes of Palantir's official client (``foundry_sdk``),
and the hook reads answers tolerantly (unknown fields, missing optional fields, null page tokens)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from foundry_sdk.v2.datasets.models import Branch as DatasetBranchSdk
from foundry_sdk.v2.datasets.models import Transaction as TransactionSdk
from foundry_sdk.v2.models.models import (
    CreateModelStudioConfigVersionRequest,
    ListModelStudioRunsResponse,
    ModelStudio,
    ModelStudioConfigVersion,
    ModelStudioRun,
    ModelStudioRunModelOutput,
    ModelStudioTrainer,
    ModelVersion,
)
from foundry_sdk.v2.orchestration.models import (
    Build,
    GetBuildsBatchRequestElement,
    GetBuildsBatchResponse,
)

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.emulator.catalog import TRAINER_ID
from airflow_provider_modelstudio.foundry.config_versions import next_version_body
from airflow_provider_modelstudio.foundry.operations import batch_body
from airflow_provider_modelstudio.foundry.rids import BUILD, MODEL, MODEL_STUDIO, MODEL_VERSION, validate_rid
from airflow_provider_modelstudio.foundry.shapes import Build as BuildShape
from airflow_provider_modelstudio.foundry.shapes import epoch_seconds, model_outputs, read_run
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import DEMO, FAST_RETRY

Connect = Callable[..., ModelStudioHook]

SEED_LAUNCH_ANSWER = """
{
"startedTime": "2003-05-06T12:34:56.789Z",
"configVersion": 1,
"startedBy": "f05f8da4-b84c-4fca-9c77-8af0b13d11de",
"buildRid": "ri.foundry-build.main.build.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
"resolvedOutputs": {
"model": {
"type": "model",
"modelRid": "ri.models.main.model.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
"modelVersionRid": "ri.models.main.model-version.a1b2c3d4-e5f6-7890-abcd-ef1234567890"
}
},
"runId": "a1b2c3d4e5f6",
"jobRid": "ri.foundry-build.main.job.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
"buildStatus": "RUNNING"
}
"""
"""The launch answer example of Palantir's public API page (the seed of this provider), verbatim."""


# The seed example --------------------------------------------------------------------------------------


def test_seed_launch_answer_reads_into_the_run_the_sdk_reads() -> None:
    """Our reading of the seed answer (``read_run``, ``model_outputs``) agrees, field by field, with the SDK's."""
    sdk = ModelStudioRun.model_validate(json.loads(SEED_LAUNCH_ANSWER))
    run = read_run(json.loads(SEED_LAUNCH_ANSWER), what="the seed launch answer")
    assert run["run_id"] == sdk.run_id == "a1b2c3d4e5f6"
    assert run["build_status"] == sdk.build_status == "RUNNING"
    assert run["config_version"] == sdk.config_version == 1
    assert run["build_rid"] == sdk.build_rid
    assert run["job_rid"] == sdk.job_rid
    assert run["started_by"] == sdk.started_by
    assert epoch_seconds(run["started_time"]) == sdk.started_time.timestamp()
    output = sdk.resolved_outputs["model"]
    assert isinstance(output, ModelStudioRunModelOutput)
    assert model_outputs(run) == {
        "model": {
            "model_rid": output.model_rid,
            "model_version_rid": output.model_version_rid,
            "experiment_rid": output.experiment_rid,
        }
    }
    assert model_outputs(run)["model"]["model_version_rid"] == (
        "ri.models.main.model-version.a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    )


def test_seed_launch_answer_rids_pass_our_validation() -> None:
    run = json.loads(SEED_LAUNCH_ANSWER)
    output = run["resolvedOutputs"]["model"]
    validate_rid(run["buildRid"], BUILD, field="buildRid")
    validate_rid(output["modelRid"], MODEL, field="modelRid")
    validate_rid(output["modelVersionRid"], MODEL_VERSION, field="modelVersionRid")


def test_seed_launch_answer_is_read_by_the_hook_as_any_run(stub_foundry: Any, set_connection: Any) -> None:
    studio = "ri.models.main.model-studio.a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    validate_rid(studio, MODEL_STUDIO, field="model_studio_rid")
    base = f"/api/v2/models/modelStudios/{studio}"
    stub_foundry.on("GET", base + "/runs", (200, {"data": []}, {}))
    stub_foundry.on("POST", base + "/launch", (200, SEED_LAUNCH_ANSWER.encode(), {"Content-Type": "application/json"}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    assert ModelStudioHook(retry=FAST_RETRY).launch_model_studio(studio) == read_run(
        json.loads(SEED_LAUNCH_ANSWER), what="the seed"
    )
    launch = stub_foundry.requests_to(base + "/launch")[0]
    assert launch.query == {"preview": "true"}
    assert launch.body == b""


# Our requests ------------------------------------------------------------------------------------------


def test_getbatch_body_elements_parse_as_the_sdk_request_element() -> None:
    rids = ["ri.foundry.main.build.a", "ri.foundry-build.main.build.b"]
    elements = [GetBuildsBatchRequestElement.model_validate(e) for e in batch_body(rids)]
    assert [e.build_rid for e in elements] == rids


def test_getbatch_body_is_what_the_sdk_would_send() -> None:
    rids = ["ri.foundry.main.build.a", "ri.foundry.main.build.b"]
    sdk_body = [GetBuildsBatchRequestElement(buildRid=rid).model_dump(by_alias=True) for rid in rids]
    assert batch_body(rids) == sdk_body


# The emulator's answers, read with the official models -------------------------------------------------


@pytest.fixture
def hook(emulator: FoundryEmulator, connect: Connect) -> ModelStudioHook:
    return connect(emulator)


def test_launch_answer_parses_as_model_studio_run(hook: ModelStudioHook) -> None:
    ours = hook.launch_model_studio(DEMO)
    (served,) = hook.client.call("list_model_studio_runs", {"modelStudioRid": DEMO})["data"]
    run = ModelStudioRun.model_validate(served)
    assert (run.build_status, run.build_rid, run.run_id) == ("RUNNING", ours["build_rid"], ours["run_id"])


def test_list_runs_page_parses(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    emulator.create_runs(DEMO, 3)
    page = hook.client.call("list_model_studio_runs", {"modelStudioRid": DEMO}, {"pageSize": 2})
    parsed = ListModelStudioRunsResponse.model_validate(page)
    assert len(parsed.data) == 2
    assert parsed.next_page_token
    for run in hook.list_model_studio_runs(DEMO):
        ModelStudioRun.model_validate(run)


def test_studio_parses(hook: ModelStudioHook) -> None:
    raw = hook.client.call("get_model_studio", {"modelStudioRid": DEMO})
    assert ModelStudio.model_validate(raw).rid == hook.get_model_studio(DEMO).rid == DEMO


def test_config_version_parses(hook: ModelStudioHook) -> None:
    raw = hook.client.call("get_latest_config_version", {"modelStudioRid": DEMO})
    ours = hook.get_latest_config_version(DEMO)
    assert ours is not None
    assert ModelStudioConfigVersion.model_validate(raw).version == ours.version == 1


def test_model_version_parses(hook: ModelStudioHook) -> None:
    output = hook.launch_model_studio(DEMO)["resolved_outputs"]["model"]
    raw = hook.client.call(
        "get_model_version", {"modelRid": output["modelRid"], "modelVersionRid": output["modelVersionRid"]}
    )
    ours = hook.get_model_version(output["modelRid"], output["modelVersionRid"])
    assert ModelVersion.model_validate(raw).rid == ours.rid == output["modelVersionRid"]


def test_build_and_batch_answers_parse(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    rids = [r["buildRid"] for r in emulator.create_runs(DEMO, 2)]
    raw = hook.client.call("get_build", {"buildRid": rids[0]})
    assert Build.model_validate(raw).status == hook.get_build(rids[0]).status == "RUNNING"
    answer = hook.client.call("get_builds_batch", json_body=batch_body(rids))
    assert set(GetBuildsBatchResponse.model_validate(answer).data) == set(rids)


def test_finished_build_parses(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    emulator.advance(6)
    build = Build.model_validate(hook.client.call("get_build", {"buildRid": run["buildRid"]}))
    ours = hook.get_build(run["buildRid"])
    assert build.status == ours.status == "SUCCEEDED"
    assert build.finished_time is not None
    assert ours.finished_time is not None


# Tolerant reading --------------------------------------------------------------------------------------


def test_run_without_resolved_outputs_or_build_status_reads_as_empty_and_unknown(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    studio = "ri.models.main.model-studio.sparse"
    emulator.add_studio(studio, omit_resolved_outputs=True, omit_build_status=True)
    run = hook.launch_model_studio(studio)
    assert run["resolved_outputs"] == {}
    assert run["build_status"] is None
    assert run["run_id"] == emulator.runs(studio)[0]["runId"]
    assert [r["run_id"] for r in hook.list_model_studio_runs(studio)] == [run["run_id"]]


def test_run_without_resolved_outputs_is_adopted_after_a_lost_answer(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    studio = "ri.models.main.model-studio.sparse"
    emulator.add_studio(studio, omit_resolved_outputs=True, omit_build_status=True)
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    assert hook.launch_model_studio(studio)["run_id"] == emulator.runs(studio)[0]["runId"]


RUNS_PATH = f"/api/v2/models/modelStudios/{DEMO}/runs"


def run_json(run_id: str, **extra: Any) -> dict[str, Any]:
    return {**json.loads(SEED_LAUNCH_ANSWER), "runId": run_id, **extra}


def test_unknown_fields_are_ignored_and_other_output_types_kept(stub_foundry: Any, set_connection: Any) -> None:
    future = run_json("r1", somethingNew={"nested": [1, 2]}, resolvedOutputs={"m": {"type": "dataset", "rid": "x"}})
    stub_foundry.on("GET", RUNS_PATH, (200, {"data": [future], "nextPageToken": None, "totalCount": 1}, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    assert ModelStudioHook(retry=FAST_RETRY).list_model_studio_runs(DEMO) == [read_run(future, what="a test")]


@pytest.mark.parametrize("last_page", [{"data": [run_json("r2")]}, {"data": [run_json("r2")], "nextPageToken": None}])
def test_missing_or_null_next_page_token_ends_the_listing(
    stub_foundry: Any, set_connection: Any, last_page: dict[str, Any]
) -> None:
    stub_foundry.on(
        "GET", RUNS_PATH, (200, {"data": [run_json("r1")], "nextPageToken": "p2"}, {}), (200, last_page, {})
    )
    set_connection(host=stub_foundry.url, password="some-token-1")
    runs = ModelStudioHook(retry=FAST_RETRY).list_model_studio_runs(DEMO, config_version=1)
    assert [r["run_id"] for r in runs] == ["r1", "r2"]
    first, second = stub_foundry.requests_to(RUNS_PATH)
    assert first.query == {"pageSize": "100", "configVersion": "1", "preview": "true"}
    assert second.query == {"pageSize": "100", "configVersion": "1", "pageToken": "p2", "preview": "true"}


def test_page_with_null_data_reads_as_empty(stub_foundry: Any, set_connection: Any) -> None:
    stub_foundry.on("GET", RUNS_PATH, (200, {"data": None}, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    assert ModelStudioHook(retry=FAST_RETRY).list_model_studio_runs(DEMO) == []


def test_latest_config_version_is_none_when_the_studio_has_none(stub_foundry: Any, set_connection: Any) -> None:
    stub_foundry.on("GET", f"/api/v2/models/modelStudios/{DEMO}/configVersions/latest", (204, None, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    assert ModelStudioHook(retry=FAST_RETRY).get_latest_config_version(DEMO) is None
    assert len(stub_foundry.seen) == 1


def test_batch_answer_with_unknown_fields_and_null_builds_is_read(stub_foundry: Any, set_connection: Any) -> None:
    build = {"rid": "ri.foundry.main.build.a", "status": "SOMETHING_NEW", "futureField": 1}
    answer = {"data": {"ri.foundry.main.build.a": build, "ri.foundry.main.build.b": None}, "errors": {}}
    stub_foundry.on("POST", "/api/v2/orchestration/builds/getBatch", (200, answer, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    builds = ModelStudioHook(retry=FAST_RETRY).get_builds(["ri.foundry.main.build.a", "ri.foundry.main.build.b"])
    assert builds == {"ri.foundry.main.build.a": BuildShape("ri.foundry.main.build.a", "SOMETHING_NEW")}


def test_cancel_with_an_empty_answer_returns_none(stub_foundry: Any, set_connection: Any) -> None:
    stub_foundry.on("POST", "/api/v2/orchestration/builds/ri.foundry.main.build.a/cancel", (200, None, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    assert ModelStudioHook(retry=FAST_RETRY).cancel_build("ri.foundry.main.build.a") is None


# Datasets, trainers and configuration versions made by a launch with a configuration --------------------


def test_dataset_branch_and_transaction_answers_parse_as_the_sdk_reads_them(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    dataset = emulator.add_dataset(branch="develop")
    opened = emulator.open_transaction(dataset, "develop", "UPDATE")
    raw_branch = hook.client.call("get_dataset_branch", {"datasetRid": dataset, "branchName": "develop"})
    sdk_branch = DatasetBranchSdk.model_validate(raw_branch)
    assert sdk_branch.transaction_rid == hook.get_dataset_branch(dataset, "develop").transaction_rid == opened
    emulator.commit_transaction(dataset, opened)
    raw = hook.client.call("get_dataset_transaction", {"datasetRid": dataset, "transactionRid": opened})
    sdk, ours = TransactionSdk.model_validate(raw), hook.get_dataset_transaction(dataset, opened)
    assert (
        (sdk.rid, sdk.transaction_type, sdk.status)
        == (ours.rid, ours.type, ours.status)
        == (
            opened,
            "UPDATE",
            "COMMITTED",
        )
    )
    assert sdk.closed_time is not None and ours.closed_time is not None
    assert sdk.closed_time.timestamp() == pytest.approx(
        datetime.fromisoformat(ours.closed_time.replace("Z", "+00:00")).timestamp()
    )


def test_trainer_answer_parses_as_the_sdk_reads_it(hook: ModelStudioHook) -> None:
    raw = hook.client.call("get_trainer", {"trainerId": TRAINER_ID})
    sdk, ours = ModelStudioTrainer.model_validate(raw), hook.get_trainer(TRAINER_ID)
    assert sdk.trainer_id == ours.trainer_id == TRAINER_ID


def test_a_config_version_created_from_the_latest_is_a_request_and_an_answer_the_sdk_reads(
    hook: ModelStudioHook,
) -> None:
    latest = hook.get_latest_config_version(DEMO)
    assert latest is not None
    body = next_version_body(
        latest,
        custom_config={**(latest.custom_config or {}), "learning_rate": 0.05},
        resources={},
        input_datasets={},
        name="sdk check",
        changelog="learning_rate 0.05",
    )
    CreateModelStudioConfigVersionRequest.model_validate(body)
    created = hook.create_config_version(DEMO, body)
    raw = hook.client.call("get_latest_config_version", {"modelStudioRid": DEMO})
    sdk = ModelStudioConfigVersion.model_validate(raw)
    assert latest.version is not None
    assert sdk.version == created.version == latest.version + 1
    assert created.custom_config == {**(latest.custom_config or {}), "learning_rate": 0.05}
