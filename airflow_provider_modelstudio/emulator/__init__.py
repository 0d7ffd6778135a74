"""A local, fault-injectable Foundry for the Model Studio, model and live deployment endpoints the provider uses.

``FoundryEmulator`` serves Foundry's wire format (answers parse with ``foundry_sdk``'s models) on a
loopback port, from a :class:`Scenario` (tokens, OAuth2 clients, studios and how their runs end, models,
live deployments, faults, rate limits) and an adjustable clock. Run it in-process
(``with FoundryEmulator() as emu:``), from the command line (``python -m airflow_provider_modelstudio.emulator``),
or through the pytest plugin ``airflow_provider_modelstudio.emulator.pytest_plugin``. It keeps everything in
memory and is not a security boundary: bind it to loopback only. Its admin API under ``/_emulator/`` wants
:data:`ADMIN_HEADERS` on every request.

It is an optional part of the provider: install ``airflow-provider-modelstudio[emulator]`` for FastAPI and
uvicorn. Importing this package is cheap (they are imported when an emulator starts), and no runtime
module of the provider imports it.
"""

from __future__ import annotations

from airflow_provider_modelstudio.emulator.admin_access import ADMIN_HEADERS
from airflow_provider_modelstudio.emulator.model_settings import (
    LiveDeploymentSettings,
    ModelSettings,
    ModelVersionSettings,
)
from airflow_provider_modelstudio.emulator.parsing import ScenarioError
from airflow_provider_modelstudio.emulator.scenario import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_BREAKS_METRICS,
    DEMO_BREAKS_STUDIO,
    DEMO_CHAMPION_METRICS,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DENIED_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_FAILS_STUDIO,
    DEMO_METRICS,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    DEMO_WORSE_METRICS,
    DEMO_WORSE_STUDIO,
    ENDPOINT_NAMES,
    STATIC_TOKEN,
    FaultSettings,
    Scenario,
    StudioSettings,
)
from airflow_provider_modelstudio.emulator.server import FoundryEmulator

__all__ = [
    "ADMIN_HEADERS",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEMO_BREAKS_METRICS",
    "DEMO_BREAKS_STUDIO",
    "DEMO_CHAMPION_METRICS",
    "DEMO_CHAMPION_SOURCE_VERSION",
    "DEMO_CHAMPION_VERSION",
    "DEMO_DENIED_STUDIO",
    "DEMO_DEPLOYMENT",
    "DEMO_FAILS_STUDIO",
    "DEMO_METRICS",
    "DEMO_PROD_MODEL",
    "DEMO_STUDIO",
    "DEMO_STUDIO_MODEL",
    "DEMO_WORSE_METRICS",
    "DEMO_WORSE_STUDIO",
    "ENDPOINT_NAMES",
    "STATIC_TOKEN",
    "FaultSettings",
    "FoundryEmulator",
    "LiveDeploymentSettings",
    "ModelSettings",
    "ModelVersionSettings",
    "Scenario",
    "ScenarioError",
    "StudioSettings",
]
