"""Redirects are never followed, on either transport, and are reported naming their target (issue 9, item 7)."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry import errors
from tests.hostile.conftest import BUILD_PATH, BUILD_RID, CLIENT_SECRET, TOKEN_PATH, Transport, connection
from tests.hostile.server import HostileServer, reply


@pytest.mark.parametrize("status", [307, 308])
def test_a_token_endpoint_redirect_is_not_followed_so_the_client_secret_stays_home(
    hostile: HostileServer, another_hostile: HostileServer, transport: Transport, status: int
) -> None:
    target = f"{another_hostile.url}{TOKEN_PATH}"
    hostile.on("POST", TOKEN_PATH, reply(status, None, {"Location": target}))
    with pytest.raises(errors.FoundryRedirected) as info:
        transport.call(connection(hostile, oauth2=True), "get_build", {"buildRid": BUILD_RID})
    assert another_hostile.seen == []
    assert len(hostile.requests_to(TOKEN_PATH)) == 1  # not retried
    assert info.value.status_code == status
    message = str(info.value)
    assert target in message
    assert "never follows redirects" in message
    assert "host to Foundry's API hostname" in message
    assert CLIENT_SECRET not in message


@pytest.mark.parametrize("status", [301, 302, 303])
def test_an_api_redirect_to_a_foreign_host_is_an_error_naming_the_target(
    hostile: HostileServer, another_hostile: HostileServer, transport: Transport, status: int
) -> None:
    another_hostile.on("GET", BUILD_PATH, reply(200, {"rid": BUILD_RID, "status": "SUCCEEDED"}))
    hostile.on("GET", BUILD_PATH, reply(status, None, {"Location": f"{another_hostile.url}{BUILD_PATH}"}))
    with pytest.raises(errors.FoundryRedirected, match=f"redirected to '{another_hostile.url}"):
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})
    assert another_hostile.seen == []
    assert len(hostile.requests_to(BUILD_PATH)) == 1


def test_a_redirect_without_a_location_says_so(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("GET", BUILD_PATH, reply(302))
    with pytest.raises(errors.FoundryRedirected, match="redirected without a Location"):
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})


def test_a_redirect_is_not_a_transient_failure(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("GET", BUILD_PATH, reply(307, None, {"Location": "https://login.example.com/"}))
    with pytest.raises(errors.FoundryRedirected) as info:
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})
    assert not isinstance(
        info.value, errors.FoundryTransportError | errors.FoundryRateLimited | errors.FoundryServerError
    )
