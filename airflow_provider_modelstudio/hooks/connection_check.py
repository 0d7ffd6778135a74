"""The connection test: one harmless request per scope this provider needs, each answered as only Foundry
answers it.

Each probe asks about a resource that does not exist (a RID of zeros), so it changes nothing. With the scope
granted Foundry answers 404 with the resource's named error (or, for the build batch, an object whose
``data`` holds no build); without it 403 ``ApiUsageDenied`` naming ``missingScope``, which Foundry checks
before looking for the resource. "Connected" means every probe got one of those: a host that answers
success to a request for something that cannot exist, rate-limits every probe or refuses the token is not
a Foundry this provider can use, and the test says which. Which scope a probe tests is read from the
contract (:attr:`Endpoint.scope`), and :data:`PROBES` covers every scope of
:data:`~airflow_provider_modelstudio.foundry.endpoints.REQUIRED_SCOPES` and
:data:`~airflow_provider_modelstudio.foundry.endpoints.OPTIONAL_SCOPES` (a missing optional scope is reported,
and the connection still passes). It does not check access to any
particular studio or model: a scope is not a permission on a project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from airflow_provider_modelstudio.foundry import api, endpoints
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, OPTIONAL_SCOPES, REQUIRED_SCOPES
from airflow_provider_modelstudio.foundry.errors import FoundryError, FoundryNotFound, FoundryRateLimited, MissingScope
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

_ZEROS = "00000000-0000-0000-0000-000000000000"
PROBE_STUDIO = f"ri.models.main.model-studio.{_ZEROS}"
PROBE_DEPLOYMENT = f"ri.foundry-ml-live.main.live-deployment.{_ZEROS}"
PROBE_BUILD = f"ri.foundry.main.build.{_ZEROS}"
PROBE_DATASET = f"ri.foundry.main.dataset.{_ZEROS}"

CONNECTION_TEST_RETRY = RetryPolicy(max_attempts=2, backoff_initial=0.5, backoff_max=1.0, max_elapsed=5.0)
"""Retries of the connection test's probes: the UI's Test button answers within seconds, so a server that asks
to wait longer (a long ``Retry-After``) is reported, not waited for."""


class NotFoundry(FoundryError):
    """A probe's answer is not one Foundry gives: the host does not answer as Foundry's API."""


def _shape(answer: Any) -> str:
    """What an answer is, without quoting it (an answer may echo a secret)."""
    if isinstance(answer, dict):
        keys = ", ".join(sorted(str(key) for key in answer)[:5])
        return f"a JSON object with keys [{keys}]" if keys else "an empty JSON object"
    return "nothing" if answer is None else f"a JSON {type(answer).__name__}"


def _no_build_found(answer: Any) -> dict[str, Any]:
    """A getBatch answer as Foundry gives it for a build that does not exist: an object whose ``data`` is an
    object without that build."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or PROBE_BUILD in data:
        raise NotFoundry(
            f"answered {_shape(answer)} to a build batch read of a build that does not exist, where Foundry "
            'answers {"data": {}}'
        )
    return data


PROBES: tuple[api.Request[Any], ...] = (
    replace(api.get_builds_batch([PROBE_BUILD]), read=_no_build_found),  # first: a host that is not Foundry shows
    api.request(endpoints.GET_MODEL_STUDIO, model_studio_rid=PROBE_STUDIO),
    api.request(endpoints.START_LIVE_DEPLOYMENT, live_deployment_rid=PROBE_DEPLOYMENT),
    api.transform_json(PROBE_DEPLOYMENT, {}),
    api.request(endpoints.CANCEL_BUILD, build_rid=PROBE_BUILD),
    api.request(endpoints.GET_DATASET_BRANCH, dataset_rid=PROBE_DATASET, branch_name="master"),
)
"""One request per required scope, each on a resource that does not exist."""


def scope_of(request: api.Request[Any]) -> str:
    """The scope a request needs, as the contract says."""
    return ENDPOINTS[request.endpoint].scope


def missing_scopes(send: Callable[[api.Request[Any]], Any], probes: tuple[api.Request[Any], ...] = PROBES) -> list[str]:
    """Send every probe; return the scopes Foundry said the token lacks, in :data:`REQUIRED_SCOPES` order.

    :param send: sends one request and returns its answer, raising Foundry's error
    :param probes: the probes to send (default: one per scope this provider needs)
    :raises FoundryError: an answer that is not Foundry's to a request for a missing resource (a success, a
        rate limit, refused credentials, an unreachable host, an error page that is not Foundry's envelope, a
        server error); :class:`NotFoundry` when the host answered success where Foundry answers 404
    """
    missing: set[str] = set()
    for probe in probes:
        try:
            send(probe)
        except MissingScope as exc:
            missing.add(str(exc.parameter("missingScope") or scope_of(probe)))
            continue
        except FoundryNotFound as exc:
            if exc.from_foundry:
                continue
            raise
        if probe.endpoint != PROBES[0].endpoint:
            raise NotFoundry(
                f"answered success to {_request_line(probe)}, a resource that cannot exist, where Foundry answers 404"
            )
    known = REQUIRED_SCOPES + OPTIONAL_SCOPES
    return [scope for scope in known if scope in missing] + sorted(missing - set(known))


def probes_for(scopes: Iterable[str]) -> tuple[api.Request[Any], ...]:
    """The probes of these scopes only."""
    wanted = set(scopes)
    return tuple(probe for probe in PROBES if scope_of(probe) in wanted)


def _request_line(probe: api.Request[Any]) -> str:
    endpoint = ENDPOINTS[probe.endpoint]
    return f"{endpoint.method} /api{endpoint.path.format(**probe.path_params)}"


def failure_message(settings: FoundrySettings, exc: FoundryError) -> str:
    """What the connection test says when a probe's answer proves the connection unusable.

    :param settings: the connection
    :param exc: the probe's failure
    """
    where = f"{settings.base_url} with {settings.auth_type} authentication"
    if isinstance(exc, NotFoundry):
        return (
            f"Not connected: {settings.base_url} {exc}; it does not answer as Foundry's API. Set the host to your "
            "Foundry's hostname (e.g. example.palantirfoundry.com), not a proxy's or a portal's."
        )
    if isinstance(exc, FoundryRateLimited):
        wait = f"; it asks to wait {exc.retry_after:.0f} s" if exc.retry_after is not None else ""
        return (
            f"Not connected: {where} is rate-limited (429{wait}), so nothing could be checked. Test again later; "
            "if it persists, fewer concurrent tasks on this connection or a longer poll interval help."
        )
    return f"Not connected to {where}: {exc}"


def needed_for(scope: str) -> str:
    """The operations that need ``scope``, in the contract's words (``launch model studio, ...``)."""
    return ", ".join(name.replace("_", " ") for name, endpoint in ENDPOINTS.items() if endpoint.scope == scope)


def optional_scopes_note(settings: FoundrySettings, missing: list[str]) -> str:
    """What a passing connection test adds about missing optional scopes ("" when none is missing).

    :param settings: the connection
    :param missing: the optional scopes the token lacks
    """
    if not missing:
        return ""
    listed = ", ".join(missing)
    fix = (
        "use a token that carries it"
        if settings.auth_type == "token"
        else "add it to the connection's OAuth2 scopes field and grant it to the application in Foundry"
    )
    return f" The token lacks {listed}, which only dataset watchers need (to watch datasets, {fix})."


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
