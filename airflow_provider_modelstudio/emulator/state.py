"""The emulator's state and the operations behind every endpoint, in plain Python (no HTTP).

:class:`EmulatorState` holds the scenario, the clock, tokens, runs, builds, the models, experiments and
live deployments (a :class:`~.model_registry.ModelRegistry`), fault generators, the rate limiter and the
counters, all behind one lock, so the server thread and test threads can use it together. Endpoint
operations return JSON-able dicts or raise :class:`ErrorAnswer` / :class:`OAuthError`; the app turns
those into HTTP answers. Builds are indexed by RID and runs by studio,
so no request does work proportional to all runs. Nothing here sleeps or does I/O.
"""

from __future__ import annotations

import base64
import binascii
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from airflow_provider_modelstudio.emulator import catalog
from airflow_provider_modelstudio.emulator.clock import Clock
from airflow_provider_modelstudio.emulator.config_versions import StudioConfigs, get_trainer
from airflow_provider_modelstudio.emulator.datasets import DatasetRegistry
from airflow_provider_modelstudio.emulator.errors import ErrorAnswer, require_rid
from airflow_provider_modelstudio.emulator.faults import LATENCY, NO_FAULT, FaultPlan, draw
from airflow_provider_modelstudio.emulator.ids import new_rid, run_id, studio_output_model_rid
from airflow_provider_modelstudio.emulator.model_registry import ModelRegistry, page_size_within
from airflow_provider_modelstudio.emulator.model_settings import LiveDeploymentSettings, ModelVersionSettings
from airflow_provider_modelstudio.emulator.ratelimit import RateLimiter
from airflow_provider_modelstudio.emulator.records import (
    FINAL_STATUSES,
    BuildRecord,
    RunOutput,
    RunRecord,
)
from airflow_provider_modelstudio.emulator.scenario import (
    ALL_ENDPOINTS,
    FaultSettings,
    Scenario,
    StudioSettings,
    check_fault_target,
)
from airflow_provider_modelstudio.emulator.tokens import Caller, TokenStore, static_token_user

DEFAULT_PAGE_SIZE = 20
MAX_BATCH_SIZE = 100
_RUNS_PAGE_PREFIX = "runs:"


class EmulatorState:
    """Everything the emulator knows, guarded by one lock.

    :param scenario: the scenario to start from (and to go back to on :meth:`reset`).
    :param time_scale: emulator seconds per real second.
    """

    def __init__(self, scenario: Scenario, time_scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._initial = scenario
        self._clock = Clock(time_scale)
        self._tokens = TokenStore()
        self._load(scenario)
        self._forget_everything()

    @property
    def scenario(self) -> Scenario:
        """The scenario served now."""
        with self._lock:
            return self._scenario

    # Scenario and bookkeeping (callers hold the lock) ---------------------------------------------------

    def _load(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._faults = dict(scenario.faults)
        self._fault_rng = random.Random(scenario.seed)
        self._jitter_rng = random.Random(scenario.seed)
        self._rate_limiter = RateLimiter(scenario.build_rate_limit)

    def _forget_everything(self) -> None:
        self._runs: list[RunRecord] = []
        self._runs_by_studio: dict[str, list[RunRecord]] = defaultdict(list)
        self._builds: dict[str, BuildRecord] = {}
        self._models = ModelRegistry(self._scenario, self._clock.now())
        self._datasets = DatasetRegistry()
        for studio_rid in self._scenario.studios:
            self._datasets.add_dataset(catalog.training_dataset_rid(studio_rid), "master", self._clock.now())
        self._configs: dict[str, StudioConfigs] = {}
        self._requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._faults_injected: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._launches: Counter[str] = Counter()
        self._cancels: Counter[str] = Counter()
        self._tokens_issued = 0

    def _studio(self, studio_rid: str) -> StudioSettings:
        require_rid("modelStudioRid", studio_rid)
        settings = self._scenario.studios.get(studio_rid)
        if settings is None:
            raise ErrorAnswer("ModelStudioNotFound", studioRid=studio_rid)
        return settings

    def _build(self, build_rid: str) -> BuildRecord:
        require_rid("buildRid", build_rid)
        build = self._builds.get(build_rid)
        if build is None:
            raise ErrorAnswer("BuildNotFound", buildRid=build_rid)
        return build

    def _studio_configs(self, studio_rid: str) -> StudioConfigs:
        settings = self._studio(studio_rid)
        configs = self._configs.get(studio_rid)
        if configs is None:
            configs = self._configs[studio_rid] = StudioConfigs(studio_rid, settings)
        return configs

    def _create_run(self, studio_rid: str, settings: StudioSettings, user_id: str) -> RunRecord:
        now = self._clock.now()
        config = self._studio_configs(studio_rid).latest
        config_version: int = config["version"]
        duration = settings.duration_seconds
        if settings.duration_jitter_seconds:
            duration += self._jitter_rng.uniform(0, settings.duration_jitter_seconds)
        build = BuildRecord(
            rid=new_rid("foundry-build", "build"),
            job_rid=new_rid("foundry-build", "job"),
            studio_rid=studio_rid,
            created_at=now,
            created_by=user_id,
            outcome=settings.outcome,
            ends_at=now + duration,
        )
        outputs = tuple(
            RunOutput(alias, studio_output_model_rid(studio_rid, alias), new_rid("models", "model-version"))
            for alias in settings.outputs
        )
        run = RunRecord(
            run_id=run_id(studio_rid, config_version, build.rid),
            studio_rid=studio_rid,
            config_version=config_version,
            build=build,
            outputs=outputs,
            omit_resolved_outputs=settings.omit_resolved_outputs,
            omit_build_status=settings.omit_build_status,
        )
        self._builds[build.rid] = build
        self._runs.append(run)
        self._runs_by_studio[studio_rid].append(run)
        self._models.record_run(run, settings, config["workerConfig"].get("customConfig", {}), user_id, now)
        return run

    # Clock ------------------------------------------------------------------------------------------------

    def now(self) -> float:
        """Current emulator time, UNIX seconds."""
        with self._lock:
            return self._clock.now()

    def advance(self, seconds: float) -> float:
        """Move the emulator clock forward; return the new emulator time.

        :param seconds: emulator seconds, >= 0.
        """
        with self._lock:
            self._clock.advance(seconds)
            return self._clock.now()

    # Control (the handle and the admin API) ---------------------------------------------------------------

    def reset(self) -> None:
        """Go back to the initial scenario: no runs, no builds, counters zeroed, faults and seeds as at start.

        The clock keeps running and issued tokens stay valid until they expire.
        """
        with self._lock:
            self._load(self._initial)
            self._forget_everything()

    def set_scenario(self, scenario: Scenario) -> None:
        """Serve another scenario from now on; existing runs, builds, models, versions, experiments, live
        deployments and counters stay, its new seeded ones are added, and deployments take its settings.

        :param scenario: the new scenario (its faults replace the current ones; seeds restart).
        :raises ScenarioError: when one of its seeded versions clashes with an existing one (nothing changes).
        """
        with self._lock:
            self._models.load(scenario, self._clock.now())
            self._load(scenario)

    def add_studio(self, studio_rid: str, settings: StudioSettings) -> None:
        """Add or replace one studio of the current scenario.

        :param studio_rid: the studio's RID.
        :param settings: how it behaves.
        """
        with self._lock:
            self._scenario = self._scenario.with_studio(studio_rid, settings)
            self._models.scenario = self._scenario
            self._models.add_studio_models(studio_rid, settings)
            self._datasets.add_dataset(catalog.training_dataset_rid(studio_rid), "master", self._clock.now())
            self._configs.pop(studio_rid, None)

    def set_faults(self, endpoint: str, settings: FaultSettings) -> None:
        """Replace the fault settings of one endpoint (or ``"*"``).

        :param endpoint: an endpoint name or ``"*"``.
        :param settings: the fault settings.
        """
        check_fault_target(endpoint, settings)
        with self._lock:
            self._faults[endpoint] = settings

    def clear_faults(self) -> None:
        """Remove every fault setting (until the next reset or scenario)."""
        with self._lock:
            self._faults.clear()

    def counters(self) -> dict[str, Any]:
        """A snapshot of the counters (see :meth:`FoundryEmulator.counters`)."""
        with self._lock:
            return {
                "requests": {name: dict(statuses) for name, statuses in self._requests.items()},
                "tokens_issued": self._tokens_issued,
                "launches": dict(self._launches),
                "cancels": dict(self._cancels),
                "promotions": dict(self._models.promotions),
                "live_deployment_starts": dict(self._models.starts),
                "faults_injected": {name: dict(kinds) for name, kinds in self._faults_injected.items()},
            }

    def runs(self, studio_rid: str | None = None) -> list[dict[str, Any]]:
        """Runs as served now, newest first.

        :param studio_rid: only this studio's runs; None: all.
        """
        with self._lock:
            now = self._clock.now()
            runs = self._runs if studio_rid is None else self._runs_by_studio.get(studio_rid, [])
            return [run.to_json(now) for run in reversed(runs)]

    def builds(self) -> dict[str, dict[str, Any]]:
        """Every build as served now, by RID."""
        with self._lock:
            now = self._clock.now()
            return {rid: build.to_json(now) for rid, build in self._builds.items()}

    def build_finished_at(self, build_rid: str) -> float | None:
        """Emulator time the build reached its final status, or None while it has not.

        :param build_rid: the build.
        :raises KeyError: for an unknown build.
        """
        with self._lock:
            return self._builds[build_rid].status_at(self._clock.now())[1]

    def create_runs(self, studio_rid: str, count: int) -> list[dict[str, Any]]:
        """Create runs directly (no HTTP, not counted as launches), acting as the first static token's user.

        :param studio_rid: a studio of the current scenario.
        :param count: how many.
        :raises KeyError: for a studio not in the scenario.
        """
        with self._lock:
            settings = self._scenario.studios[studio_rid]
            user_id = static_token_user(next(iter(self._scenario.static_tokens), "emulator"))
            created = [self._create_run(studio_rid, settings, user_id) for _ in range(count)]
            now = self._clock.now()
            return [run.to_json(now) for run in created]

    def set_build_status(self, build_rid: str, status: str) -> None:
        """Force a build's status (any string; a final one finishes the build now).

        :param build_rid: the build.
        :param status: the status to report.
        :raises KeyError: for an unknown build.
        """
        with self._lock:
            self._builds[build_rid].force(status, self._clock.now())

    # Datasets (the handle and the admin API) -------------------------------------------------------------

    def add_dataset(self, rid: str, branch: str) -> dict[str, Any]:
        """Add a dataset branch holding one committed SNAPSHOT (see :class:`~.datasets.DatasetRegistry`)."""
        with self._lock:
            return self._datasets.add_dataset(rid, branch, self._clock.now())

    def open_transaction(self, rid: str, branch: str, transaction_type: str) -> dict[str, Any]:
        with self._lock:
            return self._datasets.open(rid, branch, transaction_type, self._clock.now())

    def close_transaction(self, rid: str, transaction_rid: str, *, commit: bool) -> dict[str, Any]:
        """Commit (or abort) an open transaction."""
        with self._lock:
            close = self._datasets.commit if commit else self._datasets.abort
            return close(rid, transaction_rid, self._clock.now())

    def delete_dataset_branch(self, rid: str, branch: str) -> None:
        with self._lock:
            self._datasets.delete_branch(rid, branch)

    def get_dataset_branch(self, rid: str, branch: str) -> dict[str, Any]:
        """``get_dataset_branch``."""
        with self._lock:
            return self._datasets.get_branch(rid, branch)

    def get_dataset_transaction(self, rid: str, transaction_rid: str) -> dict[str, Any]:
        """``get_dataset_transaction``."""
        with self._lock:
            return self._datasets.get_transaction(rid, transaction_rid)

    # Models, experiments and live deployments (the handle and the admin API) ------------------------------

    def add_model(self, model_rid: str, promote_denied: bool = False, name: str | None = None) -> dict[str, Any]:
        """Add a model (see :meth:`ModelRegistry.add_model`).

        :param model_rid: its RID.
        :param promote_denied: promoting into it answers 403.
        :param name: its name; None keeps the one it has.
        """
        with self._lock:
            return self._models.add_model(model_rid, promote_denied=promote_denied, name=name)

    def add_model_version(self, model_rid: str, settings: ModelVersionSettings) -> dict[str, Any]:
        """Add a version that lands now (see :meth:`ModelRegistry.add_version`).

        :param model_rid: its model.
        :param settings: the version.
        """
        with self._lock:
            return self._models.add_version(model_rid, settings, self._clock.now())

    def add_experiment(
        self, model_rid: str, metrics: Mapping[str, float], linked_model_version: str | None = None
    ) -> dict[str, Any]:
        """Add a SUCCEEDED experiment (see :meth:`ModelRegistry.add_experiment`).

        :param model_rid: its model.
        :param metrics: its metrics.
        :param linked_model_version: its ``linkedModelVersion``, if any.
        """
        with self._lock:
            return self._models.add_experiment(
                model_rid, metrics, linked_model_version=linked_model_version, now=self._clock.now()
            )

    def add_live_deployment(self, rid: str, settings: LiveDeploymentSettings) -> dict[str, Any]:
        """Add a live deployment (see :meth:`ModelRegistry.add_deployment`).

        :param rid: its RID.
        :param settings: how it behaves.
        """
        with self._lock:
            return self._models.add_deployment(rid, settings, self._clock.now())

    def model_versions(self, model_rid: str, branch: str | None = None) -> list[dict[str, Any]]:
        """A model's landed versions, newest first.

        :param model_rid: the model.
        :param branch: only this branch; None: all.
        """
        with self._lock:
            return self._models.versions(model_rid, branch, self._clock.now())

    def experiments(self, model_rid: str) -> list[dict[str, Any]]:
        """A model's experiments, newest first.

        :param model_rid: the model.
        """
        with self._lock:
            return self._models.experiments(model_rid, self._clock.now())

    def live_deployments(self) -> dict[str, dict[str, Any]]:
        """Every live deployment as served now, by RID."""
        with self._lock:
            return self._models.deployments(self._clock.now())

    def set_live_deployment_status(self, rid: str, state: str, is_ready: bool) -> None:
        """Force a deployment's status until the next version lands or the next start.

        :param rid: the deployment.
        :param state: ACTIVE, STARTING, DEGRADED, DISABLED or FAILED.
        :param is_ready: whether it reports ready.
        """
        with self._lock:
            self._models.force_deployment_status(rid, state, is_ready, self._clock.now())

    # Request bookkeeping (the app) ------------------------------------------------------------------------

    def plan_faults(self, endpoint: str) -> FaultPlan:
        """Draw the fault for one request to ``endpoint`` and count it.

        :param endpoint: the endpoint name.
        """
        with self._lock:
            settings = self._faults.get(endpoint) or self._faults.get(ALL_ENDPOINTS)
            if settings is None:
                return NO_FAULT
            plan = draw(settings, endpoint, self._fault_rng)
            injected = self._faults_injected[endpoint]
            if plan.latency_seconds:
                injected[LATENCY] += 1
            if plan.kind is not None:
                injected[plan.kind] += 1
            return plan

    def count_request(self, endpoint: str, outcome: str) -> None:
        """Count one answered (or dropped) request.

        :param endpoint: the endpoint name.
        :param outcome: the HTTP status as a string, or ``"dropped"``.
        """
        with self._lock:
            self._requests[endpoint][outcome] += 1

    def admit_build_read(self) -> bool | None:
        """Ask the build read rate limit for a slot: None when the limit is off, else whether admitted.

        An admitted request must call :meth:`release_build_read` when it is done.
        """
        with self._lock:
            if not self._rate_limiter.settings.enabled:
                return None
            return self._rate_limiter.try_acquire()

    def release_build_read(self) -> None:
        """Give back a slot taken by :meth:`admit_build_read`."""
        with self._lock:
            self._rate_limiter.release()

    # Endpoints (the app) ------------------------------------------------------------------------------------

    def issue_token(self, form: Mapping[str, str], basic_credentials: tuple[str, str] | None) -> dict[str, object]:
        """``oauth2_token``: issue a client-credentials token.

        :param form: the form fields.
        :param basic_credentials: client id and secret from an HTTP Basic header, if any.
        :raises OAuthError: when the request is refused.
        """
        with self._lock:
            lifetime = self._scenario.token_lifetime_seconds
            expires_in = max(1, int(lifetime / self._clock.time_scale))
            answer = self._tokens.issue(self._scenario, form, basic_credentials, self._clock.now(), expires_in)
            self._tokens_issued += 1
            return answer

    def authenticate(self, authorization: str | None) -> Caller:
        """Find the caller of a request.

        :param authorization: the ``Authorization`` header, if any.
        :raises ErrorAnswer: 401 for a missing, unknown or expired token.
        """
        with self._lock:
            return self._tokens.authenticate(self._scenario, authorization, self._clock.now())

    def launch(self, studio_rid: str, caller: Caller) -> dict[str, Any]:
        """``launch_model_studio``: start a run with the latest config version.

        :param studio_rid: the studio.
        :param caller: who launches.
        """
        with self._lock:
            settings = self._studio(studio_rid)
            if settings.launch_denied:
                raise ErrorAnswer("LaunchModelStudioPermissionDenied", studioRid=studio_rid)
            run = self._create_run(studio_rid, settings, caller.user_id)
            self._launches[studio_rid] += 1
            return run.to_json(self._clock.now())

    def get_studio(self, studio_rid: str) -> dict[str, Any]:
        """``get_model_studio``.

        :param studio_rid: the studio.
        """
        with self._lock:
            self._studio(studio_rid)
            return catalog.studio_json(studio_rid)

    def get_config_version(self, studio_rid: str, version: int | None) -> dict[str, Any]:
        """``get_config_version`` / ``get_latest_config_version``.

        :param studio_rid: the studio.
        :param version: the version number; None for the latest.
        """
        with self._lock:
            return self._studio_configs(studio_rid).get(version)

    def create_config_version(self, studio_rid: str, body: object, caller: Caller) -> dict[str, Any]:
        """``create_config_version``: the studio's next configuration version (see :mod:`.config_versions`)."""
        with self._lock:
            return self._studio_configs(studio_rid).create(body, caller.user_id, self._clock.now())

    def list_config_versions(self, studio_rid: str, page_size: int | None, page_token: str | None) -> dict[str, Any]:
        """``list_config_versions``: newest first, paged."""
        size = _page_size(page_size)
        with self._lock:
            versions = self._studio_configs(studio_rid).versions
            index = len(versions) - 1 if page_token is None else _decode_runs_token(page_token, len(versions))
            page = versions[max(index - size + 1, 0) : index + 1][::-1]
            answer: dict[str, Any] = {"data": page}
            if index - size >= 0:
                answer["nextPageToken"] = _encode_runs_token(index - size)
            return answer

    def get_trainer(self, trainer_id: str) -> dict[str, Any]:
        """``get_trainer``."""
        return get_trainer(trainer_id)

    def list_runs(
        self, studio_rid: str, config_version: int | None, page_size: int | None, page_token: str | None
    ) -> dict[str, Any]:
        """``list_model_studio_runs``: newest first, paged.

        :param studio_rid: the studio.
        :param config_version: only runs of this config version.
        :param page_size: 1..100, default 20.
        :param page_token: a ``nextPageToken`` from a previous page.
        """
        size = _page_size(page_size)
        with self._lock:
            configs = self._studio_configs(studio_rid)
            if config_version is not None:
                configs.get(config_version)
            runs = self._runs_by_studio.get(studio_rid, [])
            index = len(runs) - 1 if page_token is None else _decode_runs_token(page_token, len(runs))
            now = self._clock.now()
            page: list[dict[str, Any]] = []
            while index >= 0 and len(page) < size:
                run = runs[index]
                index -= 1
                if config_version is None or run.config_version == config_version:
                    page.append(run.to_json(now))
            answer: dict[str, Any] = {"data": page}
            if index >= 0:
                answer["nextPageToken"] = _encode_runs_token(index)
            return answer

    def get_build(self, build_rid: str) -> dict[str, Any]:
        """``get_build``.

        :param build_rid: the build.
        """
        with self._lock:
            return self._build(build_rid).to_json(self._clock.now())

    def get_builds(self, body: object) -> dict[str, Any]:
        """``get_builds_batch``: known builds by RID; unknown ones are left out.

        :param body: the parsed JSON body, ``[{"buildRid": ...}, ...]`` (at most 100 elements).
        """
        if body is None:
            raise ErrorAnswer("MissingPostBody")
        if not isinstance(body, list) or not all(
            isinstance(element, dict) and isinstance(element.get("buildRid"), str) for element in body
        ):
            raise ErrorAnswer("Default:InvalidArgument", parameterName="body", reason='expected [{"buildRid": ...}]')
        if not body:
            raise ErrorAnswer("MissingBatchRequest")
        if len(body) > MAX_BATCH_SIZE:
            raise ErrorAnswer(
                "BatchRequestSizeExceededLimit", maximumBatchSize=MAX_BATCH_SIZE, providedBatchSize=len(body)
            )
        rids = [require_rid("buildRid", element["buildRid"]) for element in body]
        with self._lock:
            now = self._clock.now()
            return {"data": {rid: self._builds[rid].to_json(now) for rid in rids if rid in self._builds}}

    def cancel_build(self, build_rid: str) -> None:
        """``cancel_build``: a running build becomes CANCELED after the cancel delay; a finished one stays.

        :param build_rid: the build.
        """
        with self._lock:
            build = self._build(build_rid)
            studio = self._scenario.studios.get(build.studio_rid)
            if studio is not None and studio.cancel_denied:
                raise ErrorAnswer("CancelBuildPermissionDenied", buildRid=build_rid)
            now = self._clock.now()
            status, _ = build.status_at(now)
            if status not in FINAL_STATUSES and build.cancel_at is None:
                build.cancel_at = now + self._scenario.cancel_delay_seconds
            self._cancels[build_rid] += 1

    def get_model(self, model_rid: str) -> dict[str, Any]:
        """``get_model``.

        :param model_rid: the model.
        """
        with self._lock:
            return self._models.get_model(model_rid)

    def list_model_versions(
        self, model_rid: str, branch: str | None, page_size: int | None, page_token: str | None
    ) -> dict[str, Any]:
        """``list_model_versions``: newest landed first, paged.

        :param model_rid: the model.
        :param branch: only this branch; None: all.
        :param page_size: 1..100, default 20.
        :param page_token: a ``nextPageToken`` from a previous page.
        """
        with self._lock:
            return self._models.list_versions(model_rid, branch, page_size, page_token, self._clock.now())

    def get_model_version(self, model_rid: str, version_rid: str) -> dict[str, Any]:
        """``get_model_version``.

        :param model_rid: the model.
        :param version_rid: the model version.
        """
        with self._lock:
            return self._models.get_version(model_rid, version_rid)

    def promote_model_version(self, model_rid: str, body: object) -> dict[str, Any]:
        """``promote_model_version``.

        :param model_rid: the target model.
        :param body: the parsed JSON body.
        """
        with self._lock:
            return self._models.promote(model_rid, body, self._clock.now())

    def get_experiment(self, model_rid: str, experiment_rid: str) -> dict[str, Any]:
        """``get_experiment``.

        :param model_rid: the model.
        :param experiment_rid: the experiment.
        """
        with self._lock:
            return self._models.get_experiment(model_rid, experiment_rid, self._clock.now())

    def search_experiments(self, model_rid: str, body: object) -> dict[str, Any]:
        """``search_experiments``.

        :param model_rid: the model.
        :param body: the parsed JSON body, or None.
        """
        with self._lock:
            return self._models.search_experiments(model_rid, body, self._clock.now())

    def list_live_deployments(self, model_rid: str | None, branch: str | None) -> dict[str, Any]:
        """``list_live_deployments``.

        :param model_rid: the model (required).
        :param branch: only this branch; None: all.
        """
        with self._lock:
            return self._models.list_deployments(model_rid, branch, self._clock.now())

    def get_live_deployment(self, rid: str) -> dict[str, Any]:
        """``get_live_deployment``.

        :param rid: the deployment.
        """
        with self._lock:
            return self._models.get_deployment(rid, self._clock.now())

    def start_live_deployment(self, rid: str) -> None:
        """``start_live_deployment``.

        :param rid: the deployment.
        """
        with self._lock:
            self._models.start_deployment(rid, self._clock.now())

    def transform_json(self, rid: str, body: object) -> dict[str, Any]:
        """``transform_json``.

        :param rid: the deployment.
        :param body: the parsed JSON body.
        """
        with self._lock:
            return self._models.transform_json(rid, body, self._clock.now())


def _page_size(page_size: int | None) -> int:
    return page_size_within(page_size, DEFAULT_PAGE_SIZE)


def _encode_runs_token(index: int) -> str:
    return base64.urlsafe_b64encode(f"{_RUNS_PAGE_PREFIX}{index}".encode()).decode()


def _decode_runs_token(token: str, run_count: int) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        index = int(text.removeprefix(_RUNS_PAGE_PREFIX)) if text.startswith(_RUNS_PAGE_PREFIX) else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        index = -1
    if not 0 <= index < run_count:
        raise ErrorAnswer("InvalidPageToken", pageToken=token)
    return index
