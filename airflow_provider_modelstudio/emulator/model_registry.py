"""The deploy half of the emulator's state: models, versions, experiments and live deployments.

:class:`ModelRegistry` holds them and answers the deploy-half endpoints and the handle's controls, given
the emulator time. Versions made by runs land when their build succeeds; promoted and seeded versions
land when made. A direct live deployment follows the latest version on its branch: when a version lands
after the deployment was made (or a start restarts it), it is STARTING and not ready for its
``ready_seconds`` (serving the version before), then ACTIVE and ready serving the new version, or FAILED
when that version breaks deployments (its own flag, its studio's, the scenario's list, or the same for
the version it was promoted from, all the way back). Not thread-safe: the state's lock guards every call.
Nothing here sleeps or does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from airflow_provider_modelstudio.emulator import catalog, experiment_search, metrics, paging
from airflow_provider_modelstudio.emulator.errors import ErrorAnswer, require_rid
from airflow_provider_modelstudio.emulator.ids import derived_rid, is_rid, new_rid, studio_output_model_rid
from airflow_provider_modelstudio.emulator.model_records import (
    PROMOTED,
    ExperimentRecord,
    LiveDeploymentRecord,
    ModelRecord,
    ModelVersionRecord,
    live_deployment_json,
)
from airflow_provider_modelstudio.emulator.model_settings import (
    DEFAULT_BRANCH,
    LiveDeploymentSettings,
    ModelVersionSettings,
)
from airflow_provider_modelstudio.emulator.parsing import ScenarioError
from airflow_provider_modelstudio.emulator.records import RunRecord
from airflow_provider_modelstudio.emulator.scenario import Scenario, StudioSettings

ACTIVE = "ACTIVE"
STARTING = "STARTING"
FAILED = "FAILED"
DEPLOYMENT_STATES = ("ACTIVE", "STARTING", "DEGRADED", "DISABLED", "FAILED")
RUNNING_STATES = frozenset({ACTIVE, STARTING, "DEGRADED"})
"""States in which a start changes nothing (the deployment is starting or running)."""
DEFAULT_VERSIONS_PAGE_SIZE = 20
DEFAULT_SEARCH_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
SEEDED_BY = catalog.studio_owner("seeded")
"""The user id that made the scenario's seeded experiments."""


class ModelRegistry:
    """Models, versions, experiments and live deployments, and the endpoints that read and change them.

    :param scenario: the scenario served (see :meth:`load`).
    :param now: emulator time of the first load.
    """

    def __init__(self, scenario: Scenario, now: float) -> None:
        self._models: dict[str, ModelRecord] = {}
        self._versions: dict[str, ModelVersionRecord] = {}
        self._experiments: dict[str, ExperimentRecord] = {}
        self._deployments: dict[str, LiveDeploymentRecord] = {}
        self._seq = 0
        self.promotions: Counter[str] = Counter()
        self.starts: Counter[str] = Counter()
        self.scenario = scenario
        self.load(scenario, now)

    # Loading and recording ------------------------------------------------------------------------------

    def load(self, scenario: Scenario, now: float) -> None:
        """Serve ``scenario``: add its models, the models of its studios' outputs, its seeded versions and its
        live deployments that are not there yet, and take its settings for deployments that are.

        :param scenario: the scenario.
        :param now: emulator time (seeded versions land now).
        :raises ScenarioError: when a seeded version's RID is already a version of another model or branch
            (nothing is changed then).
        """
        for model_rid, model in scenario.models.items():
            for version in model.versions:
                known = self._versions.get(version.rid)
                if known is not None and (known.model_rid, known.branch) != (model_rid, version.branch):
                    raise ScenarioError(
                        f"models[{model_rid!r}] version {version.rid!r} is already a version of model "
                        f"{known.model_rid!r} on branch {known.branch!r}; give the seeded version another rid"
                    )
        self.scenario = scenario
        for studio_rid, settings in scenario.studios.items():
            self.add_studio_models(studio_rid, settings)
        for model_rid, model in scenario.models.items():
            record = self._models.setdefault(model_rid, ModelRecord(model_rid))
            record.promote_denied = model.promote_denied
            for version in model.versions:
                if version.rid not in self._versions:
                    self._add_version(model_rid, version, now, SEEDED_BY)
        for rid, deployment in scenario.live_deployments.items():
            if rid in self._deployments:
                self._deployments[rid].settings = deployment
            else:
                self._deployments[rid] = LiveDeploymentRecord(rid, deployment, now)

    def add_studio_models(self, studio_rid: str, settings: StudioSettings) -> None:
        """Make sure the models a studio's runs write into exist.

        :param studio_rid: the studio.
        :param settings: its settings (its output aliases).
        """
        for alias in settings.outputs:
            model_rid = studio_output_model_rid(studio_rid, alias)
            self._models.setdefault(model_rid, ModelRecord(model_rid))

    def record_run(
        self,
        run: RunRecord,
        settings: StudioSettings,
        custom_config: Mapping[str, Any],
        user_id: str,
        now: float,
    ) -> None:
        """Add the versions a run writes (one per output, landing on master when its build succeeds), each
        with an experiment holding the studio's metrics as its configuration moves them
        (:func:`.metrics.trained_metrics`) and that configuration as its parameters.

        :param run: the run just launched.
        :param settings: its studio's settings.
        :param custom_config: the ``customConfig`` of the config version it trains with.
        :param user_id: who launched it.
        :param now: emulator time.
        """
        parameters = {**catalog.CUSTOM_CONFIG, **custom_config}
        for output in run.outputs:
            model = self._models.setdefault(output.model_rid, ModelRecord(output.model_rid))
            experiment = ExperimentRecord(
                rid=new_rid("models", "experiment"),
                model_rid=output.model_rid,
                name=f"{run.studio_rid.rsplit('.', 1)[-1]} run {run.run_id} ({output.alias})",
                branch=DEFAULT_BRANCH,
                created_at=now,
                created_by=user_id,
                seq=self._next_seq(),
                metrics=metrics.trained_metrics(settings.metrics, parameters),
                parameters=dict(parameters),
                build=run.build,
                linked_model_version=output.model_version_rid,
            )
            self._experiments[experiment.rid] = experiment
            version = ModelVersionRecord(
                rid=output.model_version_rid,
                model_rid=output.model_rid,
                branch=DEFAULT_BRANCH,
                created_at=now,
                seq=self._next_seq(),
                source={"type": "modelStudio", "modelStudioRid": run.studio_rid},
                experiment_rid=experiment.rid,
                build=run.build,
            )
            model.versions.append(version)
            self._versions[version.rid] = version

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _add_version(
        self, model_rid: str, settings: ModelVersionSettings, now: float, created_by: str
    ) -> ModelVersionRecord:
        """A version that lands now, with an experiment when it has metrics."""
        model = self._models[model_rid]
        if settings.promoted_from is not None:
            previous = self._versions[settings.promoted_from]
            source = {
                "type": PROMOTED,
                "previousModelRid": previous.model_rid,
                "previousModelVersionRid": previous.rid,
            }
        elif settings.studio is not None:
            source = {"type": "modelStudio", "modelStudioRid": settings.studio}
        else:
            source = {"type": "sdk"}
        experiment_rid = None
        if settings.metrics:
            experiment = ExperimentRecord(
                rid=derived_rid("models", "experiment", settings.rid),
                model_rid=model_rid,
                name=f"experiment of {settings.rid.rsplit('.', 1)[-1]}",
                branch=settings.branch,
                created_at=now,
                created_by=created_by,
                seq=self._next_seq(),
                metrics=dict(settings.metrics),
                parameters=dict(catalog.CUSTOM_CONFIG),
                linked_model_version=settings.rid,
            )
            self._experiments[experiment.rid] = experiment
            experiment_rid = experiment.rid
        version = ModelVersionRecord(
            rid=settings.rid,
            model_rid=model_rid,
            branch=settings.branch,
            created_at=now,
            seq=self._next_seq(),
            source=source,
            experiment_rid=experiment_rid,
            breaks_deployments=settings.breaks_deployments,
        )
        model.versions.append(version)
        self._versions[version.rid] = version
        return version

    # Lookups ------------------------------------------------------------------------------------------------

    def _model(self, model_rid: str) -> ModelRecord:
        require_rid("modelRid", model_rid)
        model = self._models.get(model_rid)
        if model is None:
            raise ErrorAnswer("ModelNotFound", modelRid=model_rid)
        return model

    def _deployment(self, rid: str) -> LiveDeploymentRecord:
        require_rid("liveDeploymentRid", rid)
        deployment = self._deployments.get(rid)
        if deployment is None:
            raise ErrorAnswer("LiveDeploymentNotFound", liveDeploymentRid=rid)
        return deployment

    def _breaks(self, version: ModelVersionRecord) -> bool:
        """Whether rolling ``version`` out fails, following promoted sources back to the original."""
        current: ModelVersionRecord | None = version
        while current is not None:
            if current.breaks_deployments or current.rid in self.scenario.failing_model_versions:
                return True
            studio = self.scenario.studios.get(current.source.get("modelStudioRid", ""))
            if studio is not None and studio.breaks_deployments:
                return True
            previous = current.promoted_from()
            current = self._versions.get(previous) if previous is not None else None
        return False

    def _view(self, deployment: LiveDeploymentRecord, now: float) -> tuple[ModelVersionRecord, str, bool]:
        """What a deployment serves at ``now``, its state and whether it is ready."""
        settings = deployment.settings
        landed = self._models[settings.model].landed(now, settings.branch)
        latest = landed[-1]
        latest_at = latest.landed_at() or deployment.created_at
        starts = [latest_at] if latest_at > deployment.created_at else []
        if deployment.restarted_at is not None:
            starts.append(deployment.restarted_at)
        rollout_at = max(starts, default=None)
        forced = deployment.forced
        if forced is not None and forced[2] >= (rollout_at if rollout_at is not None else deployment.created_at):
            return latest, forced[0], forced[1]
        if rollout_at is not None and now < rollout_at + settings.ready_seconds:
            rolling_out_new_version = rollout_at == latest_at and len(landed) > 1
            return (landed[-2] if rolling_out_new_version else latest), STARTING, False
        if self._breaks(latest):
            return latest, FAILED, False
        return latest, ACTIVE, True

    def _deployment_json(self, deployment: LiveDeploymentRecord, now: float) -> dict[str, Any]:
        return live_deployment_json(deployment, *self._view(deployment, now))

    # Endpoints ------------------------------------------------------------------------------------------------

    def get_model(self, model_rid: str) -> dict[str, Any]:
        """``get_model``.

        :param model_rid: the model.
        """
        model = self._model(model_rid)
        return {"rid": model.rid} if model.name is None else {"rid": model.rid, "name": model.name}

    def list_versions(
        self, model_rid: str, branch: str | None, page_size: int | None, page_token: str | None, now: float
    ) -> dict[str, Any]:
        """``list_model_versions``: the versions on a branch (every branch: None), newest landed first.

        :param model_rid: the model.
        :param branch: the branch, or None.
        :param page_size: 1..100, default 20.
        :param page_token: a ``nextPageToken`` from a previous page.
        :param now: emulator time.
        """
        size = page_size_within(page_size, DEFAULT_VERSIONS_PAGE_SIZE)
        landed = self._model(model_rid).landed(now, branch)
        chosen, token = paging.page(
            landed,
            lambda version: (version.landed_at() or 0.0, version.seq),
            size=size,
            token=page_token,
            descending=True,
            kind="modelVersions",
        )
        return _page_answer([version.to_json() for version in chosen], token)

    def get_version(self, model_rid: str, version_rid: str) -> dict[str, Any]:
        """``get_model_version``: any version made so far, landed or not.

        :param model_rid: the model.
        :param version_rid: the version.
        """
        require_rid("modelRid", model_rid)
        require_rid("modelVersionRid", version_rid)
        version = self._versions.get(version_rid)
        if version is not None and version.model_rid == model_rid:
            return version.to_json()
        self._model(model_rid)
        raise ErrorAnswer("ModelVersionNotFound", modelRid=model_rid, modelVersionRid=version_rid)

    def promote(self, model_rid: str, body: object, now: float) -> dict[str, Any]:
        """``promote_model_version``: copy a landed version into ``model_rid`` as the latest on a branch, under
        a new RID, with a ``promoted`` source and no experiment of its own.

        :param model_rid: the target model.
        :param body: the parsed JSON body, ``{"sourceModelVersionRid", "branch"?}``.
        :param now: emulator time.
        """
        if not isinstance(body, Mapping):
            raise ErrorAnswer("MissingPostBody") if body is None else _invalid_body('{"sourceModelVersionRid": ...}')
        source_rid = body.get("sourceModelVersionRid")
        branch = body.get("branch") or DEFAULT_BRANCH
        if not isinstance(source_rid, str) or not isinstance(branch, str):
            raise _invalid_body('{"sourceModelVersionRid": "<rid>", "branch": "<name>"?}')
        require_rid("sourceModelVersionRid", source_rid)
        model = self._model(model_rid)
        if model.promote_denied:
            raise ErrorAnswer("PromoteVersionModelPermissionDenied", modelRid=model_rid)
        source = self._versions.get(source_rid)
        if source is None or not source.has_landed(now):
            owner = source.model_rid if source is not None else model_rid
            raise ErrorAnswer("ModelVersionNotFound", modelRid=owner, modelVersionRid=source_rid)
        promoted = ModelVersionRecord(
            rid=new_rid("models", "model-version"),
            model_rid=model_rid,
            branch=branch,
            created_at=now,
            seq=self._next_seq(),
            source={"type": PROMOTED, "previousModelRid": source.model_rid, "previousModelVersionRid": source.rid},
        )
        model.versions.append(promoted)
        self._versions[promoted.rid] = promoted
        self.promotions[model_rid] += 1
        return promoted.to_json()

    def get_experiment(self, model_rid: str, experiment_rid: str, now: float) -> dict[str, Any]:
        """``get_experiment``.

        :param model_rid: the model.
        :param experiment_rid: the experiment.
        :param now: emulator time.
        """
        self._model(model_rid)
        require_rid("experimentRid", experiment_rid)
        experiment = self._experiments.get(experiment_rid)
        if experiment is None:
            raise ErrorAnswer("ExperimentNotFound", experimentRid=experiment_rid, modelRid=model_rid)
        if experiment.model_rid != model_rid:
            raise ErrorAnswer("ModelExperimentNotFound", modelRid=model_rid, experimentRid=experiment_rid)
        return experiment.to_json(now)

    def search_experiments(self, model_rid: str, body: object, now: float) -> dict[str, Any]:
        """``search_experiments``: a model's experiments matching ``where``, in ``orderBy`` order, paged.

        :param model_rid: the model.
        :param body: the parsed JSON body (None: no filter, first page).
        :param now: emulator time.
        """
        request = {} if body is None else body
        if not isinstance(request, Mapping):
            raise _invalid_body('{"where"?, "orderBy"?, "pageSize"?, "pageToken"?}')
        page_size = request.get("pageSize")
        if page_size is not None and (not isinstance(page_size, int) or isinstance(page_size, bool)):
            raise ErrorAnswer("InvalidPageSize", pageSize=page_size)
        size = page_size_within(page_size, DEFAULT_SEARCH_PAGE_SIZE)
        token = request.get("pageToken")
        if token is not None and not isinstance(token, str):
            raise ErrorAnswer("InvalidPageToken", pageToken=str(token))
        matches = experiment_search.compile_filter(request.get("where"))
        field, descending = experiment_search.order_key(request.get("orderBy"))
        self._model(model_rid)
        answers = [
            (experiment, experiment.to_json(now))
            for experiment in self._experiments.values()
            if experiment.model_rid == model_rid
        ]
        found = [(experiment, answer) for experiment, answer in answers if matches(experiment.name, answer)]

        def key(item: tuple[ExperimentRecord, dict[str, Any]]) -> paging.SortKey:
            experiment = item[0]
            return (experiment.name if field == "EXPERIMENT_NAME" else experiment.created_at, experiment.seq)

        chosen, next_token = paging.page(
            found, key, size=size, token=token, descending=descending, kind=f"experiments:{field}"
        )
        return _page_answer([answer for _, answer in chosen], next_token)

    def list_deployments(self, model_rid: str | None, branch: str | None, now: float) -> dict[str, Any]:
        """``list_live_deployments``: the direct deployments of a model (on one branch: ``branch``).

        :param model_rid: the model (the query parameter ``modelRid``, required).
        :param branch: the branch, or None.
        :param now: emulator time.
        """
        if model_rid is None:
            raise ErrorAnswer("Default:InvalidArgument", parameterName="modelRid", reason="required")
        self._model(model_rid)
        return {
            "data": [
                self._deployment_json(deployment, now)
                for deployment in self._deployments.values()
                if deployment.settings.model == model_rid and branch in (None, deployment.settings.branch)
            ]
        }

    def get_deployment(self, rid: str, now: float) -> dict[str, Any]:
        """``get_live_deployment``.

        :param rid: the deployment.
        :param now: emulator time.
        """
        return self._deployment_json(self._deployment(rid), now)

    def start_deployment(self, rid: str, now: float) -> None:
        """``start_live_deployment``: no effect while starting or running; otherwise roll the latest version
        out again.

        :param rid: the deployment.
        :param now: emulator time.
        """
        deployment = self._deployment(rid)
        if deployment.settings.start_denied:
            raise ErrorAnswer("StartLiveDeploymentPermissionDenied", liveDeploymentRid=rid)
        self.starts[rid] += 1
        if self._view(deployment, now)[1] not in RUNNING_STATES:
            deployment.restarted_at, deployment.forced = now, None

    def transform_json(self, rid: str, body: object, now: float) -> dict[str, Any]:
        """``transform_json``: ``{"output": {"prediction": <number>}}``, derived from the input and the version
        served (see :func:`.metrics.prediction`).

        :param rid: the deployment.
        :param body: the parsed JSON body, ``{"input": {...}}``.
        :param now: emulator time.
        """
        deployment = self._deployment(rid)
        if deployment.settings.transform_denied:
            raise ErrorAnswer("TransformJsonLiveDeploymentPermissionDenied", liveDeploymentRid=rid)
        model_input = body.get("input") if isinstance(body, Mapping) else None
        if not isinstance(model_input, Mapping):
            raise ErrorAnswer(
                "InferenceInvalidInput",
                liveDeploymentRid=rid,
                errorType={"type": "requiredValueMissing", "fieldName": "input"},
            )
        served, state, ready = self._view(deployment, now)
        if not ready:
            raise ErrorAnswer(
                "InferenceFailure",
                liveDeploymentRid=rid,
                errorMessage=f"the live deployment is {state} and not ready to serve requests",
            )
        missing = [name for name in catalog.MODEL_INPUT_COLUMNS if name not in model_input]
        if missing:
            raise ErrorAnswer(
                "InferenceInvalidInput",
                liveDeploymentRid=rid,
                errorType={"type": "requiredValueMissing", "fieldName": missing[0]},
            )
        if deployment.settings.inference_timeout:
            raise ErrorAnswer("InferenceTimeout", liveDeploymentRid=rid)
        return {"output": {"prediction": metrics.prediction(served.rid, model_input)}}

    # The handle's controls ---------------------------------------------------------------------------------

    def add_model(self, model_rid: str, *, promote_denied: bool, name: str | None = None) -> dict[str, Any]:
        """Add a model (or change whether promoting into it is denied, and its name when one is given).

        :param model_rid: its RID.
        :param promote_denied: promoting into it answers 403.
        :param name: its name; None keeps the one it has (none for a new model).
        :raises ValueError: for a malformed RID.
        """
        _check_rid("model rid", model_rid)
        model = self._models.setdefault(model_rid, ModelRecord(model_rid))
        model.promote_denied = promote_denied
        if name is not None:
            model.name = name
        return {"rid": model_rid}

    def add_version(self, model_rid: str, settings: ModelVersionSettings, now: float) -> dict[str, Any]:
        """Add a version that lands now (with an experiment when it has metrics).

        :param model_rid: its model.
        :param settings: the version (its RID must be new; ``promoted_from`` must exist).
        :param now: emulator time.
        :raises KeyError: for an unknown model or ``promoted_from`` version.
        :raises ValueError: for a RID already used.
        """
        if model_rid not in self._models:
            raise KeyError(model_rid)
        if settings.rid in self._versions:
            raise ValueError(f"model version {settings.rid!r} exists already; choose another rid")
        if settings.promoted_from is not None and settings.promoted_from not in self._versions:
            raise KeyError(settings.promoted_from)
        return self._add_version(model_rid, settings, now, SEEDED_BY).to_json()

    def add_experiment(
        self, model_rid: str, metrics_by_name: Mapping[str, float], *, linked_model_version: str | None, now: float
    ) -> dict[str, Any]:
        """Add a SUCCEEDED experiment to a model.

        :param model_rid: its model.
        :param metrics_by_name: its metrics (last values).
        :param linked_model_version: the version it names as ``linkedModelVersion``, if any.
        :param now: emulator time.
        :raises KeyError: for an unknown model.
        """
        if model_rid not in self._models:
            raise KeyError(model_rid)
        experiment = ExperimentRecord(
            rid=new_rid("models", "experiment"),
            model_rid=model_rid,
            name=f"experiment {self._seq + 1}",
            branch=DEFAULT_BRANCH,
            created_at=now,
            created_by=SEEDED_BY,
            seq=self._next_seq(),
            metrics=dict(metrics_by_name),
            linked_model_version=linked_model_version,
        )
        self._experiments[experiment.rid] = experiment
        return experiment.to_json(now)

    def add_deployment(self, rid: str, settings: LiveDeploymentSettings, now: float) -> dict[str, Any]:
        """Add a direct live deployment, serving (ACTIVE and ready) the latest version on its branch.

        :param rid: its RID.
        :param settings: how it behaves.
        :param now: emulator time.
        :raises KeyError: for an unknown model.
        :raises ValueError: for a RID already used, or a branch without a version yet.
        """
        _check_rid("live deployment rid", rid)
        if rid in self._deployments:
            raise ValueError(f"live deployment {rid!r} exists already; choose another rid")
        if not self._models[settings.model].landed(now, settings.branch):
            raise ValueError(
                f"model {settings.model!r} has no version on branch {settings.branch!r} yet: add one first"
            )
        self._deployments[rid] = LiveDeploymentRecord(rid, settings, now)
        return self._deployment_json(self._deployments[rid], now)

    def versions(self, model_rid: str, branch: str | None, now: float) -> list[dict[str, Any]]:
        """A model's landed versions (on one branch: ``branch``), newest first.

        :param model_rid: the model.
        :param branch: the branch, or None.
        :param now: emulator time.
        :raises KeyError: for an unknown model.
        """
        return [version.to_json() for version in reversed(self._models[model_rid].landed(now, branch))]

    def experiments(self, model_rid: str, now: float) -> list[dict[str, Any]]:
        """A model's experiments, newest first.

        :param model_rid: the model.
        :param now: emulator time.
        :raises KeyError: for an unknown model.
        """
        if model_rid not in self._models:
            raise KeyError(model_rid)
        found = [experiment for experiment in self._experiments.values() if experiment.model_rid == model_rid]
        return [experiment.to_json(now) for experiment in sorted(found, key=lambda e: e.seq, reverse=True)]

    def deployments(self, now: float) -> dict[str, dict[str, Any]]:
        """Every live deployment as served now, by RID.

        :param now: emulator time.
        """
        return {rid: self._deployment_json(deployment, now) for rid, deployment in self._deployments.items()}

    def force_deployment_status(self, rid: str, state: str, is_ready: bool, now: float) -> None:
        """Make a deployment report ``state`` and ``is_ready`` until the next version lands or the next start.

        :param rid: the deployment.
        :param state: one of ACTIVE, STARTING, DEGRADED, DISABLED, FAILED.
        :param is_ready: whether it reports ready.
        :param now: emulator time.
        :raises KeyError: for an unknown deployment.
        :raises ValueError: for an unknown state.
        """
        if state not in DEPLOYMENT_STATES:
            raise ValueError(f"state must be one of {', '.join(DEPLOYMENT_STATES)}, got {state!r}")
        self._deployments[rid].forced = (state, is_ready, now)


def page_size_within(page_size: int | None, default: int) -> int:
    """The page size to use: ``default`` when none was sent.

    :param page_size: the size sent, or None.
    :param default: the default size.
    :raises ErrorAnswer: 400 InvalidPageSize outside 1..100.
    """
    if page_size is None:
        return default
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ErrorAnswer("InvalidPageSize", pageSize=page_size)
    return page_size


def _page_answer(data: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"data": data}
    if token is not None:
        answer["nextPageToken"] = token
    return answer


def _invalid_body(expected: str) -> ErrorAnswer:
    return ErrorAnswer("Default:InvalidArgument", parameterName="body", reason=f"expected {expected}")


def _check_rid(what: str, rid: str) -> None:
    if not is_rid(rid):
        raise ValueError(f"{what} {rid!r} is not a well-formed RID (ri.<service>.<instance>.<type>.<locator>)")
