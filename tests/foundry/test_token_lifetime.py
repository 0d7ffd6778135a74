"""Edges of an OAuth2 token's life: a one-second token is taken at its word, a token is due for renewal exactly
at its renewal time, every token fetched is registered with Airflow's log redaction, and a token answer without a
token says what to check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.auth import TokenCache, TokenGrant, keep_grant, parse_token_answer
from airflow_provider_modelstudio.foundry.errors import FoundryAuthError
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

KEY = ("https://h", "oauth2", "client", ("api:models-read",), "f")


def oauth_settings() -> FoundrySettings:
    return FoundrySettings.from_connection(
        Connection(conn_id="c", conn_type="foundry", host="h.example", login="client", password="s")
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("seconds", [1, 0.5])
def test_a_token_living_a_second_or_less_is_taken_at_its_word(seconds: float) -> None:
    grant = parse_token_answer({"access_token": "t", "expires_in": seconds}, oauth_settings())
    assert grant.expires_in == seconds


def test_a_cached_token_is_due_for_renewal_exactly_at_its_renewal_time() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    cache.put(KEY, TokenGrant("tok", 120))
    clock.now += 60
    assert cache.get(KEY) is None


def test_every_token_fetched_is_registered_with_log_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    masked: list[Any] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", masked.append)
    assert keep_grant(oauth_settings(), json.dumps({"access_token": "tok-9", "expires_in": 600})) == "tok-9"
    assert masked == ["tok-9"]


def test_a_token_answer_without_a_token_names_the_endpoint_and_what_to_check() -> None:
    with pytest.raises(FoundryAuthError) as info:
        parse_token_answer(b"<html>", oauth_settings())
    assert str(info.value) == (
        "Connection 'c': /multipass/api/oauth2/token answered without an access_token. Check that the host is your "
        "Foundry's hostname."
    )
