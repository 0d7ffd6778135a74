"""The Foundry connection form, as data: read by ``get_provider_info()`` (Airflow 3.2+ renders the form
from it without importing the hook) and by the hook's form methods (Airflow 3.1)."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.foundry.endpoints import REQUIRED_SCOPES
from airflow_provider_modelstudio.foundry.settings import (
    DEFAULT_BUILD_URL_TEMPLATE,
    DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE,
    DEFAULT_MODEL_VERSION_URL_TEMPLATE,
    DEFAULT_TIMEOUT,
)

CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_type": {
        "label": "Authentication",
        "description": "token: the password is a Foundry token. oauth2: client credentials of a third-party "
        "application (Client ID and Client Secret). Empty: oauth2 when Client ID is set, else token.",
        "schema": {
            "type": ["string", "null"],
            "enum": ["token", "oauth2", None],
            "values_display": {
                "token": "token",
                "oauth2": "oauth2",
                "null": "automatic: oauth2 when Client ID is set, else token",
            },
        },
    },
    "scopes": {
        "label": "OAuth2 scopes",
        "description": "Space-separated; only for oauth2. Empty: every scope this provider needs.",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request timeout (seconds)",
        "description": f"Read timeout of every request (default {DEFAULT_TIMEOUT:g}); connect timeout is at most 10.",
        "schema": {"type": ["number", "null"], "default": DEFAULT_TIMEOUT},
    },
    "verify": {
        "label": "Verify TLS certificates",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "build_url_template": {
        "label": "Build page URL template",
        "description": "Link shown on tasks; placeholders {base_url}, {host}, {build_rid}.",
        "schema": {"type": ["string", "null"]},
    },
    "model_version_url_template": {
        "label": "Model version page URL template",
        "description": "Link shown on deploy tasks; placeholders {base_url}, {host}, {model_rid}, {model_version_rid}.",
        "schema": {"type": ["string", "null"]},
    },
    "live_deployment_url_template": {
        "label": "Live deployment page URL template",
        "description": "Link shown on deploy tasks; placeholders {base_url}, {host}, {live_deployment_rid}.",
        "schema": {"type": ["string", "null"]},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "extra"],
    "relabeling": {
        "host": "Foundry hostname",
        "login": "Client ID (OAuth2 only)",
        "password": "Token, or Client Secret (OAuth2)",
    },
    "placeholders": {
        "host": "example.palantirfoundry.com",
        "login": "empty for token authentication",
        "scopes": " ".join(REQUIRED_SCOPES),
        "build_url_template": DEFAULT_BUILD_URL_TEMPLATE,
        "model_version_url_template": DEFAULT_MODEL_VERSION_URL_TEMPLATE,
        "live_deployment_url_template": DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE,
    },
}
