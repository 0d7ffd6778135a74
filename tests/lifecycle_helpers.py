"""Helpers for running operators and sensors outside a scheduler: a task instance that records XCom pushes,
a dict-backed task state store, and the way to catch a deferral on every supported Airflow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import TaskDeferred  # type: ignore[attr-defined,no-redef]

DEMO = "ri.models.main.model-studio.demo"
DEMO_FAILS = "ri.models.main.model-studio.demo-fails"
DEMO_DENIED = "ri.models.main.model-studio.demo-denied"
FAST = {"max_attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05, "max_elapsed": 5}

__all__ = [
    "DEMO",
    "DEMO_DENIED",
    "DEMO_FAILS",
    "FAST",
    "FakeTI",
    "StateStore",
    "TaskDeferred",
    "context",
    "run_trigger",
]


class FakeTI:
    """Records ``xcom_push`` calls in order, and answers ``xcom_pull`` of this task's own keys."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}
        self.start_date = datetime.now(UTC)
        self.task_id = "launch"
        self.map_index = -1
        self.dag_id = "dag"
        self.run_id = "run"
        self.try_number = 1

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, key: str = "return_value", **_: Any) -> Any:
        return self.pushed.get(key)


class StateStore:
    """The task state store of Airflow 3.3, kept in a dict that outlives one try."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value


def context(store: StateStore | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ti": FakeTI()}
    if store is not None:
        ctx["task_state_store"] = store
    return ctx


def run_trigger(trigger: Any) -> dict[str, Any]:
    """Run a trigger to its first event in a fresh event loop (as ``dag.test()`` does); return the payload."""

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())
