"""pytest fixtures that start a Foundry emulator for a test.

Opt in with ``pytest_plugins = ["airflow_provider_modelstudio.emulator.pytest_plugin"]``.

- ``foundry_emulator``: a :class:`FoundryEmulator` with the default scenario on fast time
  (:data:`FAST_TIME_SCALE`: the demo studio's 5 s runs finish in 0.5 s), started for one test.
- ``foundry_connection``: the same emulator, with ``AIRFLOW_CONN_FOUNDRY_DEFAULT`` pointing at it
  (static token) for the test's duration.

Importing this module does not import FastAPI or uvicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_modelstudio.emulator.server import FoundryEmulator

FAST_TIME_SCALE = 10.0
"""Emulator seconds per real second in the fixtures."""


@pytest.fixture
def foundry_emulator() -> Iterator[FoundryEmulator]:
    """A running emulator with the default scenario on fast time, stopped after the test."""
    from airflow_provider_modelstudio.emulator.server import FoundryEmulator

    with FoundryEmulator(time_scale=FAST_TIME_SCALE) as emulator:
        yield emulator


@pytest.fixture
def foundry_connection(foundry_emulator: FoundryEmulator, monkeypatch: pytest.MonkeyPatch) -> FoundryEmulator:
    """The ``foundry_emulator``, with ``AIRFLOW_CONN_FOUNDRY_DEFAULT`` set to its static-token connection."""
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", foundry_emulator.connection_env())
    return foundry_emulator
