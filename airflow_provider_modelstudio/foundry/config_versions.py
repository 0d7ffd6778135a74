"""Creating a Model Studio configuration version without ever making two.

``POST .../configVersions`` is not idempotent: each call makes the next version. After a failure that may
have reached Foundry (see :func:`~.writes.may_have_written`), the studio's versions are listed for a settling
window: a version newer than those noted before, holding what was asked (name, trainer, changelog, custom
configuration, inputs), is adopted; none means creating again is safe (once); several is an error naming
them. This module does not decide what to create: the launch operator does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_provider_modelstudio.foundry.errors import ConfigVersionOutcomeUnknown, FoundryConfigError, FoundryError
from airflow_provider_modelstudio.foundry.shapes import ConfigVersion
from airflow_provider_modelstudio.foundry.shapes.reading import mapping
from airflow_provider_modelstudio.foundry.writes import may_have_written

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0
"""How long a lost creation is looked for before creating again."""


def next_version_body(
    latest: ConfigVersion,
    *,
    custom_config: Mapping[str, Any],
    resources: Mapping[str, Any],
    input_datasets: Mapping[str, str],
    name: str,
    changelog: str,
) -> dict[str, Any]:
    """A ``CreateModelStudioConfigVersionRequest``: ``latest`` with the given custom configuration (whole),
    resources and dataset inputs (merged over its own), name and changelog; its outputs and trainer unchanged.

    :param input_datasets: dataset RIDs by input alias; each alias must be one of ``latest``'s inputs
    """
    worker = dict(latest.worker_config)
    inputs = dict(mapping(worker.get("inputs")))
    for alias, rid in input_datasets.items():
        spec = inputs.get(alias)
        if not isinstance(spec, dict) or spec.get("type") != "dataset":
            known = ", ".join(
                sorted(a for a, s in inputs.items() if isinstance(s, dict) and s.get("type") == "dataset")
            )
            raise FoundryConfigError(
                f"input_datasets has the alias {alias!r}, which is not a dataset input of configuration version "
                f"{latest.version}; its dataset inputs are: {known or 'none'}. Use one of those aliases."
            )
        inputs[alias] = {**spec, "rid": rid}
    return {
        "name": name,
        "trainerId": latest.trainer_id,
        "resources": {**latest.resources, **resources},
        "changelog": changelog,
        "workerConfig": {**worker, "customConfig": dict(custom_config), "inputs": inputs},
    }


def same_request(version: ConfigVersion, asked: ConfigVersion) -> bool:
    """Whether ``version`` holds what ``asked`` (the request, read as a version) asked for."""
    return (version.name, version.trainer_id, version.changelog, version.custom_config or {}, version.datasets) == (
        asked.name,
        asked.trainer_id,
        asked.changelog,
        asked.custom_config or {},
        asked.datasets,
    )


def create_once(
    create: Callable[[], ConfigVersion],
    list_versions: Callable[[], Sequence[ConfigVersion]],
    asked: ConfigVersion,
    *,
    sleep: Callable[[float], None] = time.sleep,
    settle: float = SETTLE_SECONDS,
) -> ConfigVersion:
    """Create the version ``asked`` describes and return it; never two from one call.

    :param create: sends the POST (one attempt and its safe retries)
    :param list_versions: lists the studio's versions
    :param asked: the request's body read as a version, to recognise it
    :param sleep: how to wait while looking for a lost creation
    :param settle: seconds to look for it
    :raises ConfigVersionOutcomeUnknown: when whether it was made cannot be found out, or several match
    """
    known = {version.version for version in list_versions()}
    failure: FoundryError | None = None
    for _ in range(2):
        try:
            return create()
        except FoundryError as exc:
            if not may_have_written(exc):
                raise
            failure = exc
        made = _appeared(list_versions, known, asked, sleep=sleep, settle=settle, failure=failure)
        if len(made) == 1:
            log.warning(
                "Creating the configuration version got no usable answer (%s), but Foundry made version %s: "
                "adopting it.",
                failure,
                made[0].version,
            )
            return made[0]
        if made:
            raise ConfigVersionOutcomeUnknown(
                f"Creating a configuration version got no answer ({failure}) and {len(made)} matching versions "
                f"appeared meanwhile ({', '.join(str(v.version) for v in made)}); someone else created the same "
                "configuration. Nothing was created again: check the studio's versions in Foundry."
            ) from failure
        log.warning("Creating the configuration version failed (%s) and made none; creating it again.", failure)
    raise ConfigVersionOutcomeUnknown(
        f"Creating a configuration version failed twice ({failure}) and none appeared. Nothing else was created; "
        "retry the task once Foundry answers again."
    ) from failure


def _appeared(
    list_versions: Callable[[], Sequence[ConfigVersion]],
    known: set[int | None],
    asked: ConfigVersion,
    *,
    sleep: Callable[[float], None],
    settle: float,
    failure: FoundryError,
) -> list[ConfigVersion]:
    deadline = time.monotonic() + settle
    while True:
        try:
            versions = list_versions()
        except FoundryError as exc:
            raise ConfigVersionOutcomeUnknown(
                f"Creating a configuration version got no answer ({failure}), and the studio's versions could not "
                f"be listed to find out whether it was made ({exc}). Nothing was created again: check the studio "
                "in Foundry."
            ) from exc
        made = [v for v in versions if v.version not in known and same_request(v, asked)]
        remaining = deadline - time.monotonic()
        if made or remaining <= 0:
            return made
        sleep(min(1.0, remaining))
