"""Dataset branches and transactions, read from ``Branch`` and ``Transaction`` answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_modelstudio.foundry.shapes.reading import json_object, text


@dataclass(frozen=True, slots=True)
class DatasetBranch:
    """A dataset's ``Branch``.

    :param name: the branch's name
    :param transaction_rid: its most recent OPEN or COMMITTED transaction (never an ABORTED one); None for a branch
        that has none yet
    """

    name: str | None
    transaction_rid: str | None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET dataset branch") -> DatasetBranch:
        body = json_object(answer, what)
        return cls(text(body.get("name")), text(body.get("transactionRid")))


@dataclass(frozen=True, slots=True)
class Transaction:
    """A dataset ``Transaction``.

    :param rid: its RID as answered
    :param type: ``APPEND``, ``UPDATE``, ``SNAPSHOT``, ``DELETE`` or a later one (``transactionType``)
    :param status: ``OPEN``, ``COMMITTED``, ``ABORTED`` or a later one
    :param created_time: ISO-8601
    :param closed_time: ISO-8601, once committed or aborted
    """

    rid: str | None
    type: str | None
    status: str | None
    created_time: str | None = None
    closed_time: str | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET transaction") -> Transaction:
        body = json_object(answer, what)
        return cls(
            text(body.get("rid")),
            text(body.get("transactionType")),
            text(body.get("status")),
            text(body.get("createdTime")),
            text(body.get("closedTime")),
        )
