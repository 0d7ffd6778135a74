"""Fixtures of the hostile-server suite: servers, a self-signed certificate, both transports, a fake clock.

Every test here talks HTTP to a :class:`~tests.hostile.server.HostileServer` on 127.0.0.1. Where both
transports are concerned, tests take the ``transport`` fixture, which runs them once with the sync client
(``requests``, the workers') and once with the async client (``httpx``, the triggerer's).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import FAST_RETRY, FakeClock, settings_from
from tests.hostile.server import HostileServer

TOKEN = "hostile-static-token-7f3a"
CLIENT_ID = "hostile-client"
CLIENT_SECRET = "hostile-client-secret/+=9"  # characters that change when percent-encoded
STUDIO = "ri.models.main.model-studio.hostile"
RUNS_PATH = f"/api/v2/models/modelStudios/{STUDIO}/runs"
LAUNCH_PATH = f"/api/v2/models/modelStudios/{STUDIO}/launch"
TOKEN_PATH = "/multipass/api/oauth2/token"
BATCH_PATH = "/api/v2/orchestration/builds/getBatch"
BUILD_RID = "ri.foundry.main.build.hostile-1"
BUILD_PATH = f"/api/v2/orchestration/builds/{BUILD_RID}"


def connection(server: HostileServer, *, oauth2: bool = False, **extra: Any) -> FoundrySettings:
    """Checked settings for a connection to ``server`` (a static token unless ``oauth2``)."""
    conn: dict[str, Any] = {"conn_type": "foundry", "host": server.url, "password": TOKEN}
    if oauth2:
        conn.update(login=CLIENT_ID, password=CLIENT_SECRET)
    if extra:
        conn["extra"] = extra
    return settings_from(conn)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    yield server
    server.stop()


@pytest.fixture
def another_hostile() -> Iterator[HostileServer]:
    """A second server: a foreign host that redirects point at."""
    server = HostileServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by nobody anyone trusts, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile self-signed")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def tls_hostile(self_signed: tuple[Path, Path]) -> Iterator[HostileServer]:
    """An https server whose certificate no CA bundle trusts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)
    server = HostileServer(tls=context).start()
    yield server
    server.stop()


class Transport:
    """One of the two clients, behind one synchronous face for tests.

    :param name: ``requests`` (the sync client) or ``httpx`` (the async client)
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def call(
        self,
        settings: FoundrySettings,
        endpoint: str,
        path_params: dict[str, str] | None = None,
        json_body: Any = None,
        retry: dict[str, Any] | None = None,
    ) -> Any:
        """Make one call on a fresh client; return its parsed answer or raise its error."""
        policy = RetryPolicy(**(retry or FAST_RETRY))
        if self.name == "requests":
            client = FoundryClient(settings, retry=policy, sleep=lambda seconds: None)
            try:
                return client.call(endpoint, path_params, None, json_body)
            finally:
                client.close()
        return self._in_loop(settings, policy, lambda c: c.call(endpoint, path_params, None, json_body))

    def list(self, settings: FoundrySettings, endpoint: str, path_params: dict[str, str]) -> list[Any]:
        """Every item of a paged endpoint."""
        policy = RetryPolicy(**FAST_RETRY)
        if self.name == "requests":
            return list(
                FoundryClient(settings, retry=policy, sleep=lambda seconds: None).paged(endpoint, path_params, {})
            )

        async def collect(client: AsyncFoundryClient) -> list[Any]:
            return [item async for item in client.paged(endpoint, path_params, {})]

        return self._in_loop(settings, policy, collect)

    @staticmethod
    def _in_loop(settings: FoundrySettings, policy: RetryPolicy, work: Callable[[AsyncFoundryClient], Any]) -> Any:
        async def main() -> Any:
            client = AsyncFoundryClient(settings, retry=policy)
            try:
                return await work(client)
            finally:
                await client.aclose()

        return asyncio.run(main())


@pytest.fixture(params=["requests", "httpx"])
def transport(request: pytest.FixtureRequest) -> Transport:
    return Transport(request.param)
