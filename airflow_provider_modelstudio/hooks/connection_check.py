"""The connection test: one harmless request per scope this provider needs, and what is missing.

Each probe asks about a resource that does not exist (a RID of zeros), so it changes nothing: with the scope
granted Foundry answers 404 (or, for the build batch, an empty map), without it 403 ``ApiUsageDenied``
naming ``missingScope``, which Foundry checks before looking for the resource. Which scope a probe tests is
read from the contract (:attr:`Endpoint.scope`), and :data:`PROBES` covers every scope of
:data:`~airflow_provider_modelstudio.foundry.endpoints.REQUIRED_SCOPES`. It does not check access to any
particular studio or model: a scope is not a permission on a project.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_modelstudio.foundry import api
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, REQUIRED_SCOPES
from airflow_provider_modelstudio.foundry.errors import FoundryApiError, MissingScope
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

_ZEROS = "00000000-0000-0000-0000-000000000000"
PROBE_STUDIO = f"ri.models.main.model-studio.{_ZEROS}"
PROBE_DEPLOYMENT = f"ri.foundry-ml-live.main.live-deployment.{_ZEROS}"
PROBE_BUILD = f"ri.foundry.main.build.{_ZEROS}"

PROBES: tuple[api.Request[Any], ...] = (
    api.get_builds_batch([PROBE_BUILD]),  # first: a host that is not Foundry's API gateway shows here
    api.get_model_studio(PROBE_STUDIO),
    api.start_live_deployment(PROBE_DEPLOYMENT),
    api.transform_json(PROBE_DEPLOYMENT, {}),
    api.cancel_build(PROBE_BUILD),
)
"""One request per required scope, each on a resource that does not exist."""


def scope_of(request: api.Request[Any]) -> str:
    """The scope a request needs, as the contract says."""
    return ENDPOINTS[request.endpoint].scope


def missing_scopes(send: Callable[[api.Request[Any]], Any]) -> list[str]:
    """Send every probe; return the scopes Foundry said the token lacks, in :data:`REQUIRED_SCOPES` order.

    :param send: sends one request and returns its answer, raising Foundry's error
    :raises FoundryError: an answer that proves nothing about scopes (refused credentials, an unreachable host,
        an answer that is not Foundry's own error envelope, a server error)
    """
    missing: set[str] = set()
    for probe in PROBES:
        try:
            send(probe)
        except MissingScope as exc:
            missing.add(str(exc.parameter("missingScope") or scope_of(probe)))
        except FoundryApiError as exc:
            if not exc.from_foundry or exc.status_code >= 500:
                raise
    return [scope for scope in REQUIRED_SCOPES if scope in missing] + sorted(missing - set(REQUIRED_SCOPES))


def needed_for(scope: str) -> str:
    """The operations that need ``scope``, in the contract's words (``launch model studio, ...``)."""
    return ", ".join(name.replace("_", " ") for name, endpoint in ENDPOINTS.items() if endpoint.scope == scope)


def missing_scopes_message(settings: FoundrySettings, missing: list[str]) -> str:
    """What the connection test says when scopes are missing: each one, what needs it, and how to grant it.

    :param settings: the connection
    :param missing: the scopes the token lacks
    """
    listed = "; ".join(f"missingScope={scope} (needed to {needed_for(scope)})" for scope in missing)
    if settings.auth_type == "token":
        fix = "Use a token that carries them."
    elif not set(missing) <= set(settings.scopes):
        fix = (
            "The connection's OAuth2 scopes field does not ask for them: add them there, or empty it to ask for "
            "every scope this provider needs; they must also be granted to the application in Foundry's "
            "Developer Console."
        )
    else:
        fix = "Grant them to the third-party application in Foundry's Developer Console."
    return (
        f"Connected to {settings.base_url} with {settings.auth_type} authentication, but the token lacks "
        f"{len(missing)} of the scopes this provider needs: {listed}. {fix}"
    )
