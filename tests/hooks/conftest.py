"""The hook tests' common fixture: a hook on the emulator's connection."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook


@pytest.fixture
def hook(emulator: FoundryEmulator, connect: Callable[..., ModelStudioHook]) -> ModelStudioHook:
    """A hook on the emulator, with fast retries."""
    return connect(emulator)
