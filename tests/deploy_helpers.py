"""Helpers for the deploy half's tests: a trained candidate version on the emulator's default scenario."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.emulator import (
    DEMO_BREAKS_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_WORSE_STUDIO,
    FoundryEmulator,
)

__all__ = [
    "DEMO_BREAKS_STUDIO",
    "DEMO_DEPLOYMENT",
    "DEMO_PROD_MODEL",
    "DEMO_STUDIO",
    "DEMO_WORSE_STUDIO",
    "served",
    "trained_candidate",
]


def trained_candidate(emulator: FoundryEmulator, studio: str = DEMO_STUDIO) -> str:
    """Run the studio once to success on the emulator; return the model version RID its run wrote."""
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    run = ModelStudioHook().launch_model_studio(studio)
    emulator.advance(10)
    rid: str = run["resolved_outputs"]["model"]["modelVersionRid"]
    return rid


def served(emulator: FoundryEmulator, deployment: str = DEMO_DEPLOYMENT) -> tuple[str, str, bool]:
    """What the deployment serves now: version, state, ready."""
    found: dict[str, Any] = emulator.live_deployments()[deployment]
    return found["modelVersion"]["modelVersionRid"], found["status"]["state"], found["status"]["isReady"]


def promoted_from(version: dict[str, Any], source_version_rid: str) -> bool:
    """Whether ``version`` (Foundry's JSON, as the emulator lists it) is a promoted copy of ``source_version_rid``."""
    from airflow_provider_modelstudio.foundry.shapes import ModelVersion

    return ModelVersion.from_json(version).promoted_from(source_version_rid)
