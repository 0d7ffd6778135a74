"""The emulator's configuration versions and trainer: creation checked against the trainer's schema, the next
number each time, and launches that use the latest version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from foundry_sdk.v2.models.models import ModelStudioConfigVersion, ModelStudioTrainer

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.emulator.catalog import TRAINER_ID
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import DEMO, requests_of
from tests.hooks.test_hook_async_twins import new_config_version_body


@pytest.fixture
def hook(emulator: FoundryEmulator, connect: Callable[..., ModelStudioHook]) -> ModelStudioHook:
    return connect(emulator)


def test_a_created_version_is_the_next_one_and_launches_use_it(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    made = hook.create_config_version(DEMO, new_config_version_body(hook, max_depth=3))
    assert made.version == 2
    assert hook.get_latest_config_version(DEMO) == made == hook.get_config_version(DEMO, 2)
    run = hook.launch_model_studio(DEMO)
    assert run["config_version"] == 2
    assert [r["run_id"] for r in hook.list_model_studio_runs(DEMO, config_version=2)] == [run["run_id"]]
    assert hook.list_model_studio_runs(DEMO, config_version=1) == []


@pytest.mark.parametrize(
    ("custom", "failure"),
    [
        ({"learning_rate": "fast"}, "workerConfig.customConfig.learning_rate: 'fast' is not of type 'number'"),
        ({"max_depth": 0}, "workerConfig.customConfig.max_depth: 0 is less than the minimum of 1"),
        ({"momentum": 0.9}, "Additional properties are not allowed ('momentum' was unexpected)"),
    ],
)
def test_a_custom_configuration_outside_the_trainers_schema_is_refused_naming_the_field(
    emulator: FoundryEmulator, hook: ModelStudioHook, custom: dict[str, Any], failure: str
) -> None:
    with pytest.raises(errors.FoundryApiError, match="CreateConfigValidationError") as info:
        hook.create_config_version(DEMO, new_config_version_body(hook, **custom))
    assert failure in str(info.value)
    assert requests_of(emulator.counters(), "create_config_version") == {"400": 1}
    assert [v.version for v in hook.list_config_versions(DEMO)] == [1]


def test_an_unknown_trainer_is_refused(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    body = {**new_config_version_body(hook), "trainerId": "ri.models.main.trainer.unknown"}
    with pytest.raises(errors.FoundryNotFound, match="ModelStudioTrainerNotFound"):
        hook.create_config_version(DEMO, body)
    with pytest.raises(errors.FoundryNotFound, match="ModelStudioTrainerNotFound"):
        hook.get_trainer("ri.models.main.trainer.unknown")


def test_the_sdk_reads_the_trainer_and_a_created_version(hook: ModelStudioHook) -> None:
    trainer = ModelStudioTrainer.model_validate(hook.client.call("get_trainer", {"trainerId": TRAINER_ID}))
    assert trainer.trainer_id == TRAINER_ID
    assert hook.get_trainer(TRAINER_ID).custom_config_schema == trainer.custom_config_schema
    made = hook.create_config_version(DEMO, new_config_version_body(hook, n_estimators=50))
    raw = hook.client.call("get_config_version", {"modelStudioRid": DEMO, "configVersion": made.version})
    assert ModelStudioConfigVersion.model_validate(raw).version == made.version == 2


def test_versions_are_listed_newest_first_across_pages(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    for depth in range(2, 25):
        hook.create_config_version(DEMO, new_config_version_body(hook, max_depth=depth))
    assert [v.version for v in hook.list_config_versions(DEMO)] == list(range(24, 0, -1))
    path = {"modelStudioRid": DEMO}
    first = hook.client.call("list_config_versions", path, {"pageSize": 10})
    second = hook.client.call("list_config_versions", path, {"pageSize": 10, "pageToken": first["nextPageToken"]})
    third = hook.client.call("list_config_versions", path, {"pageSize": 10, "pageToken": second["nextPageToken"]})
    pages = [[v["version"] for v in page["data"]] for page in (first, second, third)]
    assert pages == [list(range(24, 14, -1)), list(range(14, 4, -1)), [4, 3, 2, 1]]
    assert "nextPageToken" not in third
