"""OAuth2 token request shape, answer reading, and the process-wide cache (with a fake clock)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.auth import (
    TokenCache,
    TokenGrant,
    parse_token_answer,
    token_form,
)
from airflow_provider_modelstudio.foundry.errors import FoundryAuthError
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

SECRET = "client-secret-value-456"
KEY = ("https://h", "oauth2", "client", ("api:models-read",))


def oauth_settings(scopes: str | None = None) -> FoundrySettings:
    extra = json.dumps({"scopes": scopes}) if scopes else None
    return FoundrySettings.from_connection(
        Connection(conn_id="c", conn_type="foundry", host="h.example", login="client", password=SECRET, extra=extra)
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_form_is_client_credentials_with_scopes() -> None:
    assert token_form(oauth_settings("api:models-read api:orchestration-read")) == {
        "grant_type": "client_credentials",
        "client_id": "client",
        "client_secret": SECRET,
        "scope": "api:models-read api:orchestration-read",
    }


def test_token_form_asks_for_the_five_required_scopes_by_default() -> None:
    assert token_form(oauth_settings())["scope"].split() == [
        "api:models-read",
        "api:models-write",
        "api:models-execute",
        "api:orchestration-read",
        "api:orchestration-write",
    ]


@pytest.mark.parametrize(
    "body", [{"access_token": "tok-1", "expires_in": 600}, b'{"access_token": "tok-1", "expires_in": 600}']
)
def test_token_answer_is_read_from_json(body: Any) -> None:
    assert parse_token_answer(body, oauth_settings()) == TokenGrant("tok-1", 600.0)


@pytest.mark.parametrize("expires_in", [None, 0, -5, "3600"])
def test_token_answer_without_usable_lifetime_lives_an_hour(expires_in: Any) -> None:
    assert parse_token_answer({"access_token": "t", "expires_in": expires_in}, oauth_settings()).expires_in == 3600.0


@pytest.mark.parametrize("body", [None, {}, {"access_token": ""}, {"access_token": 5}, b"<html>", "[]"])
def test_token_answer_without_access_token_is_an_auth_error_naming_the_host_check(body: Any) -> None:
    with pytest.raises(FoundryAuthError, match="without an access_token"):
        parse_token_answer(body, oauth_settings())


def test_grant_repr_hides_the_token() -> None:
    assert "tok-secret-1" not in repr(TokenGrant("tok-secret-1", 5))


def test_cached_token_is_returned_until_the_renewal_margin() -> None:
    clock = FakeClock()
    cache = TokenCache(clock)
    cache.put(KEY, TokenGrant("tok", 3600))
    clock.now += 3600 - 60 - 0.001
    assert cache.get(KEY) == "tok"
    clock.now += 0.002
    assert cache.get(KEY) is None


def test_short_lived_token_is_renewed_at_half_its_life() -> None:
    clock = FakeClock()
    cache = TokenCache(clock)
    cache.put(KEY, TokenGrant("tok", 20))
    clock.now += 9.9
    assert cache.get(KEY) == "tok"
    clock.now += 0.2
    assert cache.get(KEY) is None


def test_tokens_are_cached_per_key() -> None:
    cache = TokenCache()
    cache.put(KEY, TokenGrant("tok", 3600))
    assert cache.get((*KEY[:2], "other-client", KEY[3])) is None


def test_invalidate_forgets_the_refused_token_only() -> None:
    cache = TokenCache()
    cache.put(KEY, TokenGrant("new", 3600))
    cache.invalidate(KEY, "old")  # another caller already replaced the refused token
    assert cache.get(KEY) == "new"
    cache.invalidate(KEY, "new")
    assert cache.get(KEY) is None


def test_clear_empties_the_cache() -> None:
    cache = TokenCache()
    cache.put(KEY, TokenGrant("tok", 3600))
    cache.clear()
    assert cache.get(KEY) is None


def test_thread_lock_is_one_per_key() -> None:
    cache = TokenCache()
    assert cache.thread_lock(KEY) is cache.thread_lock(KEY)
    assert cache.thread_lock(KEY) is not cache.thread_lock(("x", "y", "z", ()))


def test_loop_locks_are_per_event_loop() -> None:
    cache = TokenCache()

    async def lock_pair() -> tuple[asyncio.Lock, asyncio.Lock]:
        return cache.loop_lock(KEY), cache.loop_lock(KEY)

    first_a, first_b = asyncio.run(lock_pair())
    second_a, _ = asyncio.run(lock_pair())
    assert first_a is first_b
    assert first_a is not second_a
