"""Builds, read from ``Build`` and getBatch answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_modelstudio.foundry.shapes.reading import json_object, text


@dataclass(frozen=True, slots=True)
class Build:
    """A ``Build``: what waiting on it needs.

    :param rid: the build's RID as answered (None when absent)
    :param status: ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``CANCELED`` or a status Foundry adds later; None when
        the answer carries no usable status
    :param created_time: ISO-8601
    :param finished_time: ISO-8601, once final
    """

    rid: str | None
    status: str | None
    created_time: str | None = None
    finished_time: str | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET build") -> Build:
        body = json_object(answer, what)
        return cls(
            text(body.get("rid")), build_status(body), text(body.get("createdTime")), text(body.get("finishedTime"))
        )


def build_status(answer: Any) -> str | None:
    """The ``status`` of a ``Build`` answer; None when the answer carries no usable status."""
    status = answer.get("status") if isinstance(answer, dict) else None
    return status if isinstance(status, str) and status.strip() else None


def batch_statuses(answer: Any) -> dict[str, str | None]:
    """``{buildRid: status}`` from a getBatch answer; a build without a usable status maps to None.

    Builds Foundry did not return are absent. Only the statuses are kept, so a poll round over thousands of
    builds does not hold their full JSON.
    """
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return {}
    return {rid: build_status(build) for rid, build in data.items() if isinstance(rid, str)}


def batch_builds(answer: Any) -> dict[str, Build]:
    """``{buildRid: Build}`` from a getBatch answer; builds Foundry did not return, or not as objects, are absent."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return {}
    return {rid: Build.from_json(b) for rid, b in data.items() if isinstance(rid, str) and isinstance(b, dict)}
