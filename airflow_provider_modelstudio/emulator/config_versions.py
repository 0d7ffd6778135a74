"""The emulator's Model Studio configuration versions and trainers.

Every studio starts with version 1 (:func:`.catalog.config_version_json`); ``POST .../configVersions`` adds the
next one, checked as Foundry checks it: the trainer must exist, ``workerConfig.customConfig`` must follow the
trainer's ``customConfigSchema`` (a JSON Schema), and ``name``, ``resources`` and ``workerConfig`` must be given.
A launch uses the latest version.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.emulator import catalog
from airflow_provider_modelstudio.emulator.clock import iso
from airflow_provider_modelstudio.emulator.errors import ErrorAnswer
from airflow_provider_modelstudio.emulator.scenario import StudioSettings

TRAINERS: dict[str, dict[str, Any]] = {catalog.TRAINER_ID: catalog.trainer_json()}


def get_trainer(trainer_id: str) -> dict[str, Any]:
    """``GET /v2/models/modelStudioTrainers/{trainerId}``."""
    trainer = TRAINERS.get(trainer_id)
    if trainer is None:
        raise ErrorAnswer("ModelStudioTrainerNotFound", modelStudioTrainerTrainerId=trainer_id)
    return trainer


class StudioConfigs:
    """One studio's configuration versions, oldest first.

    :param studio_rid: the studio
    :param settings: its settings (the first version's outputs)
    """

    def __init__(self, studio_rid: str, settings: StudioSettings) -> None:
        self.studio_rid = studio_rid
        self.versions: list[dict[str, Any]] = [catalog.config_version_json(studio_rid, settings)]

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]

    def get(self, version: int | None) -> dict[str, Any]:
        if version is None:
            return self.latest
        if not 1 <= version <= len(self.versions):
            raise ErrorAnswer("ModelStudioConfigVersionNotFound", studioRid=self.studio_rid, configVersion=version)
        return self.versions[version - 1]

    def create(self, body: object, created_by: str, now: float) -> dict[str, Any]:
        """Add the next version from a ``CreateModelStudioConfigVersionRequest``; return it."""
        request = body if isinstance(body, dict) else {}
        failures = _failures(request)
        if failures:
            raise ErrorAnswer("CreateConfigValidationError", studioRid=self.studio_rid, validationFailures=failures)
        trainer = get_trainer(request["trainerId"])
        version: dict[str, Any] = {
            "name": request["name"],
            "version": len(self.versions) + 1,
            "trainerId": request["trainerId"],
            "trainer": {"trainerId": request["trainerId"], "version": trainer["version"]},
            "workerConfig": request["workerConfig"],
            "resources": request["resources"],
            "createdBy": created_by,
            "createdTime": iso(now),
        }
        if isinstance(request.get("changelog"), str):
            version["changelog"] = request["changelog"]
        self.versions.append(version)
        return version


def _failures(request: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    failures = [
        f"{field} is required and must be {kind}"
        for field, kind, ok in (
            ("name", "a non-empty string", isinstance(request.get("name"), str) and bool(request.get("name"))),
            ("trainerId", "a string", isinstance(request.get("trainerId"), str)),
            ("resources", "an object", isinstance(request.get("resources"), dict)),
            ("workerConfig", "an object", isinstance(request.get("workerConfig"), dict)),
        )
        if not ok
    ]
    if failures:
        return failures
    worker = request["workerConfig"]
    if not isinstance(worker.get("inputs"), dict) or not isinstance(worker.get("outputs"), dict):
        failures.append("workerConfig.inputs and workerConfig.outputs are required objects")
    trainer = get_trainer(request["trainerId"])
    schema = trainer["customConfigSchema"]
    validator = Draft202012Validator(schema)
    failures += [
        f"workerConfig.customConfig{''.join(f'.{p}' for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(worker.get("customConfig", {}))
    ]
    return failures
