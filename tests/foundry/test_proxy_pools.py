"""Which proxy connections the attempt watchdog may end: those through an HTTP proxy use the watched pools,
those through a SOCKS proxy (any spelling of the scheme) keep the SOCKS manager's own, which the watched pools
would bypass."""

from __future__ import annotations

from typing import Any

import pytest
from requests import adapters
from urllib3.poolmanager import PoolManager

from airflow_provider_modelstudio.foundry.sync_client import FoundryClient, _WatchedHTTPSPool, _WatchedPool
from tests.foundry.support import settings_from


class SocksManager(PoolManager):
    """Stands in for urllib3's SOCKS manager (PySocks is not installed here); its pools are its own."""

    def __init__(self, proxy_url: str, username: str | None = None, password: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.proxy_url = proxy_url


@pytest.fixture
def adapter(monkeypatch: pytest.MonkeyPatch) -> adapters.HTTPAdapter:
    monkeypatch.setattr(adapters, "SOCKSProxyManager", SocksManager)
    client = FoundryClient(settings_from({"conn_type": "foundry", "host": "foundry.example", "password": "t"}))
    mounted = client._session.get_adapter("https://foundry.example/api")
    assert isinstance(mounted, adapters.HTTPAdapter)
    return mounted


@pytest.mark.parametrize("proxy", ["socks5://proxy.example:1080", "SOCKS5H://proxy.example:1080"])
def test_connections_through_a_socks_proxy_keep_the_socks_pools(adapter: adapters.HTTPAdapter, proxy: str) -> None:
    manager = adapter.proxy_manager_for(proxy)
    assert isinstance(manager, SocksManager)
    assert manager.pool_classes_by_scheme == PoolManager(1).pool_classes_by_scheme


def test_connections_through_an_http_proxy_use_the_watched_pools(adapter: adapters.HTTPAdapter) -> None:
    manager = adapter.proxy_manager_for("http://proxy.example:3128")
    assert manager.pool_classes_by_scheme == {"http": _WatchedPool, "https": _WatchedHTTPSPool}
