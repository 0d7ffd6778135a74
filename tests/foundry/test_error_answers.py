"""How an error answer becomes a message: Foundry's envelope (even half of one), an OAuth2 error, a proxy's page
or body, or nothing at all; and how the message lays out what it knows."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.errors import FoundryApiError, FoundryServerError, error_from_response

SECRET = "tok-s3cr3t"


def answer(status: int, body: bytes | dict[str, Any], content_type: str = "") -> FoundryApiError:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return error_from_response(
        method="GET", path="/p", status_code=status, body=raw, content_type=content_type, secrets=[SECRET]
    )


def test_an_envelope_with_only_an_error_name_is_read_as_foundrys() -> None:
    error = answer(404, {"errorName": "BuildNotFound"})
    assert isinstance(error, errors.BuildNotFound)
    assert (error.error_name, error.error_code) == ("BuildNotFound", "")


def test_an_envelope_with_only_an_error_code_is_read_as_foundrys() -> None:
    error = answer(409, {"errorCode": "CONFLICT", "errorInstanceId": "i-1"})
    assert (error.error_code, error.error_instance_id, error.detail) == ("CONFLICT", "i-1", "")


def test_a_long_error_description_is_kept_up_to_400_characters() -> None:
    error = answer(400, {"errorCode": "INVALID_ARGUMENT", "errorName": "X", "errorDescription": "d" * 450})
    assert error.detail == "d" * 400 + "..."


def test_an_oauth2_error_is_quoted_redacted_with_its_description() -> None:
    error = answer(400, {"error": f"invalid_client {SECRET}", "error_description": "unknown client"})
    assert error.detail == "OAuth2 error invalid_client ***: unknown client"


def test_an_oauth2_error_without_description_is_quoted_alone() -> None:
    assert answer(401, {"error": "invalid_client"}).detail == "OAuth2 error invalid_client"


def test_a_json_body_that_is_not_an_envelope_is_described_as_a_body_with_its_content_type() -> None:
    error = answer(502, {"message": f"upstream {SECRET} down"}, content_type=f"application/json; v={SECRET}")
    assert error.detail == (
        "The answer was not Foundry's JSON error envelope but a body (application/json; v=***): "
        '\'{"message": "upstream *** down"}\'. A proxy or load balancer in front of Foundry probably answered.'
    )


def test_an_html_content_type_in_any_case_means_an_html_page() -> None:
    error = answer(503, b"Service down", content_type="text/HTML; charset=utf-8")
    assert error.detail.startswith("The answer was not Foundry's JSON error envelope but a HTML page (text/HTML")


def test_a_body_starting_with_a_tag_after_blanks_is_an_html_page_even_without_a_content_type() -> None:
    error = answer(503, b"  \n<html><body>down</body></html>")
    assert error.detail.startswith(
        "The answer was not Foundry's JSON error envelope but a HTML page (no content type): '<html><body>"
    )


def test_an_error_answer_without_a_body_says_so() -> None:
    assert answer(500, b"").detail == "The answer had no body."


# The message's layout ----------------------------------------------------------------------------------


def test_an_error_without_foundrys_details_reads_as_its_request_status_and_hint() -> None:
    error = FoundryServerError(method="GET", path="/p", status_code=500)
    assert (error.error_code, error.error_instance_id, error.detail, error.from_foundry) == ("", "", "", False)
    assert str(error) == f"GET /p -> 500: {FoundryServerError.hint}"
    assert error.summary == "FoundryServerError: GET /p -> 500"


def test_the_message_lists_the_instance_id_and_parameters_then_the_detail_and_hint() -> None:
    error = FoundryServerError(
        method="GET",
        path="/p",
        status_code=500,
        error_name="Default:Internal",
        error_instance_id="i-1",
        parameters={"b": 2, "a": 1},
        detail="It broke.",
    )
    assert str(error) == (
        f"Default:Internal: GET /p -> 500 (errorInstanceId i-1; a=1, b=2): It broke. {FoundryServerError.hint}"
    )
