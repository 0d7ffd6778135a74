"""Live deployments and inference, read from ``LiveDeployment`` and ``transformJson`` answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError
from airflow_provider_modelstudio.foundry.shapes.reading import json_object, mapping, text


@dataclass(frozen=True, slots=True)
class LiveDeployment:
    """A ``LiveDeployment``: what it serves and how it is.

    Its fields are plain values, so it travels as it is in trigger events (``dataclasses.asdict``).

    :param rid: the deployment
    :param state: ``status.state``: ``ACTIVE``, ``STARTING``, ``DEGRADED``, ``DISABLED``, ``FAILED`` or a later one;
        None when absent
    :param ready: ``status.isReady`` (only ``true`` counts)
    :param model_rid: the model it serves from (``modelVersion.modelRid``)
    :param version_rid: the model version it serves now (``modelVersion.modelVersionRid``)
    :param branch: the branch it follows (direct deployments)
    """

    rid: str
    state: str | None
    ready: bool
    model_rid: str | None
    version_rid: str | None
    branch: str | None

    @classmethod
    def from_json(cls, answer: Any, *, rid: str, what: str = "GET live deployment") -> LiveDeployment:
        """:param rid: the deployment asked for (a listing's entries name their own)"""
        body = json_object(answer, what)
        status = mapping(body.get("status"))
        served = mapping(body.get("modelVersion"))
        return cls(
            rid=rid,
            state=text(status.get("state")),
            ready=status.get("isReady") is True,
            model_rid=text(served.get("modelRid")),
            version_rid=text(served.get("modelVersionRid")),
            branch=text(body.get("branch")),
        )

    @classmethod
    def listed(cls, answer: Any) -> LiveDeployment:
        """An entry of a listing, which must name its own RID."""
        rid = text(mapping(answer).get("rid"))
        if rid is None:
            raise FoundryAnswerError("A listed live deployment has no rid.")
        return cls.from_json(answer, rid=rid)

    def describe(self) -> str:
        readiness = "ready" if self.ready else "not ready"
        return f"{self.state or 'no state'} ({readiness}), serving {self.version_rid or 'nothing'}"


@dataclass(frozen=True, slots=True)
class Inference:
    """A ``transformJson`` answer.

    :param output: its ``output`` object; None when the answer has none (a smoke test fails on that)
    :param answer: the whole answer, for messages (already redacted)
    """

    output: dict[str, Any] | None
    answer: Any

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "transformJson") -> Inference:
        output = json_object(answer, what).get("output")
        return cls(output if isinstance(output, dict) else None, answer)
