"""What a failed task says: one message, the fix first, no chained cause, no internal frames."""

from __future__ import annotations

import json
import traceback

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryServerError, error_from_response
from airflow_provider_modelstudio.runs.errors import RunFailedError, as_task_failure, failure_message

NOT_FOUND = json.dumps(
    {
        "errorCode": "NOT_FOUND",
        "errorName": "ModelStudioNotFound",
        "errorInstanceId": "i-1",
        "parameters": {"studioRid": "ri.models.main.model-studio.nope"},
    }
).encode()


def not_found():
    return error_from_response(
        method="GET",
        path="/api/v2/models/modelStudios/ri.models.main.model-studio.nope/runs",
        status_code=404,
        body=NOT_FOUND,
    )


def raised(exc: BaseException) -> BaseException:
    """``exc`` raised deep inside a call, the way the hook raises it, for its traceback."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def printed(exc: BaseException) -> str:
    try:
        raise as_task_failure(exc, retry_allowed=False) from None  # type: ignore[arg-type]
    except BaseException as failure:
        return "".join(traceback.format_exception(failure))


def test_a_foundry_answer_fails_the_task_with_the_fix_first():
    message = failure_message(not_found())
    assert message.startswith("No Model Studio with that RID is visible to this connection's user. Check the RID")
    assert (
        "(ModelStudioNotFound: GET /api/v2/models/modelStudios/ri.models.main.model-studio.nope/runs -> 404" in message
    )


def test_a_foundry_answer_names_the_error_once_in_the_task_log():
    log = printed(raised(not_found()))
    assert log.count("ModelStudioNotFound") == 1
    assert log.count("Check the RID in the studio's URL") == 1


def test_a_task_failure_carries_no_chained_cause():
    log = printed(raised(not_found()))
    assert "direct cause" not in log
    assert "During handling" not in log


def test_a_task_failure_shows_no_frame_of_the_hook():
    log = printed(raised(not_found()))
    assert "in raised" not in log
    assert log.count('File "') == 1  # the line that raised it, nothing below


def test_other_errors_keep_their_own_message():
    failure = as_task_failure(
        FoundryConfigError("model_studio_rid='x' is not a Model Studio RID."), retry_allowed=False
    )
    assert isinstance(failure, AirflowFailException)
    assert str(failure) == "model_studio_rid='x' is not a Model Studio RID."


def test_a_transient_failure_stays_retryable_without_its_internal_frames():
    error = raised(
        FoundryServerError(method="GET", path="/api/v2/x", status_code=502, detail="The answer had no body.")
    )
    failure = as_task_failure(error, retry_allowed=False)  # type: ignore[arg-type]
    assert failure is error
    assert failure.__traceback__ is None


def test_a_failed_run_is_retryable_when_the_user_opted_in():
    failure = as_task_failure(RunFailedError("ended FAILED"), retry_allowed=True)
    assert isinstance(failure, RunFailedError)
