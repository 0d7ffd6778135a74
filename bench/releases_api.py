"""How long the Model releases page's API takes to answer for a long history, on SQLite.

In a process of its own with a fresh ``AIRFLOW_HOME``: creates the metadata database, writes ``--runs`` DAG
runs of ``retrain_then_deploy`` (the demo's success, worse and rollback runs in turn: a launch, a gate and, for
two of three, a deploy task with the XCom they push) and as many runs of a DAG without provider tasks (each
with a task that pushes a ``return_value``), then times ``GET /modelstudio-releases/api/releases`` through
Airflow's own API app (its auth manager, middlewares and a viewer's JWT) in-process with a test client, so
no network and no HTTP server are measured. Writes JSON to ``--result-file``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ENV = {
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "bench:viewer",
    "AIRFLOW__API_AUTH__JWT_SECRET": "bench-" + "0123456789abcdef" * 4,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
}


def write_history(runs: int) -> float:
    """Write the history; return the seconds it took."""
    from airflow.utils.db import initdb

    from tests.releases import scenarios
    from tests.releases.history import Records

    started = time.monotonic()
    initdb()
    records = Records()
    records.add_bundle()
    kinds = (scenarios.success, scenarios.worse, scenarios.rollback)
    for index in range(runs):
        records.run("retrain_then_deploy", kinds[index % 3](f"ri.models.main.model-version.v{index}"))
        records.run("nightly_etl", {"load": {"return_value": {"rows": index}}})
    return time.monotonic() - started


def measure(requests: int) -> dict[str, object]:
    """Time ``requests`` answers after two warm-up requests."""
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from airflow_provider_modelstudio.releases.plugin import URL_PREFIX

    app = create_app()
    if not any(getattr(route, "path", None) == URL_PREFIX for route in app.router.routes):
        raise SystemExit("the releases plugin is not registered: install the package (pip install -e .)")
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="bench", role="viewer"))
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    with TestClient(app) as client:
        for index in range(requests + 2):
            started = time.perf_counter()
            answer = client.get(f"{URL_PREFIX}/api/releases", headers=headers)
            elapsed = time.perf_counter() - started
            answer.raise_for_status()
            if index >= 2:
                timings.append(elapsed)
        body = answer.json()
    timings.sort()
    return {
        "median_ms": statistics.median(timings) * 1000,
        "p95_ms": timings[max(0, round(0.95 * len(timings)) - 1)] * 1000,
        "max_ms": timings[-1] * 1000,
        "requests": len(timings),
        "releases": len(body["releases"]),
        "runs_read": body["runs_read"],
        "bytes": len(answer.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--result-file", required=True)
    args = parser.parse_args()
    for name, value in ENV.items():
        os.environ[name] = value
    written = write_history(args.runs)
    result = {"runs": args.runs, "other_runs": args.runs, "write_seconds": written, **measure(args.requests)}
    Path(args.result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
