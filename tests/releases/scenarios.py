"""What the provider's tasks push in the demo's three scenarios (success, worse, rollback), shaped as the launch,
gate and deploy operators push it, for :class:`tests.releases.conftest.Records`."""

from __future__ import annotations

from typing import Any

DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.demo"
CHAMPION = "ri.models.main.model-version.demo-champion"
PROD_MODEL = "ri.models.main.model.demo-production"
FOUNDRY = "http://127.0.0.1:9"
Tasks = dict[str, dict[str, Any]]


def rows(auc: float, loss: float, champion: tuple[float, float] = (0.88, 0.25)) -> list[dict[str, Any]]:
    """The gate table of ``retrain_then_deploy``: two thresholds, two comparisons with the champion."""

    def row(
        metric: str, check: str, value: float, best: float | None, threshold: str, *, passed: bool
    ) -> dict[str, Any]:
        verdict = "PASS" if passed else "FAIL"
        return {
            "metric": metric,
            "check": check,
            "candidate": value,
            "champion": best,
            "threshold": threshold,
            "verdict": verdict,
            "note": "",
        }

    return [
        row("val_auc:LAST", "threshold", auc, None, ">= 0.85", passed=auc >= 0.85),
        row("val_loss:LAST", "threshold", loss, None, "<= 0.3", passed=loss <= 0.3),
        row("val_auc:LAST", "champion", auc, champion[0], ">= champion", passed=auc >= champion[0]),
        row("val_loss:LAST", "champion", loss, champion[1], "<= champion", passed=loss <= champion[1]),
    ]


def train(studio: str, version: str, model: str = "ri.models.main.model.churn") -> dict[str, Any]:
    build_url = f"{FOUNDRY}/workspace/data-integration/job-tracker/builds/ri.foundry-build.main.build.{version[-4:]}"
    return {
        "build_url": build_url,
        "build_rid": f"ri.foundry-build.main.build.{version[-4:]}",
        "return_value": {
            "model_studio_rid": studio,
            "run_id": "abc",
            "build_status": "SUCCEEDED",
            "build_url": build_url,
            "model_rid": model,
            "model_version_rid": version,
        },
    }


def gate(
    version: str,
    passed: bool,
    table: list[dict[str, Any]],
    name: str | None = "Churn classifier",
    model: str = "ri.models.main.model.churn",
) -> dict[str, Any]:
    verdict = {
        "passed": passed,
        "model_rid": model,
        "model_version_rid": version,
        "experiment_rid": "ri.models.main.experiment.x",
        "experiment_status": "SUCCEEDED",
        "champion": {
            "source": f"live deployment {DEPLOYMENT}",
            "model_rid": PROD_MODEL,
            "model_version_rid": CHAMPION,
            "experiment_rid": "ri.models.main.experiment.c",
            "note": "",
        },
        "model_name": name,
        "champion_live_deployment_rid": DEPLOYMENT,
        "foundry_conn_id": "foundry_default",
    }
    pushed: dict[str, Any] = {"gate": table, "gate_verdict": verdict}
    if passed:
        pushed["return_value"] = {**verdict, "rows": table}
    return pushed


def deploy(version: str, promoted: str, *, rolled_back_to: str | None = None) -> dict[str, Any]:
    state = {
        "model_rid": PROD_MODEL,
        "branch": "master",
        "candidate_version_rid": version,
        "promoted_version_rid": promoted,
        "previous_version_rid": CHAMPION,
        "adopted": False,
        "phase": "deploy",
        "problem": None,
    }
    result = {
        "live_deployment_rid": DEPLOYMENT,
        "model_rid": PROD_MODEL,
        "branch": "master",
        "candidate_version_rid": version,
        "promoted_version_rid": promoted,
        "previous_version_rid": CHAMPION,
        "served_version_rid": promoted,
        "state": "ACTIVE",
        "smoke_test_output": {"prediction": 0.06},
        "smoke_test_latency_ms": 5.0,
        "rolled_back": False,
    }
    pushed: dict[str, Any] = {
        "deploy_target": {"live_deployment_rid": DEPLOYMENT, "foundry_conn_id": "foundry_default"},
        "live_deployment_url": f"{FOUNDRY}/workspace/ml/live/{DEPLOYMENT}",
        "model_version_url": f"{FOUNDRY}/workspace/ml/models/{PROD_MODEL}/versions/{promoted}",
    }
    if rolled_back_to is None:
        pushed["deploy_state"] = state
        pushed["return_value"] = result
        return pushed
    problem = f"live deployment {DEPLOYMENT} is FAILED (not ready)"
    pushed["deploy_state"] = {**state, "phase": "rollback", "problem": problem, "rollback_version_rid": rolled_back_to}
    pushed["deploy_result"] = {
        **result,
        "served_version_rid": rolled_back_to,
        "smoke_test_output": None,
        "smoke_test_latency_ms": None,
        "rolled_back": True,
    }
    return pushed


def success(version: str = "ri.models.main.model-version.good") -> Tasks:
    promoted = version + "-copy"
    return {
        "train": train("ri.models.main.model-studio.demo", version),
        "gate": gate(version, True, rows(0.91, 0.21)),
        "deploy": deploy(version, promoted),
    }


def worse(version: str = "ri.models.main.model-version.worse") -> Tasks:
    return {
        "train": train("ri.models.main.model-studio.demo-worse", version),
        "gate": gate(version, False, rows(0.84, 0.31)),
    }


def rollback(version: str = "ri.models.main.model-version.breaks") -> Tasks:
    return {
        "train": train("ri.models.main.model-studio.demo-breaks", version),
        "gate": gate(version, True, rows(0.92, 0.2)),
        "deploy": deploy(version, version + "-copy", rolled_back_to=CHAMPION + "-copy"),
    }
