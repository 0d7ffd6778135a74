"""`make demo SCENARIO=new-data`: a commit to the training data starts ``retrain_on_new_data`` in a real deployment.

Starts the Foundry emulator in this process and Airflow's four services (api-server, scheduler, dag-processor,
triggerer) on loopback with the example DAGs, turns the example ``retrain_on_new_data`` on, waits until its
dataset watcher has looked at the demo studio's training dataset, then commits a transaction to that dataset as
a pipeline writing it would. The watcher fires in the triggerer, the scheduler starts one DAG run, and the run
trains, gates and deploys. Prints what happened and the new model version's RID; stops everything.

Exit status 0 when exactly one run started from the commit and it succeeded; 1 otherwise.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from airflow_deployment import AirflowDeployment, DeploymentError, stop_signals_interrupt, wait_until

from airflow_provider_modelstudio.emulator import DEMO_DEPLOYMENT, DEMO_STUDIO, FoundryEmulator
from airflow_provider_modelstudio.emulator.catalog import training_dataset_rid

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / ".airflow-demo-new-data"
DAG_ID = "retrain_on_new_data"
DATASET = training_dataset_rid(DEMO_STUDIO)
WATERMARKS = "modelstudio_dataset_watermark."
WAIT_SECONDS = 180.0


def say(text: str = "") -> None:
    print(text, flush=True)


def field_line(label: str, value: object) -> None:
    say(f"  {label:<21}{value}")


def dag_runs(airflow: AirflowDeployment) -> list[dict[str, Any]]:
    answer = airflow.api.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", query={"order_by": "id", "limit": 10})
    runs: list[dict[str, Any]] = answer["dag_runs"]
    return runs


def watermark(airflow: AirflowDeployment) -> dict[str, Any] | None:
    answer = airflow.api.request("GET", "/api/v2/variables", query={"variable_key_pattern": f"{WATERMARKS}%"})
    return next((v for v in answer["variables"] if v["key"].startswith(WATERMARKS + DATASET)), None)


def demo(airflow: AirflowDeployment, emulator: FoundryEmulator) -> list[str]:
    """Turn the DAG on, commit, follow the run; return what went wrong (nothing when the demo succeeded)."""
    airflow.wait_for_dags([DAG_ID])
    airflow.api.set_paused(DAG_ID, False)
    say(f"\n  {DAG_ID} is on: its watcher checks the studio's training dataset every second.")
    started = wait_until("the watcher to look at the dataset", lambda: watermark(airflow), WAIT_SECONDS)
    field_line("training dataset", f"{DATASET} (branch master)")
    field_line("watching from", f"{json.loads(started['value'])['transaction_rid']} (Variable {started['key']})")

    committed = emulator.commit(DATASET)
    at = time.monotonic()
    say("\n  A pipeline commits new training data:")
    field_line("transaction", f"{committed} (APPEND, COMMITTED)")
    first = wait_until(f"a run of {DAG_ID} to start", lambda: dag_runs(airflow) or None, WAIT_SECONDS)[0]
    field_line("DAG run", f"{first['dag_run_id']} ({first['run_type']}), {time.monotonic() - at:.1f} s later")

    def ended() -> dict[str, Any] | None:
        run = airflow.api.dag_run(DAG_ID, first["dag_run_id"])
        return run if run["state"] in {"success", "failed"} else None

    run = wait_until(f"{first['dag_run_id']} to end", ended, WAIT_SECONDS)
    field_line("state", f"{run['state']} after {time.monotonic() - at:.0f} s")
    for ti in sorted(airflow.api.task_instances(DAG_ID, run["dag_run_id"]), key=lambda ti: str(ti["start_date"])):
        field_line(f"  {ti['task_id']}", ti["state"])
    problems = []
    commits = airflow.api.xcom(DAG_ID, run["dag_run_id"], "new_data")
    if [commit["transaction_rid"] for commit in commits] != [committed]:
        problems.append(f"the run names the commits {commits}, not {committed}")
    if run["state"] != "success":
        problems.append(f"the run ended {run['state']}")
        return problems
    trained = airflow.api.xcom(DAG_ID, run["dag_run_id"], "train")
    deployed = airflow.api.xcom(DAG_ID, run["dag_run_id"], "deploy")
    say("\n  Trained on the new data, gated, deployed:")
    field_line("model version", trained["model_version_rid"])
    field_line("promoted version", f"{deployed['promoted_version_rid']} (its copy on {deployed['model_rid']})")
    field_line("live deployment", f"{DEMO_DEPLOYMENT} serves {deployed['served_version_rid']}")
    if deployed["served_version_rid"] != deployed["promoted_version_rid"]:
        problems.append(f"the live deployment serves {deployed['served_version_rid']}, not the promoted copy")
    if len(dag_runs(airflow)) != 1:
        problems.append(f"{len(dag_runs(airflow))} runs started from one commit")
    return problems


def main() -> int:
    started = time.monotonic()
    say(f"Model Studio demo (new-data): DAG {DAG_ID} on Airflow {importlib.metadata.version('apache-airflow')}")
    say(f"  Airflow's four services and a local Foundry emulator; service logs in {HOME.relative_to(REPO)}/logs")
    shutil.rmtree(HOME, ignore_errors=True)
    try:
        with stop_signals_interrupt(), FoundryEmulator() as emulator:
            airflow = AirflowDeployment(
                home=HOME,
                dags_folder=REPO / "example_dags",
                connection=emulator.connection("oauth2"),
                extra_env={"MODELSTUDIO_POLL_SECONDS": "1"},
            )
            field_line("Foundry emulator", emulator.url)
            with airflow:
                field_line("Airflow", airflow.url)
                problems = demo(airflow, emulator)
    except DeploymentError as error:
        say(f"\nThe demo could not run: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nInterrupted; everything was stopped.")
        return 130
    if problems:
        say("\nDemo FAILED:\n" + "\n".join(f"  - {problem}" for problem in problems))
        return 1
    say(
        f"\nDemo succeeded in {time.monotonic() - started:.0f} s: one commit to the training data started one run "
        "of the DAG, which retrained the model on it and deployed the new version."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
