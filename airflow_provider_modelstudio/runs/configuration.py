"""Launching with a configuration this task chose, and proving the run used it.

Foundry launches a studio with its latest configuration version, so a launch with parameters is two writes: create
the next version (the latest, with this task's custom configuration, resources, dataset inputs, name and
changelog), then launch. The custom configuration is checked against the trainer's ``customConfigSchema`` before
anything is created. Launches of one studio from this Airflow take turns through a lock (an Airflow Variable, see
:mod:`airflow_provider_modelstudio.deploys.deploy_lock`) held from creating to launching, a few seconds; another
launcher (outside Airflow, or a stale lock taken over) can still slip in between, so the run's ``configVersion``
is checked: a run of another version is cancelled and the task fails naming both versions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.deploys.deploy_lock import Holder, LockStore, give_back, take
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.foundry.rids import DATASET, validate_rid
from airflow_provider_modelstudio.runs.arguments import is_template

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.shapes import Run
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

LAUNCH_LOCK_PREFIX = "modelstudio_launch_lock."
LOCK_WAIT_SECONDS = 600.0
"""How long a launch waits for another launch of the same studio to finish creating and launching."""
LOCK_CHECK_SECONDS = 5.0


class LaunchBusy(FoundryError):
    """Another task instance is creating a configuration version and launching the same studio."""


class ConfigurationOvertaken(FoundryError):
    """Foundry launched the run with another configuration version than the one this task created."""


@dataclass(frozen=True)
class Configuration:
    """What a launch changes of the studio's latest configuration.

    :param custom_config: keys of ``workerConfig.customConfig`` to set (the others keep the latest's values)
    :param training_resources: keys of the configuration's ``resources`` to set (``memory``, ``cpu``, ``gpu``)
    :param input_datasets: dataset RIDs by input alias, for inputs of the latest configuration
    :param name: the new version's name
    :param changelog: the new version's changelog
    """

    custom_config: Mapping[str, Any] | None = None
    training_resources: Mapping[str, Any] | None = None
    input_datasets: Mapping[str, str] | None = None
    name: str | None = None
    changelog: str | None = None

    @property
    def given(self) -> bool:
        """Whether the launch creates a configuration version at all."""
        return any(value is not None for value in vars(self).values())

    def check(self, *, rendered: bool) -> None:
        """Refuse values that cannot be right, naming the argument (templates are checked once rendered)."""
        for name in ("custom_config", "training_resources", "input_datasets"):
            value = getattr(self, name)
            if value is None or (not rendered and is_template(value)):
                continue
            if not isinstance(value, Mapping) or not all(isinstance(key, str) and key for key in value):
                raise FoundryConfigError(
                    f"{name}={value!r:.200} must be a dict with string keys, e.g. {_EXAMPLES[name]}."
                )
        for alias, rid in (self.input_datasets or {}).items() if isinstance(self.input_datasets, Mapping) else ():
            if rendered or not is_template(rid):
                validate_rid(rid, DATASET, field=f"input_datasets[{alias!r}]")
        for name in ("name", "changelog"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise FoundryConfigError(f"config_{name}={value!r:.200} must be a non-empty string or None.")


_EXAMPLES = {
    "custom_config": "{'learning_rate': 0.05}",
    "training_resources": "{'memory': '16G'}",
    "input_datasets": "{'training_data': 'ri.foundry.main.dataset.<uuid>'}",
}


def schema_problems(schema: Mapping[str, Any] | None, custom_config: Mapping[str, Any]) -> list[str]:
    """What in ``custom_config`` the trainer's JSON Schema refuses, each naming the field; none without a schema."""
    if not schema:
        return []
    from jsonschema import Draft202012Validator

    return sorted(
        f"custom_config{''.join(f'[{part!r}]' for part in error.absolute_path)}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(dict(custom_config))
    )


def launch_configured(
    hook: ModelStudioHook,
    studio_rid: str,
    configuration: Configuration,
    *,
    holder: Holder,
    store: LockStore,
    log: Any,
    sleep: Callable[[float], None] | None = None,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> Run:
    """Create the studio's next configuration version and launch it; return the run, which used that version.

    :param holder: the task instance launching (the lock names it)
    :param store: where the launch lock lives
    :param sleep: how to wait for the lock (default ``time.sleep``)
    :raises FoundryConfigError: the studio has no configuration, or ``configuration`` does not fit it
    :raises ConfigurationOvertaken: Foundry launched another version (that run is cancelled)
    """
    from airflow_provider_modelstudio.foundry.config_versions import next_version_body
    from airflow_provider_modelstudio.runs.ownership import cancel_build

    latest = hook.get_latest_config_version(studio_rid)
    if latest is None:
        raise FoundryConfigError(
            f"Model Studio {studio_rid} has no configuration version to start from; create one in Foundry first."
        )
    custom = {**(latest.custom_config or {}), **(configuration.custom_config or {})}
    trainer = hook.get_trainer(latest.trainer_id) if latest.trainer_id else None
    problems = schema_problems(trainer.custom_config_schema if trainer else None, custom)
    if problems:
        raise FoundryConfigError(
            f"Not launching {studio_rid}: the custom configuration does not fit trainer {latest.trainer_id}'s schema: "
            f"{'; '.join(problems)}. Fix custom_config; nothing was created."
        )
    body = next_version_body(
        latest,
        custom_config=custom,
        resources=configuration.training_resources or {},
        input_datasets=configuration.input_datasets or {},
        name=configuration.name or f"{latest.name or 'configuration'} from Airflow",
        changelog=configuration.changelog or f"Created by {holder.describe()}.",
    )
    key = LAUNCH_LOCK_PREFIX + studio_rid
    _take_waiting(store, key, holder, log, sleep=sleep or time.sleep, lock_wait=lock_wait)
    try:
        version = hook.create_config_version(studio_rid, body)
        log.info("Created configuration version %s of %s; launching it.", version.version, studio_rid)
        run = hook.launch_model_studio(studio_rid)
    finally:
        give_back(store, key, holder)
    if run["config_version"] != version.version:
        what = f"it used configuration version {run['config_version']}, not {version.version}"
        outcome = cancel_build(hook, run["build_rid"], why=what, log=log)
        raise ConfigurationOvertaken(
            f"Foundry launched run {run['run_id']} of {studio_rid} with configuration version {run['config_version']}, "
            f"not version {version.version}, which this task created: another launcher created a version in "
            f"between. The run's build was {outcome}. Nothing trains with another configuration on this task's "
            "behalf; retry the task to create its configuration again."
        )
    return run


def _take_waiting(
    store: LockStore, key: str, me: Holder, log: Any, *, sleep: Callable[[float], None], lock_wait: float
) -> None:
    """Take the launch lock, waiting while another task instance holds it, at most ``lock_wait`` seconds."""
    waited = 0.0
    while True:
        try:
            take(store, key, me, log, lambda other, how: _busy(key, other, how))
            return
        except LaunchBusy as busy:
            if waited >= lock_wait:
                raise
            if waited == 0:
                log.info("Waiting for the launch lock %s: %s", key, busy)
        sleep(LOCK_CHECK_SECONDS)
        waited += LOCK_CHECK_SECONDS


def _busy(key: str, other: Holder | None, how: str) -> LaunchBusy:
    who = other.describe() if other is not None else "another task"
    return LaunchBusy(
        f"{who} is creating a configuration version and launching the same studio, {how}. If that task is gone, "
        f"delete the Airflow Variable {key!r}."
    )
