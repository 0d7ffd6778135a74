"""Constants and small helpers shared by the Foundry client and hook tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.settings import FoundrySettings

DEMO = "ri.models.main.model-studio.demo"
DEMO_FAILS = "ri.models.main.model-studio.demo-fails"
DEMO_DENIED = "ri.models.main.model-studio.demo-denied"
MISSING_STUDIO = "ri.models.main.model-studio.does-not-exist"
STATIC_TOKEN = "emulator-token"
CLIENT_ID = "emulator-client"
CLIENT_SECRET = "emulator-secret"

FAST_RETRY: dict[str, Any] = {"max_attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05, "max_elapsed": 5}
"""Retry bounds that keep failing tests fast."""


def settings_from(conn: dict[str, Any], conn_id: str = "foundry_default") -> FoundrySettings:
    """Checked settings from connection JSON (as ``FoundryEmulator.connection()`` returns it)."""
    fields = {k: v for k, v in conn.items() if k != "extra"}
    extra = conn.get("extra")
    return FoundrySettings.from_connection(
        Connection(conn_id=conn_id, extra=json.dumps(extra) if extra else None, **fields)
    )


def requests_of(counters: dict[str, Any], endpoint: str) -> dict[str, int]:
    """``{"<status>": n}`` of one endpoint in ``FoundryEmulator.counters()``."""
    return dict(counters["requests"].get(endpoint, {}))


class ProtocolClock:
    """The monotonic clock of :mod:`airflow_provider_modelstudio.foundry.protocol`, moved only by the test."""

    def __init__(self) -> None:
        self.now = 50.0

    def monotonic(self) -> float:
        return self.now


@dataclass
class FakeClock:
    """Stands in for ``time`` in a module that settles writes (launch, promote, config versions): sleeping advances
    it."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
