"""The Foundry endpoints the emulator serves, as data.

One entry per endpoint: its name (used in counters, fault settings and by the provider's client), HTTP
method, path, the OAuth2 scope it needs, whether it is a preview endpoint (``preview=true`` required) and
whether it counts against the build read rate limit. This module holds no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

MODELS_READ = "api:models-read"
MODELS_WRITE = "api:models-write"
ORCHESTRATION_READ = "api:orchestration-read"
ORCHESTRATION_WRITE = "api:orchestration-write"
ALL_SCOPES = (MODELS_READ, MODELS_WRITE, ORCHESTRATION_READ, ORCHESTRATION_WRITE)


@dataclass(frozen=True)
class Endpoint:
    """One served endpoint.

    :param name: the endpoint's name in counters and fault settings.
    :param method: HTTP method.
    :param path: path template, with ``{param}`` placeholders.
    :param scope: OAuth2 scope a token needs; ``None`` for the token endpoint itself.
    :param preview: whether the request must carry ``preview=true``.
    :param build_read: whether the request counts against the build read rate limit.
    """

    name: str
    method: str
    path: str
    scope: str | None
    preview: bool = False
    build_read: bool = False


_STUDIO = "/api/v2/models/modelStudios/{modelStudioRid}"
_BUILDS = "/api/v2/orchestration/builds"

OAUTH2_TOKEN = Endpoint("oauth2_token", "POST", "/multipass/api/oauth2/token", None)
LAUNCH_MODEL_STUDIO = Endpoint("launch_model_studio", "POST", f"{_STUDIO}/launch", MODELS_WRITE, preview=True)
GET_MODEL_STUDIO = Endpoint("get_model_studio", "GET", _STUDIO, MODELS_READ, preview=True)
LIST_MODEL_STUDIO_RUNS = Endpoint("list_model_studio_runs", "GET", f"{_STUDIO}/runs", MODELS_READ, preview=True)
GET_LATEST_CONFIG_VERSION = Endpoint(
    "get_latest_config_version", "GET", f"{_STUDIO}/configVersions/latest", MODELS_READ, preview=True
)
GET_CONFIG_VERSION = Endpoint(
    "get_config_version", "GET", f"{_STUDIO}/configVersions/{{configVersion}}", MODELS_READ, preview=True
)
GET_MODEL_VERSION = Endpoint(
    "get_model_version", "GET", "/api/v2/models/{modelRid}/versions/{modelVersionRid}", MODELS_READ, preview=True
)
GET_BUILD = Endpoint("get_build", "GET", f"{_BUILDS}/{{buildRid}}", ORCHESTRATION_READ, build_read=True)
GET_BUILDS_BATCH = Endpoint("get_builds_batch", "POST", f"{_BUILDS}/getBatch", ORCHESTRATION_READ, build_read=True)
CANCEL_BUILD = Endpoint("cancel_build", "POST", f"{_BUILDS}/{{buildRid}}/cancel", ORCHESTRATION_WRITE)
LIST_BUILD_JOBS = Endpoint("list_build_jobs", "GET", f"{_BUILDS}/{{buildRid}}/jobs", ORCHESTRATION_READ)

# Order matters for routing: ``configVersions/latest`` before ``configVersions/{configVersion}``.
ENDPOINTS: tuple[Endpoint, ...] = (
    OAUTH2_TOKEN,
    LAUNCH_MODEL_STUDIO,
    GET_MODEL_STUDIO,
    LIST_MODEL_STUDIO_RUNS,
    GET_LATEST_CONFIG_VERSION,
    GET_CONFIG_VERSION,
    GET_MODEL_VERSION,
    GET_BUILD,
    GET_BUILDS_BATCH,
    CANCEL_BUILD,
    LIST_BUILD_JOBS,
)
ENDPOINT_NAMES: frozenset[str] = frozenset(endpoint.name for endpoint in ENDPOINTS)
