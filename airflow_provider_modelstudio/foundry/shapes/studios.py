"""Model Studios and their configuration versions, read from ``ModelStudio`` and ``ModelStudioConfigVersion``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelstudio.foundry.shapes.reading import integer, json_object, mapping, text


@dataclass(frozen=True, slots=True)
class ModelStudio:
    """A ``ModelStudio``.

    :param rid: its RID as answered
    :param folder_rid: the folder it is in
    :param created_time: ISO-8601
    """

    rid: str | None
    folder_rid: str | None = None
    created_time: str | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET Model Studio") -> ModelStudio:
        body = json_object(answer, what)
        return cls(text(body.get("rid")), text(body.get("folderRid")), text(body.get("createdTime")))


@dataclass(frozen=True, slots=True)
class ConfigInput:
    """One input of a configuration's worker (``workerConfig.inputs``).

    :param alias: its alias in the configuration
    :param type: ``dataset`` or another (future) kind
    :param rid: the input's RID, when it has one
    """

    alias: str
    type: str | None
    rid: str | None


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """A ``ModelStudioConfigVersion``: what lineage and launches with a configuration read.

    :param version: its number; None when absent
    :param name: its name
    :param trainer_id: the trainer it runs
    :param inputs: the worker's inputs, in the configuration's order
    :param created_time: ISO-8601
    :param custom_config: the trainer's parameters (``workerConfig.customConfig``), as Foundry sent them
    :param changelog: what changed in this version
    :param worker_config: ``workerConfig`` as Foundry sent it, to derive the next version from (see
        :func:`~airflow_provider_modelstudio.foundry.config_versions.next_version_body`)
    :param resources: ``resources`` as Foundry sent them, likewise
    """

    version: int | None
    name: str | None = None
    trainer_id: str | None = None
    inputs: tuple[ConfigInput, ...] = ()
    created_time: str | None = None
    custom_config: dict[str, Any] | None = None
    changelog: str | None = None
    worker_config: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    resources: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET config version") -> ConfigVersion:
        body = json_object(answer, what)
        worker = mapping(body.get("workerConfig"))
        inputs = mapping(worker.get("inputs"))
        custom = worker.get("customConfig")
        return cls(
            integer(body.get("version")),
            text(body.get("name")),
            text(body.get("trainerId")),
            tuple(
                ConfigInput(alias, text(item.get("type")), text(item.get("rid")))
                for alias, item in inputs.items()
                if isinstance(item, dict)
            ),
            text(body.get("createdTime")),
            custom if isinstance(custom, dict) else None,
            text(body.get("changelog")),
            worker,
            mapping(body.get("resources")),
        )

    @property
    def datasets(self) -> tuple[str, ...]:
        """The RIDs of its dataset inputs, in the configuration's order."""
        return tuple(item.rid for item in self.inputs if item.type == "dataset" and item.rid is not None)


@dataclass(frozen=True, slots=True)
class Trainer:
    """A ``ModelStudioTrainer``: what a configuration for it may hold.

    :param trainer_id: its id
    :param version: its version
    :param name: its name
    :param custom_config_schema: the JSON Schema ``workerConfig.customConfig`` must follow; None when Foundry gives
        none (anything goes)
    """

    trainer_id: str | None
    version: str | None = None
    name: str | None = None
    custom_config_schema: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET trainer") -> Trainer:
        body = json_object(answer, what)
        schema = body.get("customConfigSchema")
        return cls(
            text(body.get("trainerId")),
            text(body.get("version")),
            text(body.get("name")),
            schema if isinstance(schema, dict) else None,
        )
