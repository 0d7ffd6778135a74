"""Bearer tokens: static ones from the scenario, and OAuth2 client-credentials tokens issued on request.

Issued tokens are random, carry the granted scopes and expire on the emulator clock; they stay valid
across :meth:`EmulatorState.reset` until they expire. Each static token and each OAuth2 client acts as
one fixed user (a stable UUID). Not thread-safe by itself: the state's lock guards it. Token revocation
and refresh tokens are not emulated.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from airflow_provider_modelstudio.emulator.errors import ErrorAnswer, OAuthError
from airflow_provider_modelstudio.emulator.ids import derived_uuid
from airflow_provider_modelstudio.emulator.scenario import Scenario

IGNORED_SCOPES = frozenset({"offline_access"})


@dataclass(frozen=True)
class Caller:
    """Who is calling.

    :param user_id: the user's UUID (``startedBy``, ``createdBy``).
    :param scopes: the token's scopes.
    """

    user_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class _IssuedToken:
    caller: Caller
    expires_at: float


def static_token_user(token: str) -> str:
    """The user id a static token acts as.

    :param token: the static token.
    """
    return derived_uuid("static-token", token)


def client_user(client_id: str) -> str:
    """The user id an OAuth2 client acts as.

    :param client_id: the client id.
    """
    return derived_uuid("oauth2-client", client_id)


class TokenStore:
    """Issues and checks bearer tokens."""

    def __init__(self) -> None:
        self._issued: dict[str, _IssuedToken] = {}

    def issue(
        self,
        scenario: Scenario,
        form: Mapping[str, str],
        basic_credentials: tuple[str, str] | None,
        now: float,
        expires_in: int,
    ) -> dict[str, object]:
        """Answer a client-credentials token request.

        :param scenario: the scenario holding the clients.
        :param form: the form fields (``grant_type``, ``client_id``, ``client_secret``, ``scope``).
        :param basic_credentials: client id and secret from an HTTP Basic header, if one was sent.
        :param now: emulator time.
        :param expires_in: the lifetime to announce, in real seconds.
        :raises OAuthError: for a wrong grant type, unknown client, wrong secret or scopes not granted.
        """
        if form.get("grant_type") != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
        client_id, secret = basic_credentials or (form.get("client_id", ""), form.get("client_secret", ""))
        client = scenario.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            raise OAuthError(401, "invalid_client", "unknown client or wrong client secret")
        granted = frozenset(client.scopes)
        requested = frozenset(form.get("scope", "").split()) - IGNORED_SCOPES
        if not requested <= granted:
            missing = " ".join(sorted(requested - granted))
            raise OAuthError(400, "invalid_scope", f"scopes not granted to this application: {missing}")
        scopes = requested or granted
        self._issued = {token: issued for token, issued in self._issued.items() if issued.expires_at > now}
        token = secrets.token_urlsafe(32)
        lifetime = scenario.token_lifetime_seconds
        self._issued[token] = _IssuedToken(Caller(client_user(client_id), scopes), now + lifetime)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": " ".join(sorted(scopes)),
        }

    def authenticate(self, scenario: Scenario, authorization: str | None, now: float) -> Caller:
        """Find the caller of an ``Authorization`` header.

        :param scenario: the scenario holding the static tokens.
        :param authorization: the header's value, if any.
        :param now: emulator time.
        :raises ErrorAnswer: 401 for a missing, unknown or expired token.
        """
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ErrorAnswer("Default:Unauthorized", error="MISSING_CREDENTIALS")
        static_scopes = scenario.static_tokens.get(token)
        if static_scopes is not None:
            return Caller(static_token_user(token), frozenset(static_scopes))
        issued = self._issued.get(token)
        if issued is None:
            raise ErrorAnswer("Default:Unauthorized", error="INVALID")
        if now >= issued.expires_at:
            raise ErrorAnswer("Default:Unauthorized", error="EXPIRED")
        return issued.caller
