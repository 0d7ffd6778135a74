"""What a task says when its run did not give a model: which run, where to look, and whether anyone will retry."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry.shapes import read_run
from airflow_provider_modelstudio.runs.errors import RunFailedError
from airflow_provider_modelstudio.runs.result import finish

STUDIO = "ri.models.main.model-studio.s"
URL = "https://foundry.example/builds/b1"
RUN = read_run({"runId": "r1", "buildRid": "ri.foundry.main.build.b1"}, what="a test")
WHERE = f"Model Studio {STUDIO} run r1 (build ri.foundry.main.build.b1, {URL})"


def failure(status: str, studio: str | None = STUDIO, **kwargs: str) -> str:
    with pytest.raises(RunFailedError) as info:
        finish(RUN, status, studio_rid=studio, build_url=URL, fail_on_missing_model_output=True, **kwargs)
    return str(info.value)


def test_a_failed_run_says_foundry_judged_it_and_where_its_logs_are() -> None:
    assert failure("FAILED") == (
        f"{WHERE} ended FAILED. Foundry judged this run; the task is not retried automatically (launching the same "
        "configuration again would most likely fail the same way). Open the build link for the logs."
    )


def test_a_run_cancelled_elsewhere_says_this_try_did_not_cancel_it() -> None:
    assert failure("CANCELED") == (
        f"{WHERE} ended CANCELED. This try of the task did not cancel it: a person or system in Foundry did, or an "
        "earlier try of this task that was killed. The task is not retried automatically; open the build link to "
        "see who."
    )


def test_a_run_this_task_cancelled_says_why() -> None:
    assert failure("CANCELED", cancelled_because="the wait timed out") == (
        f"{WHERE} ended CANCELED. This task cancelled it because the wait timed out."
    )


def test_a_run_without_a_studio_is_named_by_its_id_and_build() -> None:
    assert failure("FAILED", studio=None).startswith(f"run r1 (build ri.foundry.main.build.b1, {URL}) ended FAILED.")


def test_a_success_without_a_model_output_says_how_to_allow_it() -> None:
    assert failure("SUCCEEDED") == (
        f"{WHERE} SUCCEEDED but resolved no model output, so there is no model version RID to hand downstream. "
        "Check the studio's output configuration, or pass fail_on_missing_model_output=False."
    )


def test_a_success_without_a_model_output_is_the_result_when_allowed() -> None:
    result = finish(RUN, "SUCCEEDED", studio_rid=STUDIO, build_url=URL, fail_on_missing_model_output=False)
    assert (result["build_status"], result["build_url"], result["model_outputs"]) == ("SUCCEEDED", URL, {})
