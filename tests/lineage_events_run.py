"""DAG runs under an enabled OpenLineage provider, for tests/test_lineage_events.py.

``python tests/lineage_events_run.py STATES_FILE`` with the environment the test sets (``AIRFLOW_HOME``, the
OpenLineage file transport, ``foundry_default`` pointing at an emulator, the DAG bundles): creates the metadata
database, runs ``retrain_then_deploy`` (train, gate, deploy) with ``dag.test()``, the same with the demo studio that
fails, and ``promote_and_announce``, and writes ``{label: run state}`` as JSON to ``STATES_FILE``. The OpenLineage
listener writes every event to the transport's file. A process of its own, because the provider decides once per
process, when its plugin loads, whether it is enabled.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = ROOT / "example_dags"
PRODUCERS = ROOT / "tests" / "example_dags" / "model_version_producers"
FAILING_STUDIO = "ri.models.main.model-studio.demo-fails"


def main(states_file: str) -> int:
    from airflow.models import DagBag
    from airflow.utils.db import initdb

    initdb()
    dags = {}
    for folder in (EXAMPLE_DAGS, PRODUCERS):
        bag = DagBag(dag_folder=str(folder))
        if bag.import_errors:
            sys.stderr.write(f"import errors: {bag.import_errors}\n")
            return 1
        dags.update(bag.dags)
    states = {
        "retrain_then_deploy": dags["retrain_then_deploy"].test().state,
        "retrain_fails": dags["retrain_then_deploy"].test(run_conf={"model_studio_rid": FAILING_STUDIO}).state,
        "promote_and_announce": dags["promote_and_announce"].test().state,
    }
    ended = {label: str(getattr(state, "value", state)) for label, state in states.items()}
    Path(states_file).write_text(json.dumps(ended), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
