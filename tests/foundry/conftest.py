"""Fixtures of the contract's unit tests."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry import protocol
from tests.foundry.support import ProtocolClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ProtocolClock:
    fake = ProtocolClock()
    monkeypatch.setattr(protocol, "time", fake)
    return fake
