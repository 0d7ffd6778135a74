"""Fixtures for the emulator's tests: one shared emulator reset before each test, private ones on demand."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from tests.emulator.helpers import api_client


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[FoundryEmulator]:
    with FoundryEmulator() as emulator:
        yield emulator


@pytest.fixture
def emu(shared_emulator: FoundryEmulator) -> FoundryEmulator:
    """The shared emulator, back at the default scenario with no runs and zeroed counters."""
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture
def client(emu: FoundryEmulator) -> Iterator[httpx.Client]:
    """An httpx client on the shared emulator with the static token."""
    with api_client(emu) as http:
        yield http
