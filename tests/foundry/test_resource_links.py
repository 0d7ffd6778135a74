"""Links to a model version and a live deployment: the connection's templates, filled with the base URL, the
host and the RIDs."""

from __future__ import annotations

import json

from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.settings import FoundrySettings

MODEL = "ri.models.main.model.m"
VERSION = "ri.models.main.model-version.v"
DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.d"


def settings(**templates: str) -> FoundrySettings:
    return FoundrySettings.from_connection(
        Connection(
            conn_id="c",
            conn_type="foundry",
            host="foundry.example:8443",
            password="t",
            extra=json.dumps(templates) if templates else None,
        )
    )


def test_default_links_point_at_foundrys_pages() -> None:
    links = settings()
    assert (
        links.model_version_url(MODEL, VERSION)
        == f"https://foundry.example:8443/workspace/models/{MODEL}/versions/{VERSION}"
    )
    assert links.live_deployment_url(DEPLOYMENT) == (
        f"https://foundry.example:8443/workspace/models/live-deployments/{DEPLOYMENT}"
    )


def test_link_templates_may_use_the_host() -> None:
    links = settings(
        model_version_url_template="https://portal.example/{host}/{model_rid}/{model_version_rid}",
        live_deployment_url_template="https://portal.example/{host}/{live_deployment_rid}",
    )
    assert links.model_version_url(MODEL, VERSION) == f"https://portal.example/foundry.example:8443/{MODEL}/{VERSION}"
    assert links.live_deployment_url(DEPLOYMENT) == f"https://portal.example/foundry.example:8443/{DEPLOYMENT}"
