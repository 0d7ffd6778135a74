"""Failures say what they are: an untrusted certificate, a hostname that does not resolve, a password that
could never be sent, TLS verification turned off (issue 9, item 14)."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import settings_from
from tests.hostile.conftest import BUILD_PATH, BUILD_RID, TOKEN, Transport, connection
from tests.hostile.server import HostileServer, reply

UNRESOLVABLE = "foundry.does-not-resolve.example"


def test_an_untrusted_certificate_is_named_with_how_to_trust_a_ca_and_not_retried(
    tls_hostile: HostileServer, transport: Transport
) -> None:
    tls_hostile.on("GET", BUILD_PATH, reply(200, {"rid": BUILD_RID}))
    with pytest.raises(errors.FoundryCertificateError) as info:
        transport.call(connection(tls_hostile), "get_build", {"buildRid": BUILD_RID})
    message = str(info.value)
    assert "TLS certificate" in message
    assert "could not be verified" in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert "SSL_CERT_FILE" in message
    assert "verify" in message
    assert "connection lost" not in message
    assert tls_hostile.connections == 1  # not retried
    assert tls_hostile.seen == []


def test_an_untrusted_certificate_is_not_a_transient_failure(tls_hostile: HostileServer, transport: Transport) -> None:
    with pytest.raises(errors.FoundryCertificateError) as info:
        transport.call(connection(tls_hostile), "get_build", {"buildRid": BUILD_RID})
    assert not isinstance(info.value, errors.FoundryTransportError)


def test_a_hostname_that_does_not_resolve_is_named_as_such(
    transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == UNRESOLVABLE:  # answered here: no DNS server is asked
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    settings = settings_from({"conn_type": "foundry", "host": UNRESOLVABLE, "password": TOKEN})
    with pytest.raises(errors.FoundryTransportError) as info:
        transport.call(settings, "get_build", {"buildRid": BUILD_RID})
    message = str(info.value)
    assert f"the hostname {UNRESOLVABLE} does not resolve" in message
    assert "host field" in message
    assert "raise the connection's timeout" not in message
    assert not info.value.may_have_reached_server


@pytest.mark.parametrize("password", ["tok\r\nX-Injected: 1", "token\n", "tok\ren", "tok\x00en"])
def test_a_password_with_a_line_break_is_refused_before_any_request(hostile: HostileServer, password: str) -> None:
    with pytest.raises(errors.FoundryConfigError) as info:
        settings_from({"conn_type": "foundry", "host": hostile.url, "password": password})
    message = str(info.value)
    assert "line break" in message
    assert password not in message
    assert hostile.seen == []


@pytest.mark.parametrize("password", [" ", "\t", "   \t  "])
def test_a_whitespace_only_password_is_refused(hostile: HostileServer, password: str) -> None:
    with pytest.raises(errors.FoundryConfigError, match="only whitespace"):
        settings_from({"conn_type": "foundry", "host": hostile.url, "login": "client", "password": password})


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_verification_turned_off_reaches_the_server_and_warns_once_per_connection(
    tls_hostile: HostileServer, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    tls_hostile.on("GET", BUILD_PATH, reply(200, {"rid": BUILD_RID}))
    settings = connection(tls_hostile, verify=False)
    assert transport.call(settings, "get_build", {"buildRid": BUILD_RID}) == {"rid": BUILD_RID}
    assert transport.call(settings, "get_build", {"buildRid": BUILD_RID}) == {"rid": BUILD_RID}
    FoundryClient(settings).close()
    warnings = [r.getMessage() for r in caplog.records if "verification off" in r.getMessage()]
    assert len(warnings) == 1
    assert "pose as Foundry" in warnings[0]
    assert tls_hostile.url in warnings[0]


def test_tls_verification_on_logs_no_warning(tls_hostile: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    caplog.set_level(logging.WARNING)
    settings = connection(tls_hostile)
    FoundryClient(settings).close()

    async def make_and_close() -> None:
        await AsyncFoundryClient(settings).aclose()

    asyncio.run(make_and_close())
    assert "verification off" not in caplog.text
