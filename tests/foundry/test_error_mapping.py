"""``error_from_response``: every answer Foundry (or something in front of it) can give becomes a typed,
readable exception naming the request, the status, Foundry's identifiers and the likely fix."""

from __future__ import annotations

import json
import traceback
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.errors import error_from_response

STUDIO = "ri.models.main.model-studio.s1"
BUILD = "ri.foundry.main.build.b1"
INSTANCE = "3f1c2b4a-0000-4000-8000-1234567890ab"
PATH = f"/api/v2/models/modelStudios/{STUDIO}/launch"


def envelope(name: str, code: str, **parameters: Any) -> bytes:
    return json.dumps(
        {"errorCode": code, "errorName": name, "errorInstanceId": INSTANCE, "parameters": parameters}
    ).encode()


def from_body(status: int, body: bytes, *, method: str = "POST", path: str = PATH, **kw: Any) -> errors.FoundryApiError:
    return error_from_response(method=method, path=path, status_code=status, body=body, **kw)


@pytest.mark.parametrize(
    ("status", "name", "code", "params", "cls"),
    [
        (404, "ModelStudioNotFound", "NOT_FOUND", {"studioRid": STUDIO}, errors.ModelStudioNotFound),
        (404, "ModelStudioNotFound", "NOT_FOUND", {"modelStudioRid": STUDIO}, errors.ModelStudioNotFound),
        (
            403,
            "LaunchModelStudioPermissionDenied",
            "PERMISSION_DENIED",
            {"studioRid": STUDIO},
            errors.LaunchModelStudioPermissionDenied,
        ),
        (
            403,
            "LaunchModelStudioPermissionDenied",
            "PERMISSION_DENIED",
            {"modelStudioRid": STUDIO},
            errors.LaunchModelStudioPermissionDenied,
        ),
        (
            404,
            "ModelStudioConfigVersionNotFound",
            "NOT_FOUND",
            {"studioRid": STUDIO, "configVersion": 3},
            errors.ModelStudioConfigVersionNotFound,
        ),
        (404, "ModelNotFound", "NOT_FOUND", {"modelRid": "ri.models.main.model.m"}, errors.ModelNotFound),
        (
            404,
            "ModelVersionNotFound",
            "NOT_FOUND",
            {"modelRid": "ri.models.main.model.m", "modelVersionRid": "ri.models.main.model-version.v"},
            errors.ModelVersionNotFound,
        ),
        (404, "BuildNotFound", "NOT_FOUND", {"buildRid": BUILD}, errors.BuildNotFound),
        (
            403,
            "CancelBuildPermissionDenied",
            "PERMISSION_DENIED",
            {"buildRid": BUILD},
            errors.CancelBuildPermissionDenied,
        ),
        (400, "BuildNotRunning", "INVALID_ARGUMENT", {"buildRid": BUILD}, errors.BuildNotRunning),
        (400, "ApiFeaturePreviewUsageOnly", "INVALID_ARGUMENT", {}, errors.PreviewRequired),
        (403, "ApiUsageDenied", "PERMISSION_DENIED", {"missingScope": "api:models-write"}, errors.MissingScope),
    ],
)
def test_named_errors_map_to_their_classes(
    status: int, name: str, code: str, params: dict[str, Any], cls: type[errors.FoundryApiError]
) -> None:
    error = from_body(status, envelope(name, code, **params))
    assert type(error) is cls
    assert error.error_name == name
    assert error.error_code == code
    assert error.error_instance_id == INSTANCE
    assert error.parameters == params
    assert error.status_code == status


def test_printed_error_names_method_path_status_error_name_instance_id_and_parameters() -> None:
    error = from_body(404, envelope("ModelStudioNotFound", "NOT_FOUND", studioRid=STUDIO))
    message = "".join(traceback.format_exception_only(error))  # what a person reads under a traceback
    assert message.startswith("airflow_provider_modelstudio.foundry.errors.ModelStudioNotFound: POST ")
    assert f"POST {PATH} -> 404" in message
    assert f"errorInstanceId {INSTANCE}" in message
    assert f"studioRid={STUDIO}" in message
    assert "Check the RID" in message  # the likely fix


@pytest.mark.parametrize("param", ["studioRid", "modelStudioRid"])
def test_studio_rid_parameter_is_read_under_either_spelling(param: str) -> None:
    error = from_body(404, envelope("ModelStudioNotFound", "NOT_FOUND", **{param: STUDIO}))
    assert error.parameter("studioRid", "modelStudioRid") == STUDIO


def test_missing_parameter_reads_as_none() -> None:
    assert from_body(404, envelope("BuildNotFound", "NOT_FOUND")).parameter("buildRid") is None


def test_launch_permission_denied_says_what_access_to_grant() -> None:
    message = str(from_body(403, envelope("LaunchModelStudioPermissionDenied", "PERMISSION_DENIED", studioRid=STUDIO)))
    assert "may not launch this Model Studio" in message
    assert f"studioRid={STUDIO}" in message


def test_missing_scope_names_the_scope_and_where_to_grant_it() -> None:
    error = from_body(403, envelope("ApiUsageDenied", "PERMISSION_DENIED", missingScope="api:models-write"))
    assert isinstance(error, errors.FoundryPermissionDenied)
    assert "missingScope=api:models-write" in str(error)
    assert "Developer Console" in str(error)


def test_preview_required_is_a_bad_request_blaming_a_proxy() -> None:
    error = from_body(400, envelope("ApiFeaturePreviewUsageOnly", "INVALID_ARGUMENT"))
    assert isinstance(error, errors.FoundryBadRequest)
    assert "preview=true" in str(error)


def test_error_description_is_included() -> None:
    body = json.dumps(
        {
            "errorCode": "INVALID_ARGUMENT",
            "errorName": "InvalidPageSize",
            "errorInstanceId": INSTANCE,
            "errorDescription": "pageSize must be at most 1000",
            "parameters": {"pageSize": 5000},
        }
    ).encode()
    error = from_body(400, body, method="GET")
    assert type(error) is errors.FoundryBadRequest
    assert "pageSize must be at most 1000" in str(error)
    assert "pageSize=5000" in str(error)


def test_empty_body_404_means_the_endpoint_does_not_exist() -> None:
    error = from_body(404, b"")
    assert type(error) is errors.EndpointNotAvailable
    assert isinstance(error, errors.FoundryNotFound)
    message = str(error)
    assert f"POST {PATH} -> 404" in message
    assert "endpoint does not exist" in message
    assert "no body" in message


def test_whitespace_only_404_is_also_endpoint_not_available() -> None:
    assert type(from_body(404, b"  \n")) is errors.EndpointNotAvailable


def test_html_body_gives_a_readable_message_about_a_proxy() -> None:
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><h1>502 Bad Gateway</h1></body></html>"
    error = from_body(502, page, content_type="text/html")
    assert isinstance(error, errors.FoundryServerError)
    message = str(error)
    assert "HTML page" in message
    assert "502 Bad Gateway" in message
    assert "proxy" in message
    assert "\r" not in message and "\n" not in message


def test_html_body_without_content_type_is_recognised() -> None:
    assert "HTML page" in str(from_body(503, b"<!DOCTYPE html><p>down</p>"))


def test_long_non_json_body_is_shortened() -> None:
    error = from_body(500, b"x" * 5000, content_type="text/plain")
    assert len(str(error)) < 1000
    assert "..." in str(error)


def test_non_json_garbage_does_not_crash() -> None:
    error = from_body(500, b"\xff\xfe\x00garbage{", content_type="application/octet-stream")
    assert type(error) is errors.FoundryServerError
    assert "not Foundry's JSON error envelope" in str(error)


def test_json_that_is_not_an_envelope_falls_back_by_status() -> None:
    error = from_body(400, b'{"message": "bad"}', content_type="application/json")
    assert type(error) is errors.FoundryBadRequest
    assert error.error_name == ""
    assert "bad" in str(error)


def test_oauth2_error_body_of_the_token_endpoint_is_read() -> None:
    body = b'{"error": "invalid_client", "error_description": "unknown client or wrong client secret"}'
    error = from_body(401, body, path="/multipass/api/oauth2/token", content_type="application/json")
    assert isinstance(error, errors.FoundryAuthError)
    assert "invalid_client: unknown client or wrong client secret" in str(error)
    assert "proxy" not in str(error)


def test_oauth2_error_without_description_is_read() -> None:
    error = from_body(400, b'{"error": "invalid_scope"}', path="/multipass/api/oauth2/token")
    assert type(error) is errors.FoundryBadRequest
    assert "invalid_scope" in str(error)


def test_printed_error_names_its_class_once() -> None:
    error = from_body(404, envelope("ModelStudioNotFound", "NOT_FOUND", studioRid=STUDIO))
    assert "".join(traceback.format_exception_only(error)).count("ModelStudioNotFound") == 1


def test_message_keeps_foundrys_error_name_when_the_class_does_not_say_it() -> None:
    error = from_body(403, envelope("ApiUsageDenied", "PERMISSION_DENIED", missingScope="api:models-write"))
    assert str(error).startswith("ApiUsageDenied: POST ")


def test_summary_is_the_message_without_the_hint_naming_the_error() -> None:
    error = from_body(404, envelope("ModelStudioNotFound", "NOT_FOUND", studioRid=STUDIO))
    assert f"ModelStudioNotFound: {error}" == f"{error.summary}: {errors.ModelStudioNotFound.hint}"
    assert f"POST {PATH} -> 404" in error.summary
    assert errors.ModelStudioNotFound.hint not in error.summary


def test_json_list_body_falls_back_by_status() -> None:
    assert type(from_body(409, b"[1, 2]")) is errors.FoundryConflict


def test_unknown_error_name_falls_back_by_status() -> None:
    error = from_body(404, envelope("SomethingNewNotFound", "NOT_FOUND", thing="x"))
    assert type(error) is errors.FoundryNotFound
    assert str(error).startswith("SomethingNewNotFound: ")
    assert "thing=x" in str(error)


def test_envelope_with_non_dict_parameters_is_tolerated() -> None:
    body = json.dumps({"errorCode": "INTERNAL", "errorName": "Default:Internal", "parameters": ["x"]}).encode()
    error = from_body(500, body)
    assert type(error) is errors.FoundryServerError
    assert error.parameters == {}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.FoundryBadRequest),
        (401, errors.FoundryUnauthorized),
        (403, errors.FoundryPermissionDenied),
        (404, errors.FoundryNotFound),
        (409, errors.FoundryConflict),
        (413, errors.FoundryApiError),
        (422, errors.FoundryApiError),
        (429, errors.FoundryRateLimited),
        (500, errors.FoundryServerError),
        (502, errors.FoundryServerError),
        (503, errors.FoundryUnavailable),
        (504, errors.FoundryServerError),
    ],
)
def test_status_fallback_classes(status: int, cls: type[errors.FoundryApiError]) -> None:
    assert type(from_body(status, b"not json")) is cls


def test_empty_body_other_than_404_says_there_was_no_body() -> None:
    error = from_body(503, b"", method="GET")
    assert type(error) is errors.FoundryUnavailable
    assert "no body" in str(error)


def test_unauthorized_is_also_an_auth_error() -> None:
    assert isinstance(from_body(401, b""), errors.FoundryAuthError)


def test_retry_after_is_kept_on_the_error() -> None:
    assert from_body(429, b"", retry_after=7.0).retry_after == 7.0


def test_every_error_is_a_foundry_error() -> None:
    for cls in (errors.FoundryConfigError, errors.FoundryAuthError, errors.FoundryApiError, errors.DuplicateRunsError):
        assert issubclass(cls, errors.FoundryError)
    assert issubclass(errors.FoundryConfigError, ValueError)


def test_transport_error_carries_whether_the_request_may_have_arrived() -> None:
    error = errors.FoundryTransportError("lost", method="POST", path=PATH, may_have_reached_server=True)
    assert (error.method, error.path, error.may_have_reached_server) == ("POST", PATH, True)


def test_duplicate_runs_error_lists_the_runs() -> None:
    assert errors.DuplicateRunsError("two runs", ["r1", "r2"]).run_ids == ["r1", "r2"]


def test_a_transport_failure_advised_otherwise_keeps_what_happened_and_replaces_only_the_fix() -> None:
    advised = errors.FoundryTransportError(
        "GET /p failed after 2 attempt(s) in 1.0 s: timed out. Raise the timeout.",
        method="GET",
        path="/p",
        may_have_reached_server=True,
        advice="Raise the timeout.",
    )
    again = advised.advising("Check the network.")
    assert str(again) == "GET /p failed after 2 attempt(s) in 1.0 s: timed out. Check the network."
    assert (again.method, again.path, again.may_have_reached_server) == ("GET", "/p", True)
    unadvised = errors.FoundryTransportError("lost", method="POST", path="/q", may_have_reached_server=False)
    assert str(unadvised.advising("Check the network.")) == "lost Check the network."
