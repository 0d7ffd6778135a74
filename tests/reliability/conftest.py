"""Fixtures of the fault-injection suite.

- ``soak``: True under ``MODELSTUDIO_SOAK=1`` (``make soak``): the long form, more runs.
- ``start_emulator`` (from the root conftest): private emulators, stopped after the test.
- ``use_emulator``: point ``AIRFLOW_CONN_<ID>`` at an emulator, with extra connection fields.
- ``issued_tokens``: every OAuth2 access token the emulators issue during the test, as issued.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator

UseEmulator = Callable[..., str]


@pytest.fixture
def soak() -> bool:
    return os.environ.get("MODELSTUDIO_SOAK") == "1"


@pytest.fixture
def use_emulator(monkeypatch: pytest.MonkeyPatch) -> UseEmulator:
    """``use_emulator(emu, auth="oauth2", conn_id="foundry_default", password=None, **extra)``: set the
    connection (``password`` replaces the token or client secret); return its id."""

    def use(
        emulator: FoundryEmulator,
        auth: str = "oauth2",
        conn_id: str = "foundry_default",
        password: str | None = None,
        **extra: Any,
    ) -> str:
        connection = emulator.connection(auth)
        if password is not None:
            connection["password"] = password
        if extra:
            connection["extra"] = {**connection.get("extra", {}), **extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return conn_id

    return use


@pytest.fixture
def issued_tokens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token any emulator issues while the test runs (recorded where the emulator makes them)."""
    from airflow_provider_modelstudio.emulator.state import EmulatorState

    issued: list[str] = []
    original = EmulatorState.issue_token

    def record(self: EmulatorState, *args: Any, **kwargs: Any) -> dict[str, object]:
        answer = original(self, *args, **kwargs)
        issued.append(str(answer["access_token"]))
        return answer

    monkeypatch.setattr(EmulatorState, "issue_token", record)
    return issued
