"""``ModelStudioHook``: the Foundry connection and every Model Studio call a DAG needs.

All methods return plain JSON-safe dicts and lists with Foundry's field names. The hook checks its inputs
before any request, retries what is safe to retry, shares OAuth2 tokens across the process, and never
launches two runs from one call. It does not wait for runs: see :mod:`airflow_provider_modelstudio.runs`.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_modelstudio.foundry import operations
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.rids import BUILD, MODEL, MODEL_STUDIO, MODEL_VERSION, validate_rid
from airflow_provider_modelstudio.foundry.settings import CONN_TYPE, DEFAULT_CONN_ID, FoundrySettings
from airflow_provider_modelstudio.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

_PROBE_BUILD_RID = "ri.foundry.main.build.00000000-0000-0000-0000-000000000000"


class ModelStudioHook(BaseHook):
    """Talks to Palantir Foundry's Model Studio and build APIs through a ``foundry`` connection.

    :param foundry_conn_id: the Airflow connection id (type ``foundry``)
    :param retry: retry bounds as a dict of plain numbers (``max_attempts``, ``backoff_initial``,
        ``backoff_max``, ``max_elapsed``); defaults when None
    """

    conn_name_attr = "foundry_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Palantir Foundry"

    def __init__(
        self,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        retry: RetryPolicy | dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.foundry_conn_id = foundry_conn_id
        self.retry = RetryPolicy.from_value(retry)

    @cached_property
    def settings(self) -> FoundrySettings:
        """The checked connection (read once per hook)."""
        return FoundrySettings.from_connection(self.get_connection(self.foundry_conn_id))

    @cached_property
    def client(self) -> FoundryClient:
        from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

        return FoundryClient(self.settings, retry=self.retry)

    def get_conn(self) -> FoundryClient:
        return self.client

    def build_url(self, build_rid: str) -> str:
        """The Foundry page of a build."""
        return self.settings.build_url(build_rid)

    def launch_model_studio(self, model_studio_rid: str) -> dict[str, Any]:
        """Launch a training run with the studio's latest configuration; return the ``ModelStudioRun``.

        After an answer-less failure the studio's runs are checked, so one call never starts two runs.
        """
        from airflow_provider_modelstudio.foundry.launch import launch_once

        rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
        return launch_once(self.client, rid, sleep=time.sleep)

    def get_model_studio(self, model_studio_rid: str) -> dict[str, Any]:
        rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
        studio: dict[str, Any] = self.client.call("get_model_studio", {"modelStudioRid": rid})
        return studio

    def list_model_studio_runs(self, model_studio_rid: str, config_version: int | None = None) -> list[dict[str, Any]]:
        """Every run of a studio (all pages), optionally only those of one configuration version."""
        rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
        query = {"configVersion": config_version} if config_version is not None else {}
        return list(self.client.paged("list_model_studio_runs", {"modelStudioRid": rid}, query))

    def get_latest_config_version(self, model_studio_rid: str) -> dict[str, Any] | None:
        """The studio's latest ``ModelStudioConfigVersion``, or None when it has none yet."""
        rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
        answer: dict[str, Any] | None = self.client.call("get_latest_config_version", {"modelStudioRid": rid})
        return answer

    def get_build(self, build_rid: str) -> dict[str, Any]:
        rid = validate_rid(build_rid, BUILD, field="build_rid")
        build = self.client.call("get_build", {"buildRid": rid})
        if not isinstance(build, dict):
            raise FoundryError(
                f"GET build {rid} answered {build!r:.200} instead of a build object. Check that the host is your "
                "Foundry's API gateway, not a proxy's page."
            )
        return build

    def get_builds(self, build_rids: list[str]) -> dict[str, dict[str, Any]]:
        """Builds by RID through getBatch, 100 a request; RIDs Foundry does not know are absent."""
        rids = [validate_rid(rid, BUILD, field="build_rids") for rid in build_rids]
        found: dict[str, dict[str, Any]] = {}
        for chunk in operations.batches(rids):
            answer = self.client.call("get_builds_batch", json_body=operations.batch_body(chunk))
            found.update(operations.batch_builds(answer))
        return found

    def cancel_build(self, build_rid: str) -> None:
        """Ask Foundry to cancel a build. Asynchronous; a finished build is left as it is."""
        rid = validate_rid(build_rid, BUILD, field="build_rid")
        self.client.call("cancel_build", {"buildRid": rid})

    def get_model_version(self, model_rid: str, model_version_rid: str) -> dict[str, Any]:
        model = validate_rid(model_rid, MODEL, field="model_rid")
        version = validate_rid(model_version_rid, MODEL_VERSION, field="model_version_rid")
        answer: dict[str, Any] = self.client.call("get_model_version", {"modelRid": model, "modelVersionRid": version})
        return answer

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call (a getBatch of no known build); the exact reason on failure."""
        try:
            settings = self.settings
            self.client.call("get_builds_batch", json_body=[{"buildRid": _PROBE_BUILD_RID}])
        except FoundryError as exc:
            return False, str(exc)
        return True, f"Connected to {settings.base_url} with {settings.auth_type} authentication."

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Form layout for Airflow 3.1 (3.2+ reads it from the provider info instead)."""
        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Form fields for Airflow 3.1 (3.2+ reads them from the provider info instead)."""
        from wtforms import BooleanField, StringField

        widgets: dict[str, Any] = {}
        for name, spec in CONN_FIELDS.items():
            field_class = BooleanField if "boolean" in spec["schema"]["type"] else StringField
            widgets[name] = field_class(spec["label"], description=spec.get("description", ""))
        return widgets
