"""What Airflow's provider manager reads from this package (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio import __version__
from airflow_provider_modelstudio.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR

_PKG = "airflow_provider_modelstudio"


def get_provider_info() -> dict[str, Any]:
    """The provider's description: connection type, form, hooks, operators, sensors, triggers, asset URIs, links."""
    integration = "Palantir Foundry Model Studio"
    return {
        "package-name": "airflow-provider-modelstudio",
        "name": "Palantir Foundry Model Studio",
        "description": "Launch Palantir Foundry Model Studio training runs and wait for their model versions.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": integration, "external-doc-url": "https://www.palantir.com/docs/foundry/"}
        ],
        "connection-types": [
            {
                "connection-type": "foundry",
                "hook-class-name": f"{_PKG}.hooks.modelstudio.ModelStudioHook",
                "hook-name": "Palantir Foundry",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": [{"integration-name": integration, "python-modules": [f"{_PKG}.hooks.modelstudio"]}],
        "operators": [
            {
                "integration-name": integration,
                "python-modules": [f"{_PKG}.operators.modelstudio", f"{_PKG}.operators.model_versions"],
            }
        ],
        "sensors": [
            {
                "integration-name": integration,
                "python-modules": [f"{_PKG}.sensors.modelstudio", f"{_PKG}.sensors.live_deployment"],
            }
        ],
        "triggers": [
            {
                "integration-name": integration,
                "python-modules": [f"{_PKG}.triggers.modelstudio", f"{_PKG}.triggers.live_deployment"],
            }
        ],
        "asset-uris": [
            {
                "schemes": ["foundry"],
                "handler": f"{_PKG}.assets.sanitize_uri",
                "factory": f"{_PKG}.assets.create_asset",
                "to_openlineage_converter": f"{_PKG}.assets.convert_asset_to_openlineage",
            }
        ],
        "extra-links": [
            f"{_PKG}.links.foundry.FoundryBuildLink",
            f"{_PKG}.links.foundry.FoundryModelVersionLink",
            f"{_PKG}.links.foundry.FoundryLiveDeploymentLink",
        ],
    }
