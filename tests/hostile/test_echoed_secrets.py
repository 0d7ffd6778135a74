"""No secret comes back through a server's answer: a proxy echoing the Authorization header or the token
request's form puts nothing of them into exception text or logs (issue 9, item 15)."""

from __future__ import annotations

import logging
from urllib.parse import quote_plus

import pytest

from airflow_provider_modelstudio.foundry import errors
from tests.hostile.conftest import (
    BUILD_PATH,
    BUILD_RID,
    CLIENT_SECRET,
    RUNS_PATH,
    STUDIO,
    TOKEN,
    TOKEN_PATH,
    Transport,
    connection,
)
from tests.hostile.server import Exchange, HostileServer, echo, reply

ISSUED = "issued-access-token-5c1e"
OTHER_BEARER = "some-other-bearer-value-99"


def token_answer() -> object:
    return reply(200, {"access_token": ISSUED, "token_type": "bearer", "expires_in": 3600})


def assert_nothing_secret(text: str) -> None:
    for secret in (TOKEN, CLIENT_SECRET, quote_plus(CLIENT_SECRET), ISSUED, OTHER_BEARER):
        assert secret not in text


def failure_text(exc: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join([str(exc), repr(exc), caplog.text])


def test_an_error_page_echoing_the_static_token_quotes_no_token(
    hostile: HostileServer, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile.on("GET", BUILD_PATH, echo(400))
    with pytest.raises(errors.FoundryBadRequest) as info:
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})
    assert "Bearer ***" in str(info.value)
    assert_nothing_secret(failure_text(info.value, caplog))


def test_an_error_page_echoing_the_oauth2_token_quotes_no_token(
    hostile: HostileServer, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile.on("POST", TOKEN_PATH, token_answer())
    hostile.on("GET", BUILD_PATH, echo(502))
    with pytest.raises(errors.FoundryServerError) as info:
        transport.call(connection(hostile, oauth2=True), "get_build", {"buildRid": BUILD_RID})
    assert_nothing_secret(failure_text(info.value, caplog))


def test_a_token_endpoint_echoing_the_client_secret_quotes_no_secret(
    hostile: HostileServer, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile.on("POST", TOKEN_PATH, echo(400, content_type="text/plain"))
    with pytest.raises(errors.FoundryAuthError) as info:
        transport.call(connection(hostile, oauth2=True), "get_build", {"buildRid": BUILD_RID})
    assert "client_secret=***" in str(info.value)
    assert_nothing_secret(failure_text(info.value, caplog))


def test_an_oauth2_error_description_echoing_the_secret_quotes_no_secret(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on(
        "POST",
        TOKEN_PATH,
        reply(401, {"error": "invalid_client", "error_description": f"secret {CLIENT_SECRET} is wrong"}),
    )
    with pytest.raises(errors.FoundryAuthError) as info:
        transport.call(connection(hostile, oauth2=True), "get_build", {"buildRid": BUILD_RID})
    assert "invalid_client" in str(info.value)
    assert_nothing_secret(str(info.value))


def test_an_envelope_echoing_secrets_in_parameters_and_description_quotes_none(
    hostile: HostileServer, transport: Transport
) -> None:
    def answer(exchange: Exchange) -> bool:
        assert exchange.request is not None
        return reply(
            403,
            {
                "errorCode": "PERMISSION_DENIED",
                "errorName": "ApiUsageDenied",
                "errorInstanceId": f"id-{ISSUED}",
                "errorDescription": f"header was {exchange.request.headers['authorization']}",
                "parameters": {
                    "missingScope": "api:orchestration-read",
                    "sent": ISSUED,
                    "other": f"bearer {OTHER_BEARER}",
                },
            },
        )(exchange)

    hostile.on("POST", TOKEN_PATH, token_answer())
    hostile.on("GET", BUILD_PATH, answer)
    with pytest.raises(errors.MissingScope) as info:
        transport.call(connection(hostile, oauth2=True), "get_build", {"buildRid": BUILD_RID})
    assert info.value.parameter("missingScope") == "api:orchestration-read"
    assert_nothing_secret(str(info.value))
    assert_nothing_secret(repr(info.value.parameters))


def test_a_redirect_echoing_the_token_in_its_location_quotes_no_token(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("GET", BUILD_PATH, reply(302, None, {"Location": f"https://elsewhere.example/?t={TOKEN}"}))
    with pytest.raises(errors.FoundryRedirected) as info:
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})
    assert "https://elsewhere.example/?t=***" in str(info.value)
    assert_nothing_secret(str(info.value))


def test_a_page_token_echoing_the_token_quotes_no_token(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("GET", RUNS_PATH, reply(200, {"data": [], "nextPageToken": f"Bearer {TOKEN}"}))
    with pytest.raises(errors.FoundryPagingError) as info:
        transport.list(connection(hostile), "list_model_studio_runs", {"modelStudioRid": STUDIO})
    assert_nothing_secret(str(info.value))
