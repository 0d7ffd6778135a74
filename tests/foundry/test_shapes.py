"""Every shape reads a full answer into its fields, reads an absent or mistyped optional field as None (or empty),
ignores fields it does not know, and refuses an answer that is not a JSON object, naming the request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError
from airflow_provider_modelstudio.foundry.shapes import (
    Build,
    ConfigInput,
    ConfigVersion,
    DatasetBranch,
    Experiment,
    Inference,
    LiveDeployment,
    Model,
    ModelStudio,
    ModelVersion,
    SummaryMetric,
    Trainer,
    Transaction,
    VersionSource,
)
from airflow_provider_modelstudio.foundry.shapes.reading import integer, readable, text

SCHEMA = {"type": "object", "properties": {"depth": {"type": "integer"}}}

FULL: dict[str, tuple[Callable[..., Any], dict[str, Any], Any]] = {
    "build": (
        Build.from_json,
        {"rid": "b", "status": "RUNNING", "createdTime": "t0", "finishedTime": "t1", "jobRids": []},
        Build("b", "RUNNING", "t0", "t1"),
    ),
    "model": (Model.from_json, {"rid": "m", "name": "churn", "new": 1}, Model("m", "churn")),
    "model version": (
        ModelVersion.from_json,
        {
            "rid": "v",
            "createdTime": "t0",
            "linkedExperiment": "e",
            "source": {"type": "promoted", "previousModelRid": "m0", "previousModelVersionRid": "v0"},
            "modelApi": {},
        },
        ModelVersion("v", "t0", "e", VersionSource("promoted", None, "m0", "v0")),
    ),
    "experiment": (
        Experiment.from_json,
        {
            "rid": "e",
            "status": "SUCCEEDED",
            "branch": "master",
            "createdTime": "t0",
            "summaryMetrics": [{"seriesName": "auc", "aggregation": "max", "value": 0.9}],
        },
        Experiment("e", "SUCCEEDED", (SummaryMetric("auc", "MAX", 0.9),), "master", "t0"),
    ),
    "studio": (
        ModelStudio.from_json,
        {"rid": "s", "folderRid": "f", "createdTime": "t0"},
        ModelStudio("s", "f", "t0"),
    ),
    "config version": (
        ConfigVersion.from_json,
        {
            "version": 3,
            "name": "n",
            "trainerId": "tr",
            "createdTime": "t0",
            "changelog": "c",
            "workerConfig": {
                "customConfig": {"depth": 2},
                "inputs": {"a": {"type": "dataset", "rid": "d"}, "b": {"type": "media", "rid": "x"}},
            },
        },
        ConfigVersion(
            3, "n", "tr", (ConfigInput("a", "dataset", "d"), ConfigInput("b", "media", "x")), "t0", {"depth": 2}, "c"
        ),
    ),
    "trainer": (
        Trainer.from_json,
        {"trainerId": "tr", "version": "1.0", "name": "n", "customConfigSchema": SCHEMA, "type": "GENERIC"},
        Trainer("tr", "1.0", "n", SCHEMA),
    ),
    "branch": (DatasetBranch.from_json, {"name": "master", "transactionRid": "t"}, DatasetBranch("master", "t")),
    "transaction": (
        Transaction.from_json,
        {"rid": "t", "transactionType": "APPEND", "status": "COMMITTED", "createdTime": "t0", "closedTime": "t1"},
        Transaction("t", "APPEND", "COMMITTED", "t0", "t1"),
    ),
}


@pytest.mark.parametrize("name", list(FULL))
def test_a_full_answer_is_read_into_every_field(name: str) -> None:
    read, answer, expected = FULL[name]
    assert read(answer) == expected


@pytest.mark.parametrize("name", list(FULL))
@pytest.mark.parametrize("wrong", [None, 7, "", [], {}], ids=["null", "number", "empty", "list", "object"])
def test_each_optional_field_absent_or_mistyped_reads_as_nothing(name: str, wrong: Any) -> None:
    read, answer, _expected = FULL[name]
    for key in answer:
        for changed in ({k: v for k, v in answer.items() if k != key}, {**answer, key: wrong}):
            shape = read(changed)
            assert shape != read(answer) or answer[key] == wrong or key in ("modelApi", "jobRids", "new", "type")


@pytest.mark.parametrize("name", list(FULL))
def test_an_empty_object_reads_as_a_shape_of_nothing(name: str) -> None:
    read, _answer, expected = FULL[name]
    empty = read({})
    for field in fields(expected):
        assert getattr(empty, field.name) in (None, (), False, {}), field.name


@pytest.mark.parametrize("name", list(FULL))
@pytest.mark.parametrize(("answer", "kind"), [(None, "nothing"), ([{}], "a JSON list"), ("x", "a JSON str")])
def test_an_answer_that_is_not_an_object_is_refused_naming_the_request(name: str, answer: Any, kind: str) -> None:
    read = FULL[name][0]
    with pytest.raises(FoundryAnswerError) as info:
        read(answer, what="GET /api/v2/thing")
    assert str(info.value) == (
        f"GET /api/v2/thing answered {kind} instead of a JSON object. Check that the host is your Foundry's API "
        "gateway, not a proxy's page."
    )


def test_summary_metrics_without_a_series_or_an_aggregation_are_left_out_in_order() -> None:
    entries = [
        {"seriesName": "loss", "aggregation": "min", "value": 0.1},
        {"seriesName": "auc", "value": 0.9},
        {"aggregation": "LAST", "value": 0.9},
        {"seriesName": 3, "aggregation": "LAST", "value": 0.9},
        "junk",
        {"seriesName": "auc", "aggregation": "LAST"},
    ]
    metrics = Experiment.from_json({"summaryMetrics": entries}).summary_metrics
    assert metrics == (SummaryMetric("loss", "MIN", 0.1), SummaryMetric("auc", "LAST", None))


def test_a_live_deployment_is_named_by_the_rid_asked_for_and_ready_only_when_true() -> None:
    answer = {
        "rid": "ri.other",
        "branch": "prod",
        "modelVersion": {"modelRid": "m", "modelVersionRid": "v"},
        "status": {"state": "ACTIVE", "isReady": True},
    }
    assert LiveDeployment.from_json(answer, rid="d") == LiveDeployment("d", "ACTIVE", True, "m", "v", "prod")
    not_ready = {**answer, "status": {"state": "ACTIVE", "isReady": "true"}}
    assert LiveDeployment.from_json(not_ready, rid="d").ready is False
    assert LiveDeployment.from_json({}, rid="d").describe() == "no state (not ready), serving nothing"
    assert LiveDeployment.from_json(answer, rid="d").describe() == "ACTIVE (ready), serving v"


def test_a_listed_live_deployment_must_name_itself() -> None:
    assert LiveDeployment.listed({"rid": "d", "branch": "b"}).rid == "d"
    for unnamed in ({}, {"rid": ""}, {"rid": 5}, None):
        with pytest.raises(FoundryAnswerError, match=r"^A listed live deployment has no rid\.$"):
            LiveDeployment.listed(unnamed)


def test_an_inference_keeps_its_output_object_and_the_whole_answer() -> None:
    assert Inference.from_json({"output": {"p": 1}, "x": 2}) == Inference({"p": 1}, {"output": {"p": 1}, "x": 2})
    assert Inference.from_json({"output": [1]}).output is None
    with pytest.raises(FoundryAnswerError, match=r"^transformJson answered a JSON list"):
        Inference.from_json([])


def test_a_version_is_promoted_from_a_source_only_through_a_promoted_source() -> None:
    promoted = ModelVersion.from_json({"source": {"type": "promoted", "previousModelVersionRid": "v0"}})
    assert promoted.promoted_from("v0")
    assert not promoted.promoted_from("v1")
    assert not ModelVersion.from_json(
        {"source": {"type": "modelStudio", "previousModelVersionRid": "v0"}}
    ).promoted_from("v0")
    assert not ModelVersion.from_json({}).promoted_from("v0")


def test_a_config_versions_datasets_are_its_dataset_inputs_with_a_rid_in_order() -> None:
    inputs = {
        "b": {"type": "dataset", "rid": "d2"},
        "a": {"type": "dataset", "rid": "d1"},
        "c": {"type": "dataset"},
        "m": {"type": "media", "rid": "x"},
        "z": "junk",
    }
    assert ConfigVersion.from_json({"workerConfig": {"inputs": inputs}}).datasets == ("d2", "d1")


@pytest.mark.parametrize(
    ("value", "read"),
    [(1, 1), (0, 0), (True, None), (1.0, None), ("1", None), (None, None)],
)
def test_integers_are_json_integers_only(value: Any, read: int | None) -> None:
    assert integer(value) == read


@pytest.mark.parametrize(("value", "read"), [("a", "a"), ("", None), (1, None), (None, None)])
def test_texts_are_non_empty_strings_only(value: Any, read: str | None) -> None:
    assert text(value) == read


def test_a_listing_keeps_the_entries_it_can_read_in_order() -> None:
    assert readable([{"rid": "a"}, 1, {"rid": "b"}], Model.from_json) == (Model("a"), Model("b"))
    assert readable({"rid": "a"}, Model.from_json) == ()
    assert readable(None, Model.from_json) == ()


DEFAULT_WHAT = {
    "build": "GET build",
    "model": "GET model",
    "model version": "GET model version",
    "experiment": "GET experiment",
    "studio": "GET Model Studio",
    "config version": "GET config version",
    "trainer": "GET trainer",
    "branch": "GET dataset branch",
    "transaction": "GET transaction",
}


@pytest.mark.parametrize("name", list(FULL))
def test_a_shape_read_without_naming_its_request_names_its_kind(name: str) -> None:
    with pytest.raises(FoundryAnswerError, match=f"^{DEFAULT_WHAT[name]} answered nothing instead of a JSON object"):
        FULL[name][0](None)


def test_a_live_deployment_read_without_naming_its_request_names_its_kind() -> None:
    with pytest.raises(FoundryAnswerError, match=r"^GET live deployment answered a JSON int instead of a JSON object"):
        LiveDeployment.from_json(5, rid="d")


@pytest.mark.parametrize("custom", [[1], "lr=0.1", 3, None])
def test_a_custom_configuration_that_is_not_an_object_reads_as_none(custom: Any) -> None:
    assert ConfigVersion.from_json({"workerConfig": {"customConfig": custom}}).custom_config is None


@pytest.mark.parametrize("schema", [[1], "object", True])
def test_a_trainer_schema_that_is_not_an_object_reads_as_none(schema: Any) -> None:
    assert Trainer.from_json({"customConfigSchema": schema}).custom_config_schema is None
