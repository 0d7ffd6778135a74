"""OAuth2 tokens: the request that fetches one, and the cache that shares it across the process.

The cache is keyed by host, client id and scopes, so every hook, client and trigger in one process
(a task, or the whole triggerer) shares one token per application. Fetches are single-flight: many
threads (a threading lock) or many coroutines on one event loop (an asyncio lock per loop) asking at
once cause one token request, not N. Tokens are renewed ahead of expiry. This module never logs a token.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelstudio.foundry.answers import UnreadableJson, parse_json
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS
from airflow_provider_modelstudio.foundry.errors import FoundryAuthError
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

RENEW_MARGIN = 60.0
"""Seconds before expiry at which a token counts as expired (as Palantir's own client does)."""

TokenKey = tuple[str, str, str, tuple[str, ...], str]


@dataclass(frozen=True)
class TokenGrant:
    """A token and how long it lives."""

    access_token: str = field(repr=False)
    expires_in: float


def token_form(settings: FoundrySettings) -> dict[str, str]:
    """The form body of the client-credentials request."""
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.client_id or "",
        "client_secret": settings.secret,
    }
    if settings.scopes:
        form["scope"] = " ".join(settings.scopes)
    return form


def parse_token_answer(body: Any, settings: FoundrySettings) -> TokenGrant:
    """Read the token endpoint's JSON answer."""
    if isinstance(body, bytes | str):
        try:
            body = parse_json(body)
        except UnreadableJson:
            body = None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise FoundryAuthError(
            f"Connection {settings.conn_id!r}: {ENDPOINTS['oauth2_token'].render({})} answered without an "
            "access_token. Check that the host is your Foundry's hostname."
        )
    expires_in = body.get("expires_in")  # body is a dict: it held the token
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
    return TokenGrant(token, lifetime)


def mask(value: str) -> None:
    """Register a value with Airflow's log redaction (a no-op outside a task or triggerer)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:
        return
    mask_secret(value)


@dataclass
class _Entry:
    token: str = field(repr=False)
    renew_at: float


class TokenCache:
    """Process-wide store of OAuth2 tokens, with locks for single-flight fetching."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[TokenKey, _Entry] = {}
        self._guard = threading.Lock()
        self._thread_locks: dict[TokenKey, threading.Lock] = {}
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[TokenKey, asyncio.Lock]]
        self._loop_locks = weakref.WeakKeyDictionary()

    def get(self, key: TokenKey) -> str | None:
        """The cached token for ``key`` while it is not due for renewal."""
        with self._guard:
            entry = self._entries.get(key)
            if entry and self._clock() < entry.renew_at:
                return entry.token
        return None

    def put(self, key: TokenKey, grant: TokenGrant) -> None:
        margin = min(RENEW_MARGIN, grant.expires_in / 2)
        with self._guard:
            self._entries[key] = _Entry(grant.access_token, self._clock() + grant.expires_in - margin)

    def invalidate(self, key: TokenKey, token: str) -> None:
        """Forget ``token`` (refused by Foundry), unless another caller already replaced it."""
        with self._guard:
            entry = self._entries.get(key)
            if entry and entry.token == token:
                del self._entries[key]

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()

    def thread_lock(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(key, threading.Lock())

    def loop_lock(self, key: TokenKey) -> asyncio.Lock:
        """An asyncio lock for ``key`` on the running event loop (locks cannot cross loops)."""
        loop = asyncio.get_running_loop()
        with self._guard:
            locks = self._loop_locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())


TOKEN_CACHE = TokenCache()


def ready_token(settings: FoundrySettings) -> str | None:
    """The token to send now without a fetch: the static token, or a cached OAuth2 token still valid."""
    if settings.auth_type == "token":
        return settings.secret
    return TOKEN_CACHE.get(settings.token_cache_key)


class KnownSecrets:
    """What must never be quoted back from an answer: the connection's secret and the token it holds when a
    text is quoted (read then, so a token fetched by the very listing or launch that quotes is redacted too).

    :param settings: the connection
    """

    __slots__ = ("settings",)

    def __init__(self, settings: FoundrySettings) -> None:
        self.settings = settings

    def __iter__(self) -> Iterator[str]:
        return iter([s for s in (self.settings.secret, ready_token(self.settings)) if s])


def known_secrets(settings: FoundrySettings) -> KnownSecrets:
    """The connection's secrets, read each time they are used (see :class:`KnownSecrets`)."""
    return KnownSecrets(settings)


def keep_grant(settings: FoundrySettings, answer: Any) -> str:
    """Read the token endpoint's answer, register the token for log redaction, cache it, return it."""
    grant = parse_token_answer(answer, settings)
    mask(grant.access_token)
    TOKEN_CACHE.put(settings.token_cache_key, grant)
    return grant.access_token


def forget_refused(settings: FoundrySettings, token: str | None) -> None:
    """Drop a token Foundry refused with 401, so the next attempt fetches a fresh one."""
    if token:
        TOKEN_CACHE.invalidate(settings.token_cache_key, token)
