"""Every Foundry endpoint this provider calls, as data.

Each :class:`Endpoint` says how to reach it and how it may be retried. Both transports read this table;
adding an endpoint is one entry here. The emulator counts requests under the same names.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import quote

API_PREFIX = "/api"
MULTIPASS_PREFIX = "/multipass/api"


@dataclass(frozen=True)
class Endpoint:
    """One Foundry endpoint.

    :param name: stable name, shared with the emulator's counters and fault settings
    :param method: HTTP method
    :param path: path template below the prefix, with ``{placeholders}``
    :param scope: the OAuth2 scope it needs; ``""`` for the token endpoint, which takes no bearer token
    :param preview: whether ``preview=true`` must be sent
    :param idempotent: whether repeating it after an answer-less failure is harmless
    :param prefix: :data:`API_PREFIX` or :data:`MULTIPASS_PREFIX`
    :param build_read: whether it counts against Foundry's build read rate limit (stated for get build and
        getBatch)
    """

    name: str
    method: str
    path: str
    scope: str
    preview: bool = False
    idempotent: bool = True
    prefix: str = API_PREFIX
    build_read: bool = False

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.path) if f)

    def render(self, path_params: dict[str, str | int]) -> str:
        """The full request path, every path parameter percent-encoded."""
        missing = set(self.placeholders) - set(path_params)
        if missing:
            raise ValueError(f"endpoint {self.name} needs path parameters {sorted(missing)}")
        encoded = {k: quote(str(v), safe="") for k, v in path_params.items()}
        return self.prefix + self.path.format(**encoded)


_STUDIO = "/v2/models/modelStudios/{modelStudioRid}"
_MODEL = "/v2/models/{modelRid}"
_LIVE = "/v2/models/liveDeployments"
_BUILD = "/v2/orchestration/builds"

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("oauth2_token", "POST", "/oauth2/token", scope="", prefix=MULTIPASS_PREFIX),
        Endpoint(
            "launch_model_studio",
            "POST",
            _STUDIO + "/launch",
            scope="api:models-write",
            preview=True,
            idempotent=False,
        ),
        Endpoint("get_model_studio", "GET", _STUDIO, scope="api:models-read", preview=True),
        Endpoint("list_model_studio_runs", "GET", _STUDIO + "/runs", scope="api:models-read", preview=True),
        Endpoint(
            "get_latest_config_version",
            "GET",
            _STUDIO + "/configVersions/latest",
            scope="api:models-read",
            preview=True,
        ),
        Endpoint(
            "get_config_version",
            "GET",
            _STUDIO + "/configVersions/{configVersion}",
            scope="api:models-read",
            preview=True,
        ),
        Endpoint("get_model", "GET", _MODEL, scope="api:models-read", preview=True),
        Endpoint("list_model_versions", "GET", _MODEL + "/versions", scope="api:models-read", preview=True),
        Endpoint(
            "get_model_version",
            "GET",
            _MODEL + "/versions/{modelVersionRid}",
            scope="api:models-read",
            preview=True,
        ),
        Endpoint(
            "promote_model_version",
            "POST",
            _MODEL + "/promoteVersion",
            scope="api:models-write",
            preview=True,
            idempotent=False,
        ),
        Endpoint(
            "get_experiment", "GET", _MODEL + "/experiments/{experimentRid}", scope="api:models-read", preview=True
        ),
        Endpoint("search_experiments", "POST", _MODEL + "/experiments/search", scope="api:models-read", preview=True),
        Endpoint("list_live_deployments", "GET", _LIVE, scope="api:models-read", preview=True),
        Endpoint("get_live_deployment", "GET", _LIVE + "/{liveDeploymentRid}", scope="api:models-read", preview=True),
        Endpoint(
            "start_live_deployment",
            "POST",
            _LIVE + "/{liveDeploymentRid}/start",
            scope="api:models-write",
            preview=True,
        ),
        Endpoint(
            "transform_json",
            "POST",
            _LIVE + "/{liveDeploymentRid}/transformJson",
            scope="api:models-execute",
            preview=True,
        ),
        Endpoint("get_build", "GET", _BUILD + "/{buildRid}", scope="api:orchestration-read", build_read=True),
        Endpoint("get_builds_batch", "POST", _BUILD + "/getBatch", scope="api:orchestration-read", build_read=True),
        Endpoint("cancel_build", "POST", _BUILD + "/{buildRid}/cancel", scope="api:orchestration-write"),
    )
}

REQUIRED_SCOPES: tuple[str, ...] = (
    "api:models-read",
    "api:models-write",
    "api:models-execute",
    "api:orchestration-read",
    "api:orchestration-write",
)
"""The scopes this provider's operations need, the default for OAuth2 connections."""

BATCH_LIMIT = 100
"""At most this many builds per getBatch request."""
