"""StatusWatch: what a person reads while a run trains."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_modelstudio.runs import progress
from airflow_provider_modelstudio.runs.progress import StatusWatch
from airflow_provider_modelstudio.runs.status import Verdict


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(1_000_000.0)
    monkeypatch.setattr(progress.time, "time", fake)
    return fake


def lines(caplog):
    return [record.getMessage() for record in caplog.records]


def test_elapsed_time_counts_from_the_runs_start_not_from_the_watch(clock, caplog):
    caplog.set_level(logging.INFO)
    watch = StatusWatch("b", "https://f/b", 30, logging.getLogger("t"), started_at=clock.now - 75)
    assert watch.observe("SUCCEEDED") is Verdict.SUCCEEDED
    assert "Build b is SUCCEEDED after 0:01:15. https://f/b" in lines(caplog)


def test_a_quiet_wait_logs_heartbeats_with_elapsed_time_and_link(clock, caplog):
    caplog.set_level(logging.INFO)
    watch = StatusWatch("b", "https://f/b", 30, logging.getLogger("t"), started_at=clock.now, heartbeat=60)
    for _ in range(4):
        watch.observe("RUNNING")
        clock.now += 30
    assert lines(caplog) == [
        "Build b is RUNNING after 0:00:00; next check in 30 s. https://f/b",
        "Build b still RUNNING after 0:01:00; checking every 30 s. https://f/b",
    ]


def test_a_ten_hour_run_logs_a_few_dozen_lines_not_thousands(clock, caplog):
    caplog.set_level(logging.INFO)
    watch = StatusWatch("b", "u", 30, logging.getLogger("t"), started_at=clock.now, heartbeat=60)
    for _ in range(10 * 3600 // 30):
        watch.observe("RUNNING")
        clock.now += 30
    assert 20 <= len(caplog.records) <= 40


def test_heartbeats_can_be_turned_off(clock, caplog):
    caplog.set_level(logging.INFO)
    watch = StatusWatch("b", "u", 30, logging.getLogger("t"), started_at=clock.now, heartbeat=0)
    for _ in range(100):
        watch.observe("RUNNING")
        clock.now += 30
    assert len(caplog.records) == 1


def test_a_status_change_is_always_logged(clock, caplog):
    caplog.set_level(logging.INFO)
    watch = StatusWatch("b", "u", 30, logging.getLogger("t"), started_at=clock.now)
    watch.observe("RUNNING")
    clock.now += 1
    watch.observe("SUCCEEDED")
    assert [line.split(" after")[0] for line in lines(caplog)] == ["Build b is RUNNING", "Build b is SUCCEEDED"]


def test_the_clock_reads_hours_minutes_seconds():
    assert progress.clock(3 * 3600 + 2 * 60 + 1) == "3:02:01"
    assert progress.clock(-5) == "0:00:00"


def result_with(outputs, status="SUCCEEDED"):
    return {
        "run_id": "r1",
        "model_studio_rid": "ri.models.main.model-studio.s",
        "build_status": status,
        "build_url": "https://f/b",
        "model_outputs": outputs,
    }


def version_link(model_rid, version_rid):
    return f"https://f/{model_rid}/{version_rid}"


def test_a_success_logs_one_line_naming_the_new_model_version_and_its_link(caplog):
    caplog.set_level(logging.INFO)
    output = {"model_rid": "m", "model_version_rid": "v", "experiment_rid": None}
    progress.report_success(logging.getLogger("t"), result_with({"model": output}), version_link)
    assert lines(caplog) == ["Run r1 of ri.models.main.model-studio.s SUCCEEDED: new model version v https://f/m/v"]


def test_a_success_with_several_outputs_names_each_version_by_alias_on_one_line(caplog):
    caplog.set_level(logging.INFO)
    outputs = {
        "churn": {"model_rid": "m1", "model_version_rid": "v1", "experiment_rid": None},
        "uplift": {"model_rid": "m2", "model_version_rid": "v2", "experiment_rid": None},
    }
    progress.report_success(logging.getLogger("t"), result_with(outputs), version_link)
    assert lines(caplog) == [
        "Run r1 of ri.models.main.model-studio.s SUCCEEDED: new model versions "
        "churn: v1 https://f/m1/v1; uplift: v2 https://f/m2/v2"
    ]


def test_a_success_without_model_output_says_so_with_the_build_link(caplog):
    caplog.set_level(logging.INFO)
    progress.report_success(logging.getLogger("t"), result_with({}), version_link)
    assert lines(caplog) == ["Run r1 of ri.models.main.model-studio.s SUCCEEDED without a model output. https://f/b"]


def test_a_success_of_an_unknown_studio_names_the_run_and_leaves_out_a_link_it_cannot_make(caplog):
    caplog.set_level(logging.INFO)
    result = result_with({"model": {"model_rid": None, "model_version_rid": "v", "experiment_rid": None}})
    result["model_studio_rid"] = None
    progress.report_success(logging.getLogger("t"), result, version_link)
    assert lines(caplog) == ["Run r1 of its studio SUCCEEDED: new model version v"]


def test_an_unknown_status_is_warned_about_once_saying_the_wait_goes_on(clock, caplog):
    caplog.set_level(logging.WARNING)
    watch = StatusWatch("b", "u", 30, logging.getLogger("t"), started_at=clock.now, heartbeat=0)
    watch.observe("PAUSED")
    watch.observe("PAUSED")
    assert lines(caplog) == [
        "Foundry reported build status 'PAUSED', which this provider does not know; treating it as not finished "
        "and waiting on."
    ]


def test_a_heartbeat_of_a_fraction_of_a_second_still_logs(clock, caplog):
    caplog.set_level(logging.INFO)
    watch = StatusWatch("b", "u", 0.5, logging.getLogger("t"), started_at=clock.now, heartbeat=0.5)
    watch.observe("RUNNING")
    clock.now += 0.6
    watch.observe("RUNNING")
    assert len(lines(caplog)) == 2
