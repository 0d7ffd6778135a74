"""Fixtures of the trigger tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from airflow_provider_modelstudio.runs import waiting

FAR = 300.0
"""A deadline this far away is never reached by the clock: only :func:`deadline_once` ends such a wait."""


@pytest.fixture
def deadline_once(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], bool]], float]:
    """Give a wait a deadline that passes once a condition holds (e.g. "three reads were made"), not at a
    wall-clock time, so that a slow machine changes how long a test takes, never what it sees.

    Returns a function taking the condition and returning the deadline to give the trigger.
    """
    conditions: list[Callable[[], bool]] = []

    def now() -> float:
        passed = any(condition() for condition in conditions)
        return time.time() + (2 * FAR if passed else 0.0)

    monkeypatch.setattr(waiting, "time", SimpleNamespace(time=now))

    def deadline(condition: Callable[[], bool]) -> float:
        conditions.append(condition)
        return time.time() + FAR

    return deadline
