"""The emulator's scenario: who may call, which studios and models exist, how runs and deployments go, faults.

A scenario is plain, immutable data, read from a JSON object with :meth:`Scenario.from_dict` (unknown
keys are rejected with a message naming them; missing keys take the defaults below) and written back with
:meth:`Scenario.to_dict`. The default scenario (:meth:`Scenario.default`) is the documented contract the
demo and the tests rely on:

- static token ``emulator-token`` with every scope the contract's endpoints need (:data:`ALL_SCOPES`);
- OAuth2 client ``emulator-client`` / ``emulator-secret`` granted the same scopes;
- ``ri.models.main.model-studio.demo`` (runs succeed after 5 s), ``...demo-fails`` (runs fail after 5 s)
  and ``...demo-denied`` (launch answers 403), each with config version 1 and one output alias ``model``;
- retrain-then-deploy: the production model :data:`DEMO_PROD_MODEL` whose version on master,
  :data:`DEMO_CHAMPION_VERSION`, is promoted from a version of the demo studio's model with val_auc 0.88
  and val_loss 0.25; the live deployment :data:`DEMO_DEPLOYMENT` follows that branch (ACTIVE, ready, ready
  again 3 s after a new version lands); the demo studio's runs report val_auc 0.91 / val_loss 0.21,
  ``...demo-worse`` 0.84 / 0.31, and ``...demo-breaks`` 0.92 / 0.20 but a deployment of its versions fails;
- tokens live 3600 s, cancellation takes 1 s, seed 0, no faults, no rate limit.

This module does not run anything; the state and the server read it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_modelstudio.emulator.ids import is_rid, studio_output_model_rid
from airflow_provider_modelstudio.emulator.model_settings import (
    LiveDeploymentSettings,
    ModelSettings,
    ModelVersionSettings,
    check_metrics,
)
from airflow_provider_modelstudio.emulator.parsing import (
    ScenarioError,
    coerce,
    mapping,
    number_at_least,
    parse_flat,
)
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS

DEMO_STUDIO = "ri.models.main.model-studio.demo"
DEMO_FAILS_STUDIO = "ri.models.main.model-studio.demo-fails"
DEMO_DENIED_STUDIO = "ri.models.main.model-studio.demo-denied"
DEMO_WORSE_STUDIO = "ri.models.main.model-studio.demo-worse"
DEMO_BREAKS_STUDIO = "ri.models.main.model-studio.demo-breaks"
DEMO_STUDIO_MODEL = studio_output_model_rid(DEMO_STUDIO, "model")
"""The model DEMO_STUDIO's runs write their versions into (its output ``model``)."""
DEMO_CHAMPION_SOURCE_VERSION = "ri.models.main.model-version.demo-champion-source"
"""An earlier version of DEMO_STUDIO_MODEL, whose linked experiment has val_auc 0.88 and val_loss 0.25."""
DEMO_PROD_MODEL = "ri.models.main.model.demo-production"
DEMO_CHAMPION_VERSION = "ri.models.main.model-version.demo-champion"
"""The production model's version on master: promoted from DEMO_CHAMPION_SOURCE_VERSION (no experiment of its own)."""
DEMO_DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.demo"
"""A direct live deployment of DEMO_PROD_MODEL's master branch, serving DEMO_CHAMPION_VERSION."""
DEMO_METRICS = {"val_auc": 0.91, "val_loss": 0.21}
DEMO_CHAMPION_METRICS = {"val_auc": 0.88, "val_loss": 0.25}
DEMO_WORSE_METRICS = {"val_auc": 0.84, "val_loss": 0.31}
DEMO_BREAKS_METRICS = {"val_auc": 0.92, "val_loss": 0.2}
STATIC_TOKEN = "emulator-token"
CLIENT_ID = "emulator-client"
CLIENT_SECRET = "emulator-secret"
ALL_ENDPOINTS = "*"
ENDPOINT_NAMES: frozenset[str] = frozenset(ENDPOINTS)
"""The endpoint names faults may target (besides ``"*"``), as the contract names them."""
CREATING_ENDPOINTS: frozenset[str] = frozenset(name for name, endpoint in ENDPOINTS.items() if not endpoint.idempotent)
"""The endpoints that create something, where ``drop_after_create`` applies."""
ALL_SCOPES: tuple[str, ...] = tuple(sorted({endpoint.scope for endpoint in ENDPOINTS.values() if endpoint.scope}))
"""Every scope some endpoint of the contract needs."""
OUTCOMES = ("SUCCEEDED", "FAILED", "CANCELED")


@dataclass(frozen=True)
class StudioSettings:
    """How one Model Studio behaves.

    :param outcome: final status of each launched run's build: SUCCEEDED, FAILED or CANCELED.
    :param duration_seconds: emulator-time seconds from launch to the final status.
    :param duration_jitter_seconds: up to this many seconds added to each run's duration (seeded).
    :param launch_denied: launch answers 403 LaunchModelStudioPermissionDenied (GET still works).
    :param cancel_denied: cancelling this studio's builds answers 403 CancelBuildPermissionDenied.
    :param outputs: output aliases; each launched run gets one model version per alias.
    :param omit_resolved_outputs: leave ``resolvedOutputs`` out of run JSON (optional in the public docs).
    :param omit_build_status: leave ``buildStatus`` out of run JSON (it is optional).
    :param metrics: metric name to value: the summary metrics of each run's experiment (see
        :mod:`.metrics` for how MIN, MAX and LAST are derived); none: experiments without metrics.
    :param breaks_deployments: a live deployment that rolls out a version this studio made (or a promoted
        copy of one) goes FAILED.
    """

    outcome: str = "SUCCEEDED"
    duration_seconds: float = 5.0
    duration_jitter_seconds: float = 0.0
    launch_denied: bool = False
    cancel_denied: bool = False
    outputs: tuple[str, ...] = ("model",)
    omit_resolved_outputs: bool = False
    omit_build_status: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    breaks_deployments: bool = False

    def __post_init__(self) -> None:
        check_metrics(self.metrics, "metrics")
        if self.outcome not in OUTCOMES:
            raise ScenarioError(f"outcome must be one of {', '.join(OUTCOMES)}, got {self.outcome!r}")
        number_at_least(self.duration_seconds, 0, "duration_seconds")
        number_at_least(self.duration_jitter_seconds, 0, "duration_jitter_seconds")
        if len(set(self.outputs)) != len(self.outputs) or "" in self.outputs:
            raise ScenarioError(f"outputs must be distinct non-empty aliases, got {list(self.outputs)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "studio") -> StudioSettings:
        """Read studio settings, rejecting unknown keys.

        :param data: the settings as a JSON object.
        :param where: where they come from, for error messages.
        """
        return parse_flat(cls, data, where)


@dataclass(frozen=True)
class ClientSettings:
    """An OAuth2 client (a third-party application).

    :param secret: the client secret.
    :param scopes: the scopes the application was granted.
    """

    secret: str
    scopes: tuple[str, ...] = ALL_SCOPES


@dataclass(frozen=True)
class RateLimitSettings:
    """The build read rate limit (get_build and get_builds_batch together, all callers together).

    :param enabled: whether the limit applies.
    :param per_second: at most this many requests in any one-second window (real time).
    :param concurrent: at most this many requests in flight.
    """

    enabled: bool = False
    per_second: int = 4
    concurrent: int = 25

    def __post_init__(self) -> None:
        number_at_least(self.per_second, 1, "per_second")
        number_at_least(self.concurrent, 1, "concurrent")


@dataclass(frozen=True)
class FaultSettings:
    """Faults for one endpoint. Rates are probabilities per request, drawn from ``random.Random(seed)``;
    at most one of them fires per request, so they must add up to at most 1.

    :param rate_429: answer 429 (empty body, like a QoS throttle).
    :param retry_after_seconds: with 429/503, send ``Retry-After`` (whole seconds, rounded up); None: none.
    :param rate_503: answer 503 (empty body, like a QoS unavailable).
    :param do_not_retry_hint: with 429/503, send ``QoS-Retry-Hint: do-not-retry``.
    :param rate_500: answer 500 with an INTERNAL error envelope.
    :param rate_502: answer 502 with an empty body.
    :param rate_504: answer 504 with an empty body.
    :param latency_seconds: real seconds added before every answer of the endpoint.
    :param rate_drop: close the connection without any answer.
    :param rate_hang: wait ``hang_seconds`` (real time) before processing and answering.
    :param hang_seconds: how long a hang lasts.
    :param rate_html: answer 502 with an HTML page, as a proxy would.
    :param rate_truncated_json: process normally, then send only the first half of the body.
    :param drop_after_create: launch only: create the run, then close the connection without an answer.
    """

    rate_429: float = 0.0
    retry_after_seconds: float | None = None
    rate_503: float = 0.0
    do_not_retry_hint: bool = False
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_504: float = 0.0
    latency_seconds: float = 0.0
    rate_drop: float = 0.0
    rate_hang: float = 0.0
    hang_seconds: float = 30.0
    rate_html: float = 0.0
    rate_truncated_json: float = 0.0
    drop_after_create: float = 0.0

    def __post_init__(self) -> None:
        rates = self.rates()
        for kind, rate in rates:
            if not 0 <= rate <= 1:
                raise ScenarioError(f"the rate of fault {kind!r} must be within 0..1, got {rate}")
        total = sum(rate for _, rate in rates)
        if total > 1 + 1e-9:
            raise ScenarioError(f"fault rates add up to {total:g}; at most one fault fires, so keep it <= 1")
        number_at_least(self.latency_seconds, 0, "latency_seconds")
        number_at_least(self.hang_seconds, 0, "hang_seconds")
        if self.retry_after_seconds is not None:
            number_at_least(self.retry_after_seconds, 0, "retry_after_seconds")

    def rates(self) -> tuple[tuple[str, float], ...]:
        """The fault kinds and their rates, in the order they are drawn."""
        return (
            ("drop", self.rate_drop),
            ("hang", self.rate_hang),
            ("429", self.rate_429),
            ("503", self.rate_503),
            ("500", self.rate_500),
            ("502", self.rate_502),
            ("504", self.rate_504),
            ("html", self.rate_html),
            ("truncated_json", self.rate_truncated_json),
            ("drop_after_create", self.drop_after_create),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "faults") -> FaultSettings:
        """Read fault settings, rejecting unknown keys.

        :param data: the settings as a JSON object.
        :param where: where they come from, for error messages.
        """
        return parse_flat(cls, data, where)


def _default_static_tokens() -> dict[str, tuple[str, ...]]:
    return {STATIC_TOKEN: ALL_SCOPES}


def _default_clients() -> dict[str, ClientSettings]:
    return {CLIENT_ID: ClientSettings(secret=CLIENT_SECRET, scopes=ALL_SCOPES)}


def _default_studios() -> dict[str, StudioSettings]:
    return {
        DEMO_STUDIO: StudioSettings(outcome="SUCCEEDED", metrics=dict(DEMO_METRICS)),
        DEMO_FAILS_STUDIO: StudioSettings(outcome="FAILED"),
        DEMO_DENIED_STUDIO: StudioSettings(launch_denied=True),
        DEMO_WORSE_STUDIO: StudioSettings(metrics=dict(DEMO_WORSE_METRICS)),
        DEMO_BREAKS_STUDIO: StudioSettings(metrics=dict(DEMO_BREAKS_METRICS), breaks_deployments=True),
    }


def _default_models() -> dict[str, ModelSettings]:
    champion_source = ModelVersionSettings(
        DEMO_CHAMPION_SOURCE_VERSION, studio=DEMO_STUDIO, metrics=dict(DEMO_CHAMPION_METRICS)
    )
    champion = ModelVersionSettings(DEMO_CHAMPION_VERSION, promoted_from=DEMO_CHAMPION_SOURCE_VERSION)
    return {
        DEMO_STUDIO_MODEL: ModelSettings(versions=(champion_source,)),
        DEMO_PROD_MODEL: ModelSettings(versions=(champion,)),
    }


def _default_live_deployments() -> dict[str, LiveDeploymentSettings]:
    return {DEMO_DEPLOYMENT: LiveDeploymentSettings(model=DEMO_PROD_MODEL)}


@dataclass(frozen=True)
class Scenario:
    """Everything the emulator serves. ``Scenario()`` is the default scenario.

    :param seed: seed of the random draws (faults and duration jitter).
    :param token_lifetime_seconds: emulator-time lifetime of OAuth2 tokens.
    :param cancel_delay_seconds: emulator-time delay between a cancel request and CANCELED.
    :param static_tokens: bearer tokens that never expire, with their scopes.
    :param clients: OAuth2 clients by client id.
    :param studios: Model Studios by RID.
    :param build_rate_limit: the build read rate limit.
    :param faults: fault settings by endpoint name, or ``"*"`` for every endpoint without its own entry.
    :param models: models by RID, with their seeded versions (each lands when the scenario is loaded).
    :param live_deployments: direct live deployments by RID.
    :param failing_model_versions: a live deployment that rolls out one of these versions (or a promoted
        copy of one) goes FAILED.
    """

    seed: int = 0
    token_lifetime_seconds: float = 3600.0
    cancel_delay_seconds: float = 1.0
    static_tokens: dict[str, tuple[str, ...]] = field(default_factory=_default_static_tokens)
    clients: dict[str, ClientSettings] = field(default_factory=_default_clients)
    studios: dict[str, StudioSettings] = field(default_factory=_default_studios)
    build_rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    faults: dict[str, FaultSettings] = field(default_factory=dict)
    models: dict[str, ModelSettings] = field(default_factory=_default_models)
    live_deployments: dict[str, LiveDeploymentSettings] = field(default_factory=_default_live_deployments)
    failing_model_versions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        number_at_least(self.token_lifetime_seconds, 1, "token_lifetime_seconds")
        number_at_least(self.cancel_delay_seconds, 0, "cancel_delay_seconds")
        for kind, rids in (
            ("studio key", self.studios),
            ("model key", self.models),
            ("live deployment key", self.live_deployments),
            ("failing_model_versions entry", self.failing_model_versions),
        ):
            for rid in rids:
                if not is_rid(rid):
                    raise ScenarioError(f"{kind} {rid!r} is not a well-formed RID")
        for endpoint, settings in self.faults.items():
            check_fault_target(endpoint, settings)
        self._check_seeded_versions()
        for rid, deployment in self.live_deployments.items():
            model = self.models.get(deployment.model)
            if model is None or all(version.branch != deployment.branch for version in model.versions):
                raise ScenarioError(
                    f"live_deployments[{rid!r}] follows branch {deployment.branch!r} of model {deployment.model!r}, "
                    "which has no seeded version there: add the model to 'models' with a version on that branch, "
                    "or leave the deployment out of 'live_deployments' (given 'models', give 'live_deployments' too)"
                )

    def _check_seeded_versions(self) -> None:
        seen: set[str] = set()
        for model_rid, model in self.models.items():
            for version in model.versions:
                where = f"models[{model_rid!r}] version {version.rid!r}"
                if version.rid in seen:
                    raise ScenarioError(f"{where} appears twice; version RIDs must be unique")
                if version.promoted_from is not None and version.promoted_from not in seen:
                    raise ScenarioError(
                        f"{where} is promoted from {version.promoted_from!r}, which is not a version seeded "
                        "before it; list the source version first"
                    )
                seen.add(version.rid)

    @classmethod
    def default(cls) -> Scenario:
        """The documented default scenario."""
        return cls()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Read a scenario from a JSON object; missing keys take their defaults.

        :param data: the scenario.
        :raises ScenarioError: on an unknown key, a wrong type or an out-of-range value.
        """
        data = mapping(data, "scenario")
        plain = {name: value for name, value in data.items() if name not in _NESTED_KEYS}
        scenario = parse_flat(cls, plain, "scenario")
        nested: dict[str, Any] = {}
        if "static_tokens" in data:
            tokens = mapping(data["static_tokens"], "static_tokens")
            nested["static_tokens"] = {
                token: coerce(tuple[str, ...], scopes, f"static_tokens[{token!r}]") for token, scopes in tokens.items()
            }
        if "clients" in data:
            clients = mapping(data["clients"], "clients")
            nested["clients"] = {
                client: parse_flat(ClientSettings, settings, f"clients[{client!r}]")
                for client, settings in clients.items()
            }
        if "studios" in data:
            studios = mapping(data["studios"], "studios")
            nested["studios"] = {
                rid: StudioSettings.from_dict(settings, f"studios[{rid!r}]") for rid, settings in studios.items()
            }
        if "build_rate_limit" in data:
            nested["build_rate_limit"] = parse_flat(RateLimitSettings, data["build_rate_limit"], "build_rate_limit")
        if "models" in data:
            models = mapping(data["models"], "models")
            nested["models"] = {
                rid: ModelSettings.from_dict(settings, f"models[{rid!r}]") for rid, settings in models.items()
            }
        if "live_deployments" in data:
            deployments = mapping(data["live_deployments"], "live_deployments")
            nested["live_deployments"] = {
                rid: parse_flat(LiveDeploymentSettings, settings, f"live_deployments[{rid!r}]")
                for rid, settings in deployments.items()
            }
        if "faults" in data:
            faults = mapping(data["faults"], "faults")
            nested["faults"] = {
                endpoint: FaultSettings.from_dict(settings, f"faults[{endpoint!r}]")
                for endpoint, settings in faults.items()
            }
        return dataclasses.replace(scenario, **nested)

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        """Read a scenario from a JSON file.

        :param path: the file.
        """
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        """The scenario as a JSON-able dict that :meth:`from_dict` reads back."""
        data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self)))
        return data

    def with_studio(self, rid: str, settings: StudioSettings) -> Scenario:
        """A copy with one studio added or replaced.

        :param rid: the studio's RID.
        :param settings: how it behaves.
        """
        return dataclasses.replace(self, studios={**self.studios, rid: settings})


def check_fault_target(endpoint: str, settings: FaultSettings) -> None:
    """Check that fault settings may apply to ``endpoint``.

    :param endpoint: an endpoint name or ``"*"``.
    :param settings: the settings for it.
    :raises ScenarioError: for an unknown endpoint, or ``drop_after_create`` outside launch.
    """
    if endpoint != ALL_ENDPOINTS and endpoint not in ENDPOINT_NAMES:
        raise ScenarioError(
            f"unknown endpoint {endpoint!r} in faults; use '*' or one of {', '.join(sorted(ENDPOINT_NAMES))}"
        )
    if settings.drop_after_create and endpoint != ALL_ENDPOINTS and endpoint not in CREATING_ENDPOINTS:
        creating = " and ".join(sorted(CREATING_ENDPOINTS))
        raise ScenarioError(f"drop_after_create applies to {creating} only, not {endpoint!r}")


_NESTED_KEYS = frozenset(
    {"static_tokens", "clients", "studios", "build_rate_limit", "faults", "models", "live_deployments"}
)
