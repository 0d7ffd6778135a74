"""Experiments: deterministic summary metrics per run, read one by one or searched with Foundry's filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from airflow_provider_modelstudio.emulator import (
    DEMO_FAILS_STUDIO,
    DEMO_METRICS,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    FoundryEmulator,
)
from airflow_provider_modelstudio.emulator.catalog import CUSTOM_CONFIG
from airflow_provider_modelstudio.emulator.metrics import MAX_GAIN, aggregations, config_gain, trained_metrics
from tests.emulator.helpers import MODELS, PREVIEW, RUN_SECONDS, STUDIOS, assert_error, launch

SEARCH = f"{MODELS}/{DEMO_STUDIO_MODEL}/experiments/search"


def linked_experiment(http: httpx.Client, output: dict[str, Any]) -> dict[str, Any]:
    version = http.get(f"{MODELS}/{output['modelRid']}/versions/{output['modelVersionRid']}", params=PREVIEW).json()
    answer = http.get(f"{MODELS}/{output['modelRid']}/experiments/{version['linkedExperiment']}", params=PREVIEW)
    assert answer.status_code == 200, answer.text
    experiment: dict[str, Any] = answer.json()
    return experiment


def metric_values(experiment: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(m["seriesName"], m["aggregation"]): m["value"] for m in experiment["summaryMetrics"]}


def search(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = http.post(SEARCH, params=PREVIEW, json=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_training_runs_experiment_is_running_without_metrics(client: httpx.Client) -> None:
    experiment = linked_experiment(client, launch(client)["resolvedOutputs"]["model"])

    assert (experiment["status"], experiment["summaryMetrics"]) == ("RUNNING", [])


def test_a_succeeded_runs_experiment_reports_the_studios_metrics_as_last_values(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    output = launch(client)["resolvedOutputs"]["model"]
    emu.advance(RUN_SECONDS)

    experiment = linked_experiment(client, output)

    assert experiment["status"] == "SUCCEEDED"
    assert {name: metric_values(experiment)[(name, "LAST")] for name in DEMO_METRICS} == DEMO_METRICS


def test_every_run_of_a_studio_reports_the_same_metrics(emu: FoundryEmulator, client: httpx.Client) -> None:
    outputs = [launch(client)["resolvedOutputs"]["model"] for _ in range(2)]
    emu.advance(RUN_SECONDS)

    first, second = (linked_experiment(client, output) for output in outputs)

    assert first["summaryMetrics"] == second["summaryMetrics"]


def configure(http: httpx.Client, **custom: Any) -> int:
    """Create the demo studio's next config version, the latest with ``custom`` over its custom configuration."""
    latest = http.get(f"{STUDIOS}/{DEMO_STUDIO}/configVersions/latest", params=PREVIEW).json()
    worker = latest["workerConfig"]
    body = {
        "name": "sweep",
        "trainerId": latest["trainerId"],
        "resources": latest["resources"],
        "workerConfig": {**worker, "customConfig": {**worker["customConfig"], **custom}},
    }
    answer = http.post(f"{STUDIOS}/{DEMO_STUDIO}/configVersions", params=PREVIEW, json=body)
    assert answer.status_code == 200, answer.text
    version: int = answer.json()["version"]
    return version


def test_a_run_of_another_configuration_reports_metrics_moved_by_it_and_that_configuration(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    configure(client, max_depth=8, n_estimators=400)  # gain 0.004 * 2 + 0.01 * log2(2) = 0.018
    output = launch(client)["resolvedOutputs"]["model"]
    emu.advance(RUN_SECONDS)

    experiment = linked_experiment(client, output)

    values = metric_values(experiment)
    assert (values[("val_auc", "LAST")], values[("val_loss", "LAST")]) == (0.92638, 0.20622)
    assert {p["name"]: p["value"]["value"] for p in experiment["parameters"]} == {
        "learning_rate": 0.1,
        "max_depth": 8,
        "n_estimators": 400,
    }


def test_a_run_of_the_default_configuration_after_others_reports_the_studios_metrics_again(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    configure(client, learning_rate=0.5)
    configure(client, **CUSTOM_CONFIG)
    output = launch(client)["resolvedOutputs"]["model"]
    emu.advance(RUN_SECONDS)

    assert {name: metric_values(linked_experiment(client, output))[(name, "LAST")] for name in DEMO_METRICS} == (
        DEMO_METRICS
    )


def test_the_default_configuration_changes_no_metric() -> None:
    assert config_gain(CUSTOM_CONFIG) == 0
    assert config_gain({}) == 0
    metrics = {"val_auc": 0.91, "val_loss": 0.21, "f1": 0.123456789, "neg": -3.5}
    assert trained_metrics(metrics, CUSTOM_CONFIG) == metrics


@pytest.mark.parametrize("learning_rate", [0.05, 0.2])
def test_a_learning_rate_away_from_the_default_either_way_trains_worse(learning_rate: float) -> None:
    moved = trained_metrics({"val_auc": 0.9, "val_loss": 0.2}, {"learning_rate": learning_rate})
    assert moved["val_auc"] < 0.9
    assert moved["val_loss"] > 0.2


def test_deeper_trees_and_more_of_them_train_better_up_to_a_bound() -> None:
    assert 0 < config_gain({"max_depth": 7}) < config_gain({"max_depth": 7, "n_estimators": 400})
    assert config_gain({"max_depth": 32, "n_estimators": 5000}) == MAX_GAIN
    assert config_gain({"learning_rate": 1.0, "max_depth": 1, "n_estimators": 1}) == -MAX_GAIN


def test_a_failed_runs_experiment_is_failed_with_a_status_message(emu: FoundryEmulator, client: httpx.Client) -> None:
    output = launch(client, DEMO_FAILS_STUDIO)["resolvedOutputs"]["model"]
    emu.advance(RUN_SECONDS)

    experiment = linked_experiment(client, output)

    assert experiment["status"] == "FAILED"
    assert experiment["statusMessage"]


@pytest.mark.parametrize(
    ("name", "last"), [("val_auc", 0.91), ("val_loss", 0.21), ("train_error", 0.0), ("log_likelihood", -3.5)]
)
def test_summary_metrics_keep_min_at_most_last_at_most_max(name: str, last: float) -> None:
    values = aggregations(name, last)

    assert values["MIN"] <= values["LAST"] == last <= values["MAX"]


def test_a_loss_starts_high_and_a_score_starts_low() -> None:
    assert aggregations("val_loss", 0.2)["MAX"] > 0.2 * 1.5
    assert aggregations("val_auc", 0.9)["MIN"] < 0.9 * 0.6


def test_summary_metrics_agree_with_the_series(emu: FoundryEmulator) -> None:
    model = emu.add_model()
    emu.add_model_version(model, metrics={"val_auc": 0.9})

    [experiment] = emu.experiments(model)

    [series] = experiment["series"]
    values = metric_values(experiment)
    assert (series["value"]["min"], series["value"]["max"], series["value"]["last"]) == (
        values[("val_auc", "MIN")],
        values[("val_auc", "MAX")],
        values[("val_auc", "LAST")],
    )


def test_get_an_unknown_experiment_is_experiment_not_found(client: httpx.Client) -> None:
    missing = "ri.models.main.experiment.missing"
    answer = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}/experiments/{missing}", params=PREVIEW)

    assert_error(answer, 404, "ExperimentNotFound", experimentRid=missing)


def test_get_an_experiment_through_another_model_is_model_experiment_not_found(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    [experiment] = emu.experiments(DEMO_STUDIO_MODEL)

    answer = client.get(f"{MODELS}/{DEMO_PROD_MODEL}/experiments/{experiment['rid']}", params=PREVIEW)

    assert_error(answer, 404, "ModelExperimentNotFound", modelRid=DEMO_PROD_MODEL)


def test_search_filters_by_job_rid(emu: FoundryEmulator, client: httpx.Client) -> None:
    run = launch(client)
    launch(client)

    found = search(client, {"where": {"type": "eq", "field": "JOB_RID", "value": run["jobRid"]}})

    assert [experiment["jobRid"] for experiment in found["data"]] == [run["jobRid"]]


def test_search_combines_filters_with_and_and_not(emu: FoundryEmulator, client: httpx.Client) -> None:
    finished = launch(client)
    emu.advance(RUN_SECONDS)
    launch(client)
    where = {
        "type": "and",
        "filters": [
            {"type": "eq", "field": "STATUS", "value": "SUCCEEDED"},
            {"type": "not", "value": {"type": "eq", "field": "EXPERIMENT_NAME", "value": "no such name"}},
            {"type": "eq", "field": "SERIES_NAME", "value": "val_auc"},
        ],
    }

    found = search(client, {"where": where})

    assert {experiment.get("jobRid") for experiment in found["data"]} == {finished["jobRid"], None}


def test_search_filters_on_a_summary_metric(emu: FoundryEmulator, client: httpx.Client) -> None:
    launch(client)
    emu.advance(RUN_SECONDS)
    where = {
        "type": "summaryMetricFilter",
        "seriesName": "val_auc",
        "aggregation": "LAST",
        "operator": "GT",
        "value": 0.9,
    }

    found = search(client, {"where": where})

    assert [metric_values(experiment)[("val_auc", "LAST")] for experiment in found["data"]] == [0.91]


def test_search_pages_newest_first_by_default(emu: FoundryEmulator, client: httpx.Client) -> None:
    jobs = [launch(client)["jobRid"] for _ in range(3)]

    first = search(client, {"pageSize": 2})
    second = search(client, {"pageSize": 2, "pageToken": first["nextPageToken"]})

    assert [e.get("jobRid") for e in first["data"] + second["data"]] == [*jobs[::-1], None]
    assert "nextPageToken" not in second


def test_search_orders_by_created_time_ascending_when_asked(emu: FoundryEmulator, client: httpx.Client) -> None:
    jobs = [launch(client)["jobRid"] for _ in range(2)]

    found = search(client, {"orderBy": {"field": "CREATED_TIME", "direction": "ASC"}})

    assert [e.get("jobRid") for e in found["data"]] == [None, *jobs]


@pytest.mark.parametrize(
    "where",
    [
        {"type": "eq", "field": "LINKED_MODEL_VERSION", "value": "ri.models.main.model-version.x"},
        {"type": "between", "field": "STATUS"},
        {"type": "summaryMetricFilter", "seriesName": "val_auc", "aggregation": "MEAN", "operator": "GT", "value": 1},
    ],
    ids=["unsupported field", "unknown type", "unknown aggregation"],
)
def test_search_refuses_a_filter_it_cannot_evaluate_saying_why(client: httpx.Client, where: dict[str, Any]) -> None:
    answer = client.post(SEARCH, params=PREVIEW, json={"where": where})

    assert_error(answer, 400, "InvalidExperimentSearchFilter")
    assert answer.json()["parameters"]["reason"]


def test_search_refuses_more_than_100_per_page(client: httpx.Client) -> None:
    answer = client.post(SEARCH, params=PREVIEW, json={"pageSize": 101})

    assert_error(answer, 400, "InvalidPageSize", pageSize=101)


def test_search_in_an_unknown_model_is_model_not_found(client: httpx.Client) -> None:
    answer = client.post(f"{MODELS}/ri.models.main.model.missing/experiments/search", params=PREVIEW, json={})

    assert_error(answer, 404, "ModelNotFound")


def test_handle_adds_an_experiment_found_by_search(emu: FoundryEmulator, client: httpx.Client) -> None:
    added = emu.add_experiment(DEMO_STUDIO_MODEL, {"f1": 0.7})

    found = search(client, {"where": {"type": "eq", "field": "SERIES_NAME", "value": "f1"}})

    assert found["data"] == [added]
