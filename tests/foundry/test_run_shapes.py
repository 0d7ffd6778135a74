"""Foundry's run JSON read once into snake_case shapes: what is kept, what is refused, what is defaulted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryError
from airflow_provider_modelstudio.foundry.shapes import (
    build_status,
    epoch_seconds,
    model_outputs,
    read_run,
    read_runs,
    run_of,
)

BUILD = "ri.foundry.main.build.b1"


def test_an_answer_without_a_build_is_refused_with_what_was_asked_and_what_to_check() -> None:
    with pytest.raises(FoundryError) as raised:
        read_run({"runId": "r1"}, what="the launch of ri.models.main.model-studio.s")
    assert str(raised.value) == (
        "Foundry answered the launch of ri.models.main.model-studio.s without a buildRid to follow: "
        "{'runId': 'r1'}. Check the studio's runs in Foundry; a newer API version may have changed the answer."
    )


@pytest.mark.parametrize(("version", "read"), [(3, 3), (0, 0), (True, None), ("3", None), (2.0, None), (None, None)])
def test_only_a_whole_number_is_a_config_version(version: Any, read: int | None) -> None:
    assert read_run({"buildRid": BUILD, "configVersion": version}, what="x")["config_version"] == read


@pytest.mark.parametrize("outputs", [None, [], "model", 3])
def test_a_run_result_without_usable_outputs_has_none(outputs: Any) -> None:
    run = run_of({"build_rid": BUILD, "resolved_outputs": outputs})
    assert run is not None
    assert run["resolved_outputs"] == {}
    assert model_outputs(run) == {}


def test_a_run_result_keeps_its_outputs_and_only_the_run_keys() -> None:
    outputs = {"m": {"type": "model", "modelRid": "ri.models.main.model.m"}}
    run = run_of({"build_rid": BUILD, "run_id": "r1", "resolved_outputs": outputs, "extra": 1})
    assert run is not None
    assert (run["run_id"], run["resolved_outputs"]) == ("r1", outputs)
    assert "extra" not in run


def test_model_outputs_read_every_rid_and_skip_other_output_types() -> None:
    run = read_run(
        {
            "buildRid": BUILD,
            "resolvedOutputs": {
                "model": {
                    "type": "model",
                    "modelRid": "ri.models.main.model.m",
                    "modelVersionRid": "ri.models.main.model-version.v",
                    "experimentRid": "ri.models.main.experiment.e",
                },
                "table": {"type": "dataset", "datasetRid": "ri.foundry.main.dataset.d"},
                "odd": "model",
                "half": {"type": "model", "modelRid": "ri.models.main.model.m"},
            },
        },
        what="x",
    )
    outputs = model_outputs(run)
    assert sorted(outputs) == ["half", "model"]
    assert outputs["model"] == {
        "model_rid": "ri.models.main.model.m",
        "model_version_rid": "ri.models.main.model-version.v",
        "experiment_rid": "ri.models.main.experiment.e",
    }
    assert outputs["half"] == {"model_rid": "ri.models.main.model.m", "model_version_rid": None, "experiment_rid": None}


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        ("../../..", "../../.."),
        (BUILD, BUILD),
        ("ri.models.main.model-version." + "v" * 100_000, "ri.models.main.model-version." + "v" * 71 + "..."),
        (7, "7"),
        ("Bearer abc.def", "Bearer ***"),
    ],
    ids=["path", "build-rid", "100-kb", "number", "token"],
)
def test_an_output_version_that_is_not_a_model_version_rid_is_refused_quoted_short_and_redacted(
    version: object, shown: str
) -> None:
    output = {"type": "model", "modelRid": "ri.models.main.model.m", "modelVersionRid": version}
    run = read_run({"buildRid": BUILD, "resolvedOutputs": {"model": output}}, what="x")
    with pytest.raises(FoundryAnswerError) as info:
        model_outputs(run)
    assert str(info.value) == (
        f"Foundry's answer to a run holds {shown} as resolvedOutputs[model].modelVersionRid, which is not a model "
        "version RID (ri.models.<instance>.model-version.<locator>), so it is neither used nor announced. A proxy or "
        "a server that is not Foundry may have answered: check the connection's host, and the result in Foundry."
    )


def test_a_run_whose_build_rid_is_not_one_is_refused_and_left_out_of_a_listing() -> None:
    good = {"buildRid": BUILD, "runId": "good"}
    with pytest.raises(FoundryAnswerError, match=r"holds ri\.models\.main\.model-version\.v as buildRid"):
        read_run({"buildRid": "ri.models.main.model-version.v"}, what="the launch")
    assert [run["run_id"] for run in read_runs([{"buildRid": "../../.."}, good], what="the runs")] == ["good"]


@pytest.mark.parametrize(
    ("timestamp", "seconds"),
    [
        ("2026-01-01T00:00:00Z", 1767225600.0),
        ("2026-01-01T00:00:00.5Z", 1767225600.5),
        ("2026-01-01T02:00:00+02:00", 1767225600.0),
        ("2026-01-01T00:00:00", 1767225600.0),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_without_a_zone_are_utc(timestamp: str | None, seconds: float | None) -> None:
    assert epoch_seconds(timestamp) == seconds


def test_a_timestamp_without_a_zone_is_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert epoch_seconds("2026-01-01T00:00:00") == 1767225600.0
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"status": "RUNNING"}, "RUNNING"),
        ({"status": " "}, None),
        ({"status": 3}, None),
        ({}, None),
        (["RUNNING"], None),
        ("RUNNING", None),
        (None, None),
    ],
)
def test_only_a_build_answer_with_a_status_text_has_a_status(answer: Any, status: str | None) -> None:
    assert build_status(answer) == status


def test_a_long_output_alias_is_cut_short_in_the_message() -> None:
    alias = "a" * 60
    output = {"type": "model", "modelRid": "ri.models.main.model.m", "modelVersionRid": "../.."}
    run = read_run({"buildRid": BUILD, "resolvedOutputs": {alias: output}}, what="x")
    with pytest.raises(FoundryAnswerError) as info:
        model_outputs(run)
    assert f"as resolvedOutputs[{'a' * 50}...].modelVersionRid, which" in str(info.value)
