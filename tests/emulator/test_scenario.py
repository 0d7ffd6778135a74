"""Scenarios: the documented default, reading JSON strictly, and changing the scenario of a running emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_modelstudio.emulator import (
    DEMO_BREAKS_METRICS,
    DEMO_BREAKS_STUDIO,
    DEMO_CHAMPION_METRICS,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DENIED_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_FAILS_STUDIO,
    DEMO_METRICS,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    DEMO_WORSE_METRICS,
    DEMO_WORSE_STUDIO,
    FaultSettings,
    FoundryEmulator,
    LiveDeploymentSettings,
    ModelSettings,
    ModelVersionSettings,
    Scenario,
    ScenarioError,
    StudioSettings,
)
from tests.emulator.helpers import MODELS, PREVIEW, STUDIOS, launch, live_deployment

CONTRACT_SCOPES = [
    "api:datasets-read",
    "api:models-execute",
    "api:models-read",
    "api:models-write",
    "api:orchestration-read",
    "api:orchestration-write",
]


def test_default_scenario_is_the_documented_one() -> None:
    scenario = Scenario.default().to_dict()

    assert scenario["static_tokens"] == {"emulator-token": CONTRACT_SCOPES}
    assert scenario["clients"] == {"emulator-client": {"secret": "emulator-secret", "scopes": CONTRACT_SCOPES}}
    assert (scenario["seed"], scenario["token_lifetime_seconds"], scenario["cancel_delay_seconds"]) == (0, 3600, 1)
    studios = scenario["studios"]
    assert (studios[DEMO_STUDIO]["outcome"], studios[DEMO_STUDIO]["duration_seconds"]) == ("SUCCEEDED", 5)
    assert (studios[DEMO_FAILS_STUDIO]["outcome"], studios[DEMO_FAILS_STUDIO]["duration_seconds"]) == ("FAILED", 5)
    assert studios[DEMO_DENIED_STUDIO]["launch_denied"] is True
    assert {tuple(studio["outputs"]) for studio in studios.values()} == {("model",)}
    assert scenario["faults"] == {}
    assert scenario["build_rate_limit"]["enabled"] is False


def test_scenario_round_trips_through_its_dict() -> None:
    scenario = Scenario.from_dict({"seed": 7, "faults": {"*": {"rate_503": 0.1}}})

    assert Scenario.from_dict(scenario.to_dict()) == scenario


def test_missing_keys_take_the_defaults() -> None:
    scenario = Scenario.from_dict({"studios": {DEMO_STUDIO: {"outcome": "FAILED"}}})

    assert scenario.studios == {DEMO_STUDIO: StudioSettings(outcome="FAILED")}
    assert scenario.static_tokens == Scenario.default().static_tokens


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"sede": 1}, "sede"),
        ({"studios": {DEMO_STUDIO: {"outcomes": "FAILED"}}}, "outcomes"),
        ({"clients": {"c": {"secret": "s", "scope": []}}}, "scope"),
        ({"build_rate_limit": {"per_minute": 3}}, "per_minute"),
        ({"faults": {"get_build": {"rate_404": 0.5}}}, "rate_404"),
    ],
)
def test_unknown_keys_are_rejected_by_name(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ScenarioError, match=f"unknown key '{key}'"):
        Scenario.from_dict(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"seed": "zero"}, "must be an integer"),
        ({"studios": {DEMO_STUDIO: {"duration_seconds": "5"}}}, "must be a number"),
        ({"studios": {DEMO_STUDIO: {"outcome": "DONE"}}}, "outcome must be one of"),
        ({"studios": {"demo": {}}}, "not a well-formed RID"),
        ({"clients": {"c": {"scopes": []}}}, "missing key 'secret'"),
        ({"faults": {"get_bulid": {}}}, "unknown endpoint 'get_bulid'"),
        ({"faults": {"*": {"rate_500": 0.7, "rate_503": 0.7}}}, "add up to"),
        ({"faults": {"*": {"rate_500": 1.5}}}, "within 0..1"),
        ({"static_tokens": {"t": "api:models-read"}}, "list of strings"),
    ],
)
def test_invalid_values_are_rejected_with_a_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(data)


def test_scenario_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"cancel_delay_seconds": 3}), encoding="utf-8")

    assert Scenario.from_file(path).cancel_delay_seconds == 3


def test_fault_settings_reject_unknown_keys() -> None:
    with pytest.raises(ScenarioError, match="unknown key 'rate_999'"):
        FaultSettings.from_dict({"rate_999": 1})


def test_set_scenario_keeps_existing_runs(emu: FoundryEmulator, client: httpx.Client) -> None:
    launch(client)

    emu.set_scenario({"studios": {DEMO_STUDIO: {"launch_denied": True}}})

    assert len(emu.runs()) == 1
    assert client.post(f"{STUDIOS}/{DEMO_STUDIO}/launch", params=PREVIEW).status_code == 403


def test_reset_goes_back_to_the_scenario_given_at_start(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_scenario({"studios": {}})

    emu.reset()

    assert client.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW).status_code == 200


def test_add_studio_serves_a_new_studio(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.add_studio("ri.models.main.model-studio.extra", duration_seconds=1)

    build_rid = launch(client, "ri.models.main.model-studio.extra")["buildRid"]
    emu.advance(1)

    assert emu.builds()[build_rid]["status"] == "SUCCEEDED"


def test_scenario_from_a_dict_configures_a_new_emulator() -> None:
    with FoundryEmulator(scenario={"static_tokens": {"other-token": ["api:models-read"]}}) as emulator:
        assert emulator.connection() == {"conn_type": "foundry", "host": emulator.url, "password": "other-token"}


# The deploy half ----------------------------------------------------------------------------------------

SEEDED = "ri.models.main.model.seeded"
SEEDED_VERSION = "ri.models.main.model-version.seeded-1"


def last_values(experiment: dict[str, Any]) -> dict[str, float]:
    return {m["seriesName"]: m["value"] for m in experiment["summaryMetrics"] if m["aggregation"] == "LAST"}


def test_default_scenario_deployment_serves_the_champion_active_and_ready(client: httpx.Client) -> None:
    deployment = live_deployment(client, DEMO_DEPLOYMENT)

    assert deployment["modelVersion"] == {"modelRid": DEMO_PROD_MODEL, "modelVersionRid": DEMO_CHAMPION_VERSION}
    assert (deployment["branch"], deployment["status"]) == ("master", {"state": "ACTIVE", "isReady": True})


def test_default_scenario_champion_is_promoted_from_a_version_with_the_champion_metrics(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    champion = client.get(f"{MODELS}/{DEMO_PROD_MODEL}/versions/{DEMO_CHAMPION_VERSION}", params=PREVIEW).json()
    source = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}/versions/{DEMO_CHAMPION_SOURCE_VERSION}", params=PREVIEW).json()
    experiment = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}/experiments/{source['linkedExperiment']}", params=PREVIEW)

    assert champion["source"] == {
        "type": "promoted",
        "previousModelRid": DEMO_STUDIO_MODEL,
        "previousModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION,
    }
    assert last_values(experiment.json()) == DEMO_CHAMPION_METRICS == {"val_auc": 0.88, "val_loss": 0.25}


def test_default_scenario_studios_make_a_better_a_worse_and_a_breaking_candidate() -> None:
    studios = Scenario.default().studios

    assert (studios[DEMO_STUDIO].metrics, DEMO_METRICS) == (DEMO_METRICS, {"val_auc": 0.91, "val_loss": 0.21})
    assert studios[DEMO_WORSE_STUDIO].metrics == DEMO_WORSE_METRICS == {"val_auc": 0.84, "val_loss": 0.31}
    assert studios[DEMO_BREAKS_STUDIO].metrics == DEMO_BREAKS_METRICS
    assert [rid for rid, studio in studios.items() if studio.breaks_deployments] == [DEMO_BREAKS_STUDIO]


def test_default_scenario_deployment_takes_three_seconds_to_serve_a_new_version() -> None:
    assert Scenario.default().live_deployments[DEMO_DEPLOYMENT].ready_seconds == 3


def test_models_and_live_deployments_round_trip_through_the_scenario_dict() -> None:
    scenario = Scenario.from_dict(
        {
            "models": {SEEDED: {"versions": [{"rid": SEEDED_VERSION, "metrics": {"f1": 0.5}}], "promote_denied": True}},
            "live_deployments": {"ri.foundry-ml-live.main.live-deployment.x": {"model": SEEDED, "ready_seconds": 1}},
            "failing_model_versions": [SEEDED_VERSION],
        }
    )

    assert Scenario.from_dict(scenario.to_dict()) == scenario
    assert scenario.models[SEEDED] == ModelSettings(
        versions=(ModelVersionSettings(SEEDED_VERSION, metrics={"f1": 0.5}),), promote_denied=True
    )
    assert scenario.live_deployments["ri.foundry-ml-live.main.live-deployment.x"] == LiveDeploymentSettings(
        model=SEEDED, ready_seconds=1
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"models": {SEEDED: {"versions": [{"rid": SEEDED_VERSION, "promoted_from": "ri.a.b.c.d"}]}}},
            "list the source",
        ),
        ({"models": {SEEDED: {"versions": [{"rid": SEEDED_VERSION}, {"rid": SEEDED_VERSION}]}}}, "appears twice"),
        (
            {
                "models": {
                    SEEDED: {
                        "versions": [{"rid": SEEDED_VERSION, "studio": DEMO_STUDIO, "promoted_from": "ri.a.b.c.d"}]
                    }
                }
            },
            "not both",
        ),
        (
            {
                "models": {
                    SEEDED: {
                        "versions": [
                            {"rid": SEEDED_VERSION, "promoted_from": DEMO_CHAMPION_SOURCE_VERSION, "metrics": {"f1": 1}}
                        ]
                    }
                }
            },
            "no experiment of its own",
        ),
        ({"models": {SEEDED: {"versions": [{"rid": SEEDED_VERSION, "metrics": {"f1": "high"}}]}}}, "object of numbers"),
        ({"models": {SEEDED: {"versions": [{"rid": SEEDED_VERSION, "brnach": "x"}]}}}, "unknown key 'brnach'"),
        ({"models": {SEEDED: {"versions": {}}}}, "must be a list"),
        ({"live_deployments": {"ri.foundry-ml-live.main.live-deployment.x": {"model": SEEDED}}}, "no seeded version"),
        ({"live_deployments": {"x": {"model": DEMO_PROD_MODEL}}}, "not a well-formed RID"),
        (
            {"live_deployments": {"ri.a.b.c.d": {"model": DEMO_PROD_MODEL, "ready_seconds": -1}}},
            "ready_seconds must be >= 0",
        ),
        ({"studios": {DEMO_STUDIO: {"metrics": {"": 1}}}}, "metric names must not be empty"),
        ({"failing_model_versions": ["v1"]}, "not a well-formed RID"),
    ],
)
def test_invalid_deploy_settings_are_rejected_with_a_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(data)


def test_set_scenario_seeds_new_models_and_keeps_versions_made_so_far(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    output = launch(client)["resolvedOutputs"]["model"]

    emu.set_scenario({"models": {SEEDED: {"versions": [{"rid": SEEDED_VERSION}]}}, "live_deployments": {}})

    assert [version["rid"] for version in emu.model_versions(SEEDED)] == [SEEDED_VERSION]
    answer = client.get(f"{MODELS}/{output['modelRid']}/versions/{output['modelVersionRid']}", params=PREVIEW)
    assert answer.status_code == 200


def test_reset_forgets_promotions(emu: FoundryEmulator, client: httpx.Client) -> None:
    client.post(
        f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion",
        params=PREVIEW,
        json={"sourceModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION},
    )

    emu.reset()

    assert [version["rid"] for version in emu.model_versions(DEMO_PROD_MODEL)] == [DEMO_CHAMPION_VERSION]


def test_set_scenario_refuses_a_seeded_version_that_is_already_another_models_and_changes_nothing(
    emu: FoundryEmulator,
) -> None:
    clash = {"models": {SEEDED: {"versions": [{"rid": DEMO_CHAMPION_VERSION}]}}, "live_deployments": {}, "seed": 5}

    with pytest.raises(ScenarioError, match="already a version of model"):
        emu.set_scenario(clash)

    assert (emu.model_versions(DEMO_PROD_MODEL)[0]["rid"], emu.live_deployments().keys()) == (
        DEMO_CHAMPION_VERSION,
        {DEMO_DEPLOYMENT},
    )
