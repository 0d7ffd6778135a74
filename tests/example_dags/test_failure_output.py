"""What a failed task prints in a ``dag.test()`` run: the reason once, no chained cause, no internal frames."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.example_dags.conftest import task_states

DEMO_FAILS = "ri.models.main.model-studio.demo-fails"
MISSING = "ri.models.main.model-studio.nope"
RUN_SECONDS = 86_400.0


def failed_run_output(dag: Any, studio: str, capfd: pytest.CaptureFixture[str]) -> str:
    capfd.readouterr()
    run = dag.test(run_conf={"model_studio_rid": studio})
    assert task_states(run)["train"] == "failed"
    out, err = capfd.readouterr()
    return out + err


def provider_frames(output: str) -> list[str]:
    return re.findall(r'File "[^"]*airflow_provider_modelstudio/[^"]*", line \d+, in (\w+)', output)


def fail_while_deferred(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep DEMO_FAILS' runs RUNNING until the task defers, then move the emulator clock past their end, so the
    failure reaches the task through its trigger however slow the machine is."""
    from airflow_provider_modelstudio.waits import deferral

    emulator.add_studio(DEMO_FAILS, outcome="FAILED", duration_seconds=RUN_SECONDS)
    defer_wait = deferral.defer_wait

    def advance_then_defer(*args: Any, **kwargs: Any) -> None:
        emulator.advance(RUN_SECONDS)
        defer_wait(*args, **kwargs)

    monkeypatch.setattr(deferral, "defer_wait", advance_then_defer)


@pytest.mark.usefixtures("airflow_db")
def test_a_failed_training_run_is_reported_once_without_a_chained_cause(
    example_dags: dict[str, Any],
    foundry_connection: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fail_while_deferred(foundry_connection, monkeypatch)
    output = failed_run_output(example_dags["retrain_then_deploy"], DEMO_FAILS, capfd)
    assert output.count("ended FAILED. Foundry judged this run") == 1
    assert "direct cause" not in output
    assert "During handling of the above exception" not in output
    assert provider_frames(output) == ["execute_complete"]  # the line that raised it, nothing below


@pytest.mark.usefixtures("airflow_db")
def test_a_missing_studio_is_named_once_with_the_fix_first(
    example_dags: dict[str, Any], foundry_connection: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    output = failed_run_output(example_dags["retrain_then_deploy"], MISSING, capfd)
    assert output.count("ModelStudioNotFound") == 1
    assert output.count("Check the RID in the studio's URL") == 1
    assert "AirflowFailException: No Model Studio with that RID is visible" in output
    assert provider_frames(output) == ["execute"]
