"""Real OpenLineage events: the OpenLineage provider (installed by the ``openlineage`` test extra) writes what the
operators report to its file transport while ``dag.test()`` runs ``retrain_then_deploy`` (a training run that
succeeds and one that fails) and a promotion, in a process of its own (tests/lineage_events_run.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from airflow_provider_modelstudio.emulator import (
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_FAILS_STUDIO,
    DEMO_STUDIO,
    FoundryEmulator,
)
from airflow_provider_modelstudio.emulator.pytest_plugin import FAST_TIME_SCALE
from tests.example_dags.asset_runs import BUNDLES_WITH_PRODUCERS

RUNNER = Path(__file__).resolve().with_name("lineage_events_run.py")
RUNNER_TIMEOUT = 300.0
"""Seconds the runner may take: its DAG runs take about 100 s on a busy 2-core machine."""

# The runner hangs, if ever, against its own bound, which reports its output; pytest's comes a minute later.
pytestmark = pytest.mark.timeout(RUNNER_TIMEOUT + 60)
PROMOTION_TARGET = "ri.models.main.model.announce-target"
"""The model ``promote_and_announce`` promotes into."""


@dataclass(frozen=True)
class Captured:
    """What the run left: the emulator's state, every OpenLineage event, and the DAG runs' states."""

    emulator: FoundryEmulator
    events: list[dict[str, Any]]
    states: dict[str, str]

    @property
    def namespace(self) -> str:
        return "foundry://" + self.emulator.url.removeprefix("http://")

    def event(self, job: str, event_type: str, nth: int = 0) -> dict[str, Any]:
        """The ``nth`` event of ``event_type`` of the job ``<dag_id>.<task_id>``."""
        found = [e for e in self.events if e["job"]["name"] == job and e["eventType"] == event_type]
        assert len(found) > nth, (job, event_type, [(e["job"]["name"], e["eventType"]) for e in self.events])
        return found[nth]

    def datasets(self, event: dict[str, Any], side: str) -> list[tuple[str, str]]:
        """``(namespace, name)`` of the event's ``inputs`` or ``outputs`` in this Foundry's namespace."""
        return [(d["namespace"], d["name"]) for d in event[side] if d["namespace"].startswith("foundry://")]


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Captured]:
    home = tmp_path_factory.mktemp("openlineage-home")
    events_file = home / "events.jsonl"
    states_file = home / "states.json"
    with FoundryEmulator(time_scale=FAST_TIME_SCALE) as emulator:
        emulator.add_model(PROMOTION_TARGET)
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": BUNDLES_WITH_PRODUCERS,
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(events_file), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "modelstudio-tests",
            "AIRFLOW_CONN_FOUNDRY_DEFAULT": emulator.connection_env(),
            "MODELSTUDIO_POLL_SECONDS": "0.1",
        }
        done = subprocess.run(
            [sys.executable, str(RUNNER), str(states_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUNNER_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-5000:]
        states = json.loads(states_file.read_text(encoding="utf-8"))
        events = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines() if line]
        yield Captured(emulator, events, states)


def trained_version(emulator: FoundryEmulator) -> str:
    (run,) = emulator.runs(DEMO_STUDIO)
    return str(run["resolvedOutputs"]["model"]["modelVersionRid"])


def test_the_dag_runs_ended_as_their_studios_do(captured: Captured) -> None:
    assert captured.states == {
        "retrain_then_deploy": "success",
        "retrain_fails": "failed",
        "promote_and_announce": "success",
    }


def test_a_training_run_reads_the_datasets_of_its_config_version(captured: Captured) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.lineage import training_datasets

    with mock.patch.dict(os.environ, {"AIRFLOW_CONN_FOUNDRY_DEFAULT": captured.emulator.connection_env()}):
        expected = training_datasets(ModelStudioHook().get_config_version(DEMO_STUDIO, 1))
    complete = captured.event("retrain_then_deploy.train", "COMPLETE")

    assert expected
    assert captured.datasets(complete, "inputs") == [(captured.namespace, node.rid) for node in expected]


def test_a_training_run_writes_the_version_it_made(captured: Captured) -> None:
    complete = captured.event("retrain_then_deploy.train", "COMPLETE")

    assert captured.datasets(complete, "outputs") == [(captured.namespace, trained_version(captured.emulator))]


def test_a_training_runs_facet_names_run_build_and_config_version(captured: Captured) -> None:
    (run,) = captured.emulator.runs(DEMO_STUDIO)
    facet = captured.event("retrain_then_deploy.train", "COMPLETE")["run"]["facets"]["foundryModelStudioRun"]

    assert (facet["modelStudioRid"], facet["runId"], facet["buildRid"], facet["configVersion"]) == (
        DEMO_STUDIO,
        run["runId"],
        run["buildRid"],
        run["configVersion"],
    )
    assert facet["buildStatus"] == "SUCCEEDED"


def test_a_failed_training_run_reports_its_inputs_and_no_output(captured: Captured) -> None:
    fail = captured.event("retrain_then_deploy.train", "FAIL")
    (run,) = captured.emulator.runs(DEMO_FAILS_STUDIO)

    assert captured.datasets(fail, "inputs")
    assert captured.datasets(fail, "outputs") == []
    assert fail["run"]["facets"]["foundryModelStudioRun"]["buildRid"] == run["buildRid"]
    assert fail["run"]["facets"]["foundryModelStudioRun"]["buildStatus"] == "FAILED"


def test_the_gate_reads_the_candidate_and_the_champion_and_reports_its_checks(captured: Captured) -> None:
    complete = captured.event("retrain_then_deploy.gate", "COMPLETE")
    facet = complete["run"]["facets"]["foundryModelGate"]

    assert captured.datasets(complete, "inputs")[0] == (captured.namespace, trained_version(captured.emulator))
    assert len(captured.datasets(complete, "inputs")) == 2
    assert facet["passed"] is True
    assert [row["verdict"] for row in facet["rows"]] == ["PASS", "PASS", "PASS", "PASS"]
    checks = complete["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert [check["success"] for check in checks] == [True, True, True, True]


def test_the_deploy_reads_the_version_and_writes_its_copy_and_the_live_deployment(captured: Captured) -> None:
    complete = captured.event("retrain_then_deploy.deploy", "COMPLETE")
    copy = complete["run"]["facets"]["foundryDeployment"]["promotedVersionRid"]

    assert captured.datasets(complete, "inputs") == [(captured.namespace, trained_version(captured.emulator))]
    assert captured.datasets(complete, "outputs") == [(captured.namespace, copy), (captured.namespace, DEMO_DEPLOYMENT)]


def test_a_promotion_reads_the_source_version_and_writes_the_copy(captured: Captured) -> None:
    complete = captured.event("promote_and_announce.promote", "COMPLETE")
    (copy,) = captured.emulator.model_versions(PROMOTION_TARGET, "staging")

    assert captured.datasets(complete, "inputs") == [(captured.namespace, DEMO_CHAMPION_SOURCE_VERSION)]
    assert captured.datasets(complete, "outputs") == [(captured.namespace, copy["rid"])]


def test_a_start_event_falls_back_to_the_tasks_model_outlet(captured: Captured) -> None:
    start = captured.event("promote_and_announce.promote", "START")

    assert captured.datasets(start, "outputs") == [(captured.namespace, f"{PROMOTION_TARGET}/branches/staging")]
