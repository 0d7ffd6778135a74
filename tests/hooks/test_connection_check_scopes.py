"""The connection test's reading of the probes' answers: which scope is missing (as Foundry names it, or as the
contract says), which answers prove nothing about scopes, and what the message tells each kind of connection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import api
from airflow_provider_modelstudio.foundry.errors import FoundryError, error_from_response
from airflow_provider_modelstudio.hooks.connection_check import (
    PROBE_BUILD,
    PROBES,
    NotFoundry,
    missing_scopes,
    missing_scopes_message,
    scope_of,
)
from tests.foundry.support import settings_from


def envelope(status: int, code: str, name: str, **parameters: Any) -> FoundryError:
    body = json.dumps({"errorCode": code, "errorName": name, "errorInstanceId": "e1", "parameters": parameters})
    return error_from_response(method="GET", path="/probe", status_code=status, body=body.encode())


def answering(errors: dict[str, FoundryError]) -> Any:
    """A ``send`` that raises the given error for a probe of that endpoint and answers the others as Foundry
    does: the build batch with no build, every other probe with its resource's 404."""

    def send(request: api.Request[Any]) -> Any:
        if request.endpoint in errors:
            raise errors[request.endpoint]
        if request.endpoint == "get_builds_batch":
            return request.read({"data": {}})
        raise envelope(404, "NOT_FOUND", "ModelStudioNotFound")

    return send


def test_foundrys_own_answers_to_every_probe_leave_nothing_missing() -> None:
    assert missing_scopes(answering({})) == []


@pytest.mark.parametrize(
    "answer",
    [{}, {"data": []}, {"data": {PROBE_BUILD: {"status": "RUNNING"}}}, None],
    ids=["empty object", "data not an object", "the missing build found", "nothing"],
)
def test_a_build_batch_answer_foundry_would_not_give_means_not_foundry(answer: Any) -> None:
    def send(request: api.Request[Any]) -> Any:
        return request.read(answer)

    with pytest.raises(NotFoundry, match="to a build batch read of a build that does not exist"):
        missing_scopes(send)


def test_a_404_that_is_not_foundrys_envelope_is_raised() -> None:
    page = error_from_response(method="GET", path="/probe", status_code=404, body=b"<html>Not Found</html>")
    with pytest.raises(FoundryError) as info:
        missing_scopes(answering({"get_model_studio": page}))
    assert info.value is page


def test_a_refusal_naming_its_missing_scope_is_reported_under_that_name() -> None:
    refusal = envelope(403, "PERMISSION_DENIED", "ApiUsageDenied", missingScope="api:ontologies-read")
    assert missing_scopes(answering({"get_model_studio": refusal})) == ["api:ontologies-read"]


def test_a_refusal_without_the_scope_named_is_reported_as_the_probes_scope() -> None:
    refusal = envelope(403, "PERMISSION_DENIED", "ApiUsageDenied")
    (probe,) = [p for p in PROBES if p.endpoint == "cancel_build"]
    assert missing_scopes(answering({"cancel_build": refusal})) == [scope_of(probe)]


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_in_foundrys_envelope_proves_nothing_and_is_raised(status: int) -> None:
    failure = envelope(status, "INTERNAL", "Default:Internal")
    with pytest.raises(FoundryError) as info:
        missing_scopes(answering({"get_model_studio": failure}))
    assert info.value is failure


def test_a_foundry_refusal_of_the_probes_resource_passes() -> None:
    not_found = envelope(404, "NOT_FOUND", "ModelStudioNotFound")
    assert missing_scopes(answering({"get_model_studio": not_found})) == []


def oauth2(scopes: str) -> Any:
    conn = {"conn_type": "foundry", "host": "foundry.example", "login": "client", "password": "secret"}
    return settings_from({**conn, "extra": {"scopes": scopes}})


def test_each_missing_scope_is_listed_with_what_needs_it() -> None:
    message = missing_scopes_message(oauth2("api:models-read api:orchestration-write"), ["api:models-read", "x:y"])
    assert "lacks 2 of the scopes this provider needs: missingScope=api:models-read (needed to get model studio" in (
        message
    )
    assert "; missingScope=x:y (needed to ). " in message


def test_an_oauth2_connection_that_asked_for_the_missing_scopes_is_told_to_grant_them() -> None:
    message = missing_scopes_message(oauth2("api:models-read"), ["api:models-read"])
    assert message.endswith(". Grant them to the third-party application in Foundry's Developer Console.")


def test_an_oauth2_connection_that_did_not_ask_for_them_is_told_to_ask_and_grant() -> None:
    message = missing_scopes_message(oauth2("api:models-read"), ["api:models-write"])
    assert message.endswith(
        ". The connection's OAuth2 scopes field does not ask for them: add them there, or empty it to ask for "
        "every scope this provider needs; they must also be granted to the application in Foundry's Developer "
        "Console."
    )
