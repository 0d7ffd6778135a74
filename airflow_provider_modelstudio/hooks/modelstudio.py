"""``ModelStudioHook``: the Foundry connection, and the only way this provider reaches Foundry.

Every call has a sync form (``requests``, for workers) and an async twin (``httpx``, prefixed ``a``, for the
triggerer's event loop and the API server); both send the same
:class:`~airflow_provider_modelstudio.foundry.api.Request` and page listings with the same
:class:`~airflow_provider_modelstudio.foundry.operations.Pages`. The two writes that reconcile (launch,
promote) run their sync form in a worker thread when called async. The connection is read once per hook, in
:meth:`ModelStudioHook.settings` or :meth:`ModelStudioHook.asettings`. Methods return the typed shapes of
:mod:`airflow_provider_modelstudio.foundry.shapes`, check their inputs before any request, retry what is safe
to retry, and never launch two runs from one call. The hook does not wait for runs: see
:mod:`airflow_provider_modelstudio.runs`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook

from airflow_provider_modelstudio.foundry import api, endpoints
from airflow_provider_modelstudio.foundry.answers import redacted
from airflow_provider_modelstudio.foundry.auth import known_secrets
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.rids import MODEL_STUDIO, MODEL_VERSION, validate_rid
from airflow_provider_modelstudio.foundry.settings import CONN_TYPE, DEFAULT_CONN_ID, FoundrySettings
from airflow_provider_modelstudio.foundry.shapes import (
    Build,
    ConfigVersion,
    DatasetBranch,
    Experiment,
    Inference,
    LiveDeployment,
    Model,
    ModelStudio,
    ModelVersion,
    Run,
    Trainer,
    Transaction,
)
from airflow_provider_modelstudio.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
    from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

T = TypeVar("T")


class ModelStudioHook(BaseHook):
    """Talks to Palantir Foundry's Model Studio and build APIs through a ``foundry`` connection.

    One hook serves one thread or one event loop: its async client belongs to the loop that first used it;
    close it there with :meth:`aclose`.

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
        self._async_client: AsyncFoundryClient | None = None

    # The connection, read in one place ------------------------------------------------------------------------

    @cached_property
    def settings(self) -> FoundrySettings:
        """The checked connection (read once per hook)."""
        return FoundrySettings.from_connection(self.get_connection(self.foundry_conn_id))

    async def asettings(self) -> FoundrySettings:
        """The checked connection, read without blocking the event loop (once per hook)."""
        if "settings" not in self.__dict__:
            self.__dict__["settings"] = FoundrySettings.from_connection(
                await BaseHook.aget_connection(self.foundry_conn_id)
            )
        return self.settings

    @cached_property
    def client(self) -> FoundryClient:
        from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

        return FoundryClient(self.settings, retry=self.retry)

    def get_conn(self) -> FoundryClient:
        return self.client

    async def aget_conn(self) -> AsyncFoundryClient:
        """The async client, created in the running event loop on first use."""
        if self._async_client is None:
            from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient

            self._async_client = AsyncFoundryClient(await self.asettings(), retry=self.retry)
        return self._async_client

    async def aclose(self) -> None:
        """Close the async client, if one was created."""
        if self._async_client is not None:
            client, self._async_client = self._async_client, None
            await client.aclose()

    def build_url(self, build_rid: str) -> str:
        """The Foundry page of a build."""
        return self.settings.build_url(build_rid)

    # Sending -------------------------------------------------------------------------------------------------

    def _run(self, request: api.Request[T]) -> T:
        client = self.client
        if request.paging is None:
            return self._read(request, client.call(request.endpoint, request.path_params, request.query, request.body))
        items = client.paged(
            request.endpoint, request.path_params, request.query, request.body, in_body=request.paging == "body"
        )
        return self._read(request, list(items))

    async def _arun(self, request: api.Request[T]) -> T:
        client = await self.aget_conn()
        if request.paging is None:
            answer = await client.call(request.endpoint, request.path_params, request.query, request.body)
            return self._read(request, answer)
        listing = client.paged(
            request.endpoint, request.path_params, request.query, request.body, in_body=request.paging == "body"
        )
        return self._read(request, [item async for item in listing])

    def _read(self, request: api.Request[T], answer: Any) -> T:
        """The request's reading of ``answer``, with every secret the server echoed in it replaced by ``***``."""
        return request.read(redacted(answer, known_secrets(self.settings)))

    async def _in_thread(self, call: Callable[[], T]) -> T:
        """A write that reconciles (launch, promote, create a configuration version), run in a worker thread: its
        checks, settling waits and listings are written once, in its sync form, which refuses bad input before
        sending anything. The connection is read first, without blocking the loop."""
        await self.asettings()
        return await asyncio.to_thread(call)

    # Model Studio ---------------------------------------------------------------------------------------------

    def launch_model_studio(self, model_studio_rid: str) -> Run:
        """Launch a training run with the studio's latest configuration; return the run.

        After a failure that may have reached Foundry, the studio's runs are checked, so one call never starts
        two runs (see :mod:`airflow_provider_modelstudio.foundry.launch`).
        """
        from airflow_provider_modelstudio.foundry.launch import launch_once

        rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
        return launch_once(self.client, rid, sleep=time.sleep)

    async def alaunch_model_studio(self, model_studio_rid: str) -> Run:
        return await self._in_thread(lambda: self.launch_model_studio(model_studio_rid))

    def get_model_studio(self, model_studio_rid: str) -> ModelStudio:
        return self._run(api.request(endpoints.GET_MODEL_STUDIO, model_studio_rid=model_studio_rid))

    async def aget_model_studio(self, model_studio_rid: str) -> ModelStudio:
        return await self._arun(api.request(endpoints.GET_MODEL_STUDIO, model_studio_rid=model_studio_rid))

    def list_model_studio_runs(self, model_studio_rid: str, config_version: int | None = None) -> list[Run]:
        """Every run of a studio (all pages), optionally only those of one configuration version; entries without a
        build to follow are left out."""
        return self._run(api.list_model_studio_runs(model_studio_rid, config_version))

    async def alist_model_studio_runs(self, model_studio_rid: str, config_version: int | None = None) -> list[Run]:
        return await self._arun(api.list_model_studio_runs(model_studio_rid, config_version))

    def get_latest_config_version(self, model_studio_rid: str) -> ConfigVersion | None:
        """The studio's latest configuration version, or None when it has none yet."""
        return self._run(api.request(endpoints.GET_LATEST_CONFIG_VERSION, model_studio_rid=model_studio_rid))

    async def aget_latest_config_version(self, model_studio_rid: str) -> ConfigVersion | None:
        return await self._arun(api.request(endpoints.GET_LATEST_CONFIG_VERSION, model_studio_rid=model_studio_rid))

    def get_config_version(self, model_studio_rid: str, config_version: int) -> ConfigVersion:
        return self._run(
            api.request(endpoints.GET_CONFIG_VERSION, model_studio_rid=model_studio_rid, config_version=config_version)
        )

    async def aget_config_version(self, model_studio_rid: str, config_version: int) -> ConfigVersion:
        return await self._arun(
            api.request(endpoints.GET_CONFIG_VERSION, model_studio_rid=model_studio_rid, config_version=config_version)
        )

    def list_config_versions(self, model_studio_rid: str) -> tuple[ConfigVersion, ...]:
        """Every configuration version of a studio (all pages)."""
        return self._run(api.request(endpoints.LIST_CONFIG_VERSIONS, model_studio_rid=model_studio_rid))

    async def alist_config_versions(self, model_studio_rid: str) -> tuple[ConfigVersion, ...]:
        return await self._arun(api.request(endpoints.LIST_CONFIG_VERSIONS, model_studio_rid=model_studio_rid))

    def create_config_version(self, model_studio_rid: str, body: dict[str, Any]) -> ConfigVersion:
        """Create the studio's next configuration version from a ``CreateModelStudioConfigVersionRequest`` body.

        Not idempotent in Foundry: after a failure that may have reached it, the studio's versions are checked for
        the one asked (see :mod:`airflow_provider_modelstudio.foundry.config_versions`), so one call never makes
        two.
        """
        from airflow_provider_modelstudio.foundry.config_versions import create_once

        request = api.request(endpoints.CREATE_CONFIG_VERSION, body=body, model_studio_rid=model_studio_rid)
        listing = api.request(endpoints.LIST_CONFIG_VERSIONS, model_studio_rid=model_studio_rid)
        return create_once(lambda: self._run(request), lambda: self._run(listing), ConfigVersion.from_json(body))

    async def acreate_config_version(self, model_studio_rid: str, body: dict[str, Any]) -> ConfigVersion:
        return await self._in_thread(lambda: self.create_config_version(model_studio_rid, body))

    def get_trainer(self, trainer_id: str) -> Trainer:
        """A trainer, with the JSON Schema its configurations' ``customConfig`` must follow."""
        return self._run(api.request(endpoints.GET_TRAINER, trainer_id=trainer_id))

    async def aget_trainer(self, trainer_id: str) -> Trainer:
        return await self._arun(api.request(endpoints.GET_TRAINER, trainer_id=trainer_id))

    # Models, experiments, live deployments ---------------------------------------------------------------------

    def get_model(self, model_rid: str) -> Model:
        return self._run(api.request(endpoints.GET_MODEL, model_rid=model_rid))

    async def aget_model(self, model_rid: str) -> Model:
        return await self._arun(api.request(endpoints.GET_MODEL, model_rid=model_rid))

    def get_model_version(self, model_rid: str, model_version_rid: str) -> ModelVersion:
        return self._run(
            api.request(endpoints.GET_MODEL_VERSION, model_rid=model_rid, model_version_rid=model_version_rid)
        )

    async def aget_model_version(self, model_rid: str, model_version_rid: str) -> ModelVersion:
        return await self._arun(
            api.request(endpoints.GET_MODEL_VERSION, model_rid=model_rid, model_version_rid=model_version_rid)
        )

    def list_model_versions(self, model_rid: str, branch: str | None = None) -> tuple[ModelVersion, ...]:
        """Every version of a model (all pages, newest first as Foundry lists them), optionally of one branch."""
        return self._run(api.list_model_versions(model_rid, branch))

    async def alist_model_versions(self, model_rid: str, branch: str | None = None) -> tuple[ModelVersion, ...]:
        return await self._arun(api.list_model_versions(model_rid, branch))

    def promote_model_version(
        self, model_rid: str, source_model_version_rid: str, branch: str | None = None
    ) -> ModelVersion:
        """Copy a version into ``model_rid`` as the latest version of ``branch``; return the new version.

        Not idempotent in Foundry: after a failure that may have reached it, the branch is checked for the copy
        (see :mod:`airflow_provider_modelstudio.foundry.promote`), so one call never makes two copies.
        """
        from airflow_provider_modelstudio.foundry.promote import promote_once

        source = validate_rid(source_model_version_rid, MODEL_VERSION, field="model_version_rid")
        request = api.promote_model_version(model_rid, source, branch)
        listing = api.list_model_versions(model_rid, branch)
        return promote_once(
            lambda: self._run(request),
            lambda: self._run(listing),
            source,
            secrets=known_secrets(self.settings),
        )

    async def apromote_model_version(
        self, model_rid: str, source_model_version_rid: str, branch: str | None = None
    ) -> ModelVersion:
        return await self._in_thread(lambda: self.promote_model_version(model_rid, source_model_version_rid, branch))

    def get_experiment(self, model_rid: str, experiment_rid: str) -> Experiment:
        return self._run(api.request(endpoints.GET_EXPERIMENT, model_rid=model_rid, experiment_rid=experiment_rid))

    async def aget_experiment(self, model_rid: str, experiment_rid: str) -> Experiment:
        return await self._arun(
            api.request(endpoints.GET_EXPERIMENT, model_rid=model_rid, experiment_rid=experiment_rid)
        )

    def search_experiments(
        self, model_rid: str, where: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None
    ) -> tuple[Experiment, ...]:
        """Every experiment of a model matching ``where`` (Foundry's search filter), all pages."""
        return self._run(api.search_experiments(model_rid, where, order_by))

    async def asearch_experiments(
        self, model_rid: str, where: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None
    ) -> tuple[Experiment, ...]:
        return await self._arun(api.search_experiments(model_rid, where, order_by))

    def list_live_deployments(self, model_rid: str, branch: str | None = None) -> tuple[LiveDeployment, ...]:
        """The direct live deployments of a model, optionally of one branch."""
        return self._run(api.list_live_deployments(model_rid, branch))

    async def alist_live_deployments(self, model_rid: str, branch: str | None = None) -> tuple[LiveDeployment, ...]:
        return await self._arun(api.list_live_deployments(model_rid, branch))

    def get_live_deployment(self, live_deployment_rid: str) -> LiveDeployment:
        return self._run(api.get_live_deployment(live_deployment_rid))

    async def aget_live_deployment(self, live_deployment_rid: str) -> LiveDeployment:
        return await self._arun(api.get_live_deployment(live_deployment_rid))

    def start_live_deployment(self, live_deployment_rid: str) -> None:
        """Start a disabled deployment; no effect on one starting or running."""
        self._run(api.request(endpoints.START_LIVE_DEPLOYMENT, live_deployment_rid=live_deployment_rid))

    async def astart_live_deployment(self, live_deployment_rid: str) -> None:
        await self._arun(api.request(endpoints.START_LIVE_DEPLOYMENT, live_deployment_rid=live_deployment_rid))

    def transform_json(self, live_deployment_rid: str, inputs: dict[str, Any]) -> Inference:
        """Run inference on a live deployment: ``{"input": inputs}`` in, Foundry's ``output`` out."""
        return self._run(api.transform_json(live_deployment_rid, inputs))

    async def atransform_json(self, live_deployment_rid: str, inputs: dict[str, Any]) -> Inference:
        return await self._arun(api.transform_json(live_deployment_rid, inputs))

    # Builds ---------------------------------------------------------------------------------------------------

    def get_build(self, build_rid: str) -> Build:
        return self._run(api.request(endpoints.GET_BUILD, build_rid=build_rid))

    async def aget_build(self, build_rid: str) -> Build:
        return await self._arun(api.request(endpoints.GET_BUILD, build_rid=build_rid))

    def get_builds(self, build_rids: list[str]) -> dict[str, Build]:
        """Builds by RID through getBatch, 100 a request; RIDs Foundry does not know are absent."""
        found: dict[str, Build] = {}
        for chunk in api.build_batches(build_rids):
            batch: dict[str, Build] = self._run(api.get_builds_batch(chunk))
            found.update(batch)
        return found

    async def aget_builds(self, build_rids: list[str]) -> dict[str, Build]:
        found: dict[str, Build] = {}
        for chunk in api.build_batches(build_rids):
            batch: dict[str, Build] = await self._arun(api.get_builds_batch(chunk))
            found.update(batch)
        return found

    def get_build_statuses(self, build_rids: list[str]) -> dict[str, str | None]:
        """``{buildRid: status}`` through getBatch, 100 a request; None for a build without a usable status,
        and RIDs Foundry does not know are absent. Keeps only the statuses (cheap for thousands of builds)."""
        found: dict[str, str | None] = {}
        for chunk in api.build_batches(build_rids):
            statuses: dict[str, str | None] = self._run(api.get_build_statuses(chunk))
            found.update(statuses)
        return found

    async def aget_build_statuses(self, build_rids: list[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for chunk in api.build_batches(build_rids):
            statuses: dict[str, str | None] = await self._arun(api.get_build_statuses(chunk))
            found.update(statuses)
        return found

    def cancel_build(self, build_rid: str) -> None:
        """Ask Foundry to cancel a build. Asynchronous; a finished build is left as it is."""
        self._run(api.request(endpoints.CANCEL_BUILD, build_rid=build_rid))

    async def acancel_build(self, build_rid: str) -> None:
        await self._arun(api.request(endpoints.CANCEL_BUILD, build_rid=build_rid))

    # Datasets -------------------------------------------------------------------------------------------------

    def get_dataset_branch(self, dataset_rid: str, branch_name: str) -> DatasetBranch:
        """A dataset's branch, naming its most recent OPEN or COMMITTED transaction."""
        return self._run(api.request(endpoints.GET_DATASET_BRANCH, dataset_rid=dataset_rid, branch_name=branch_name))

    async def aget_dataset_branch(self, dataset_rid: str, branch_name: str) -> DatasetBranch:
        return await self._arun(
            api.request(endpoints.GET_DATASET_BRANCH, dataset_rid=dataset_rid, branch_name=branch_name)
        )

    def get_dataset_transaction(self, dataset_rid: str, transaction_rid: str) -> Transaction:
        return self._run(
            api.request(endpoints.GET_DATASET_TRANSACTION, dataset_rid=dataset_rid, transaction_rid=transaction_rid)
        )

    async def aget_dataset_transaction(self, dataset_rid: str, transaction_rid: str) -> Transaction:
        return await self._arun(
            api.request(endpoints.GET_DATASET_TRANSACTION, dataset_rid=dataset_rid, transaction_rid=transaction_rid)
        )

    # Airflow's connection UI ----------------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials and every scope this provider needs with one harmless request per scope (see
        :mod:`.connection_check`); on failure, the exact reason or the missing scopes and what needs each."""
        from airflow_provider_modelstudio.foundry.endpoints import OPTIONAL_SCOPES
        from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
        from airflow_provider_modelstudio.hooks.connection_check import (
            CONNECTION_TEST_RETRY,
            failure_message,
            missing_scopes,
            missing_scopes_message,
            optional_scopes_note,
        )

        try:
            settings = self.settings
        except FoundryError as exc:
            return False, str(exc)
        client = FoundryClient(settings, retry=CONNECTION_TEST_RETRY)
        try:
            missing = missing_scopes(
                lambda probe: probe.read(client.call(probe.endpoint, probe.path_params, probe.query, probe.body))
            )
        except FoundryError as exc:
            return False, failure_message(settings, exc)
        finally:
            client.close()
        required = [scope for scope in missing if scope not in OPTIONAL_SCOPES]
        note = optional_scopes_note(settings, [scope for scope in missing if scope in OPTIONAL_SCOPES])
        if required:
            return False, missing_scopes_message(settings, required) + note
        return True, f"Connected to {settings.base_url} with {settings.auth_type} authentication.{note}"

    def lacking_scopes(self, scopes: tuple[str, ...]) -> list[str]:
        """Which of ``scopes`` the connection's token lacks, asked with the connection test's harmless probes
        (one request per scope; see :mod:`.connection_check`).

        :param scopes: scopes the caller is about to need
        :raises FoundryError: when a probe's answer proves nothing about scopes
        """
        from airflow_provider_modelstudio.hooks.connection_check import missing_scopes, probes_for

        return missing_scopes(self._run, probes_for(scopes))

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
