"""Scenarios: the documented default, reading JSON strictly, and changing the scenario of a running emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_modelstudio.emulator import (
    DEMO_DENIED_STUDIO,
    DEMO_FAILS_STUDIO,
    DEMO_STUDIO,
    FaultSettings,
    FoundryEmulator,
    Scenario,
    ScenarioError,
    StudioSettings,
)
from tests.emulator.helpers import PREVIEW, STUDIOS, launch

CONTRACT_SCOPES = [
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
