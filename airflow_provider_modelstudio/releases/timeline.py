"""Releases from the provider's records: one per retrain's candidate version, grouped per live deployment and per
studio, with the gate's metrics as series for the trend charts.

Within a DAG run, the launch, gate, promote and deploy tasks that name the same candidate version make one
release. A task that names none (a failed training run, a gate recorded before ``gate_verdict`` existed, a deploy
that failed before promoting) joins the run's only release, or makes one of its own when the run has several.
A release belongs to a live deployment when its deploy task deployed to it or its gate's champion is the version
it serves; to a studio when its launch task trained in it.

Everything here is plain data in, JSON-safe dicts out: no database, no Foundry, no Airflow.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from airflow_provider_modelstudio.deploys.gate import GATE_VERDICT_XCOM_KEY, GATE_XCOM_KEY
from airflow_provider_modelstudio.links.foundry import (
    BUILD_URL_XCOM_KEY,
    LIVE_DEPLOYMENT_URL_XCOM_KEY,
    MODEL_VERSION_URL_XCOM_KEY,
)
from airflow_provider_modelstudio.operators.model_versions import DEPLOY_STATE_KEY, DEPLOY_TARGET_KEY
from airflow_provider_modelstudio.releases.records import (
    DEPLOY_RESULT_KEY,
    PREVIOUS_KEY,
    PROMOTED_KEY,
    RETURN_VALUE,
    History,
    RunInfo,
    TaskRecord,
)

KINDS = ("train", "gate", "promote", "deploy")
UNFINISHED = frozenset(
    {"running", "deferred", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "restarting"}
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

Release = dict[str, Any]


def kind_of(record: TaskRecord) -> str | None:
    """Which provider task pushed these values: ``train``, ``gate``, ``promote``, ``deploy`` (None: none of them)."""
    values = record.values
    if any(key in values for key in (DEPLOY_STATE_KEY, DEPLOY_TARGET_KEY, DEPLOY_RESULT_KEY)):
        return "deploy"
    if GATE_XCOM_KEY in values or GATE_VERDICT_XCOM_KEY in values:
        return "gate"
    if PROMOTED_KEY in values:
        return "promote"
    if BUILD_URL_XCOM_KEY in values:
        return "train"
    return None


def assemble(history: History) -> list[Release]:
    """The releases of every run in ``history``, newest first.

    :param history: what :func:`.records.load_history` read
    """
    by_run: dict[int, list[tuple[str, TaskRecord]]] = defaultdict(list)
    for record in history.tasks:
        kind = kind_of(record)
        if kind is not None:
            by_run[record.run].append((kind, record))
    releases = []
    for run, items in by_run.items():
        drafts: dict[str | None, dict[str, TaskRecord]] = {}
        unnamed = []
        for kind, record in sorted(items, key=lambda item: (KINDS.index(item[0]), item[1].task_id, item[1].map_index)):
            candidate = candidate_of(kind, record)
            if candidate is None:
                unnamed.append((kind, record))
            else:
                drafts.setdefault(candidate, {}).setdefault(kind, record)
        for kind, record in unnamed:
            home = next(iter(drafts.values())) if len(drafts) == 1 else drafts.setdefault(None, {})
            home.setdefault(kind, record)
        releases += [release(history.runs[run], candidate, parts) for candidate, parts in drafts.items()]
    releases.sort(key=lambda item: (item["when"], item["dag_id"], item["run_id"], item["version_rid"] or ""))
    releases.reverse()
    return releases


def candidate_of(kind: str, record: TaskRecord) -> str | None:
    """The candidate model version a provider task names, if it names one."""
    values = record.values
    returned = _dict(values.get(RETURN_VALUE))
    if kind == "train":
        return _text(returned.get("model_version_rid"))
    if kind == "gate":
        return _text(_dict(values.get(GATE_VERDICT_XCOM_KEY)).get("model_version_rid")) or _text(
            returned.get("model_version_rid")
        )
    if kind == "promote":
        return _text(returned.get("candidate_version_rid"))
    for source in (values.get(DEPLOY_STATE_KEY), returned, values.get(DEPLOY_RESULT_KEY)):
        found = _text(_dict(source).get("candidate_version_rid"))
        if found:
            return found
    return None


def release(run: RunInfo, candidate: str | None, parts: dict[str, TaskRecord]) -> Release:
    """One release: the run, the candidate version, and what each of its provider tasks recorded."""
    trained = _dict(parts["train"].values.get(RETURN_VALUE)) if "train" in parts else {}
    gate = _gate(parts.get("gate"))
    promotion = _promotion(parts.get("promote"))
    deploy = _deploy(parts.get("deploy"))
    verdict = gate or {}
    return {
        "id": f"{run.dag_id}|{run.run_id}|{candidate or ''}",
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "run_state": run.state,
        "when": run.when,
        "version_rid": candidate,
        "model_rid": _text(trained.get("model_rid")) or _text(verdict.get("model_rid")),
        "model_name": verdict.get("model_name"),
        "studio_rid": _text(trained.get("model_studio_rid")),
        "build_url": _build_url(parts.get("train")),
        "live_deployment_rid": (deploy or {}).get("live_deployment_rid") or verdict.get("champion_live_deployment_rid"),
        "foundry_conn_id": (deploy or {}).get("foundry_conn_id") or verdict.get("foundry_conn_id"),
        "tasks": {kind: _task(record) for kind, record in parts.items()},
        "gate": gate,
        "promotion": promotion,
        "deploy": deploy,
        "outcome": _outcome(parts, gate, promotion, deploy),
    }


def _gate(record: TaskRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    verdict = _dict(record.values.get(GATE_VERDICT_XCOM_KEY)) or _dict(record.values.get(RETURN_VALUE))
    rows = [row for row in _list(record.values.get(GATE_XCOM_KEY)) if isinstance(row, dict)]
    passed = verdict.get("passed")
    if not isinstance(passed, bool):
        passed = all(row.get("verdict") == "PASS" for row in rows) if rows else None
    champion = _dict(verdict.get("champion"))
    return {
        "passed": passed,
        "rows": rows,
        "model_rid": _text(verdict.get("model_rid")),
        "model_name": _text(verdict.get("model_name")),
        "champion_version_rid": _text(champion.get("model_version_rid")),
        "champion_source": _text(champion.get("source")),
        "champion_live_deployment_rid": _text(verdict.get("champion_live_deployment_rid")),
        "foundry_conn_id": _text(verdict.get("foundry_conn_id")),
    }


def _promotion(record: TaskRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "promoted_version_rid": _text(record.values.get(PROMOTED_KEY)),
        "previous_version_rid": _text(record.values.get(PREVIOUS_KEY)),
        "model_version_url": _text(record.values.get(MODEL_VERSION_URL_XCOM_KEY)),
    }


def _deploy(record: TaskRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    values = record.values
    target, state = _dict(values.get(DEPLOY_TARGET_KEY)), _dict(values.get(DEPLOY_STATE_KEY))
    succeeded = _dict(values.get(RETURN_VALUE))
    result = succeeded or _dict(values.get(DEPLOY_RESULT_KEY))
    rolled_back = result.get("rolled_back") is True or state.get("phase") == "rollback"
    if succeeded and not rolled_back:
        outcome = "deployed"
    elif rolled_back:
        outcome = "rolled back"
    elif record.state in UNFINISHED:
        outcome = "deploying"
    else:
        outcome = "deploy failed"
    return {
        "outcome": outcome,
        "live_deployment_rid": _text(target.get("live_deployment_rid")) or _text(result.get("live_deployment_rid")),
        "foundry_conn_id": _text(target.get("foundry_conn_id")),
        "promoted_version_rid": _text(state.get("promoted_version_rid")) or _text(result.get("promoted_version_rid")),
        "previous_version_rid": _text(state.get("previous_version_rid")) or _text(result.get("previous_version_rid")),
        "rollback_version_rid": _text(state.get("rollback_version_rid")),
        "served_version_rid": _text(result.get("served_version_rid")),
        "served_state": _text(result.get("state")),
        "smoke_tested": outcome == "deployed" and result.get("smoke_test_latency_ms") is not None,
        "smoke_test_latency_ms": _number(result.get("smoke_test_latency_ms")),
        "problem": _text(state.get("problem")),
        "live_deployment_url": _text(values.get(LIVE_DEPLOYMENT_URL_XCOM_KEY)),
        "model_version_url": _text(values.get(MODEL_VERSION_URL_XCOM_KEY)),
    }


def _outcome(
    parts: dict[str, TaskRecord],
    gate: dict[str, Any] | None,
    promotion: dict[str, Any] | None,
    deploy: dict[str, Any] | None,
) -> str:
    """The release's outcome in a few words, from its furthest step."""
    if deploy is not None:
        return str(deploy["outcome"])
    if promotion is not None:
        return "promoted"
    if gate is not None:
        if gate["passed"] is None:
            return "gate running" if parts["gate"].state in UNFINISHED else "gate failed"
        return "passed the gate" if gate["passed"] else "stopped by the gate"
    state = parts["train"].state if "train" in parts else None
    if state == "success":
        return "trained"
    return "training" if state in UNFINISHED else "training failed"


def groups(releases: list[Release]) -> list[dict[str, Any]]:
    """The releases per live deployment, then per studio: each group's release ids (newest first) and series.

    :param releases: newest first, as :func:`assemble` returns them
    """
    found = []
    for kind, key in (("deployment", "live_deployment_rid"), ("studio", "studio_rid")):
        members: dict[str, list[Release]] = defaultdict(list)
        for item in releases:
            if item[key]:
                members[item[key]].append(item)
        for rid in sorted(members):
            conn_ids = [item["foundry_conn_id"] for item in members[rid] if item["foundry_conn_id"]]
            found.append(
                {
                    "kind": kind,
                    "rid": rid,
                    "foundry_conn_id": conn_ids[0] if conn_ids else None,
                    "release_ids": [item["id"] for item in members[rid]],
                    "series": series(members[rid]),
                }
            )
    return found


def series(releases: list[Release]) -> dict[str, list[dict[str, Any]]]:
    """Per gated metric (``val_auc:LAST``), one point per gated release, oldest first: the candidate's value, the
    champion's and the threshold's, with the version and DAG run it comes from.

    :param releases: any order
    """
    found: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(releases, key=lambda each: (each["when"], each["run_id"])):
        rows = (item["gate"] or {}).get("rows") or []
        points: dict[str, dict[str, Any]] = {}
        for row in rows:
            metric = str(row.get("metric"))
            point = points.setdefault(
                metric,
                {
                    "release_id": item["id"],
                    "version_rid": item["version_rid"],
                    "dag_id": item["dag_id"],
                    "run_id": item["run_id"],
                    "when": item["when"],
                    "candidate": None,
                    "champion": None,
                    "threshold": None,
                    "passed": True,
                },
            )
            point["candidate"] = _number(row.get("candidate")) if point["candidate"] is None else point["candidate"]
            if row.get("check") == "champion":
                point["champion"] = _number(row.get("champion"))
            elif row.get("check") == "threshold":
                point["threshold"] = threshold_value(row.get("threshold"))
            point["passed"] = point["passed"] and row.get("verdict") == "PASS"
        for metric, point in points.items():
            found.setdefault(metric, []).append(point)
    return found


def threshold_value(requirement: Any) -> float | None:
    """The number in a threshold's requirement (``">= 0.85"`` -> 0.85); None when there is none."""
    match = _NUMBER.search(requirement) if isinstance(requirement, str) else None
    return _number(float(match.group())) if match else None


def _task(record: TaskRecord) -> dict[str, Any]:
    return {"task_id": record.task_id, "map_index": record.map_index, "state": record.state}


def _build_url(record: TaskRecord | None) -> str | None:
    if record is None:
        return None
    returned = _dict(record.values.get(RETURN_VALUE))
    return _text(returned.get("build_url")) or _text(record.values.get(BUILD_URL_XCOM_KEY))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
