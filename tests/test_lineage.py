"""What tasks say about the model versions they made: the asset events' ``extra`` of their ``foundry://`` outlets
(only for versions that exist), and the OpenLineage inputs, outputs and facets built from it.

Operators are not run here (see tests/example_dags for dag.test() runs and tests/test_lineage_events.py for
real OpenLineage events): the mixin is exercised on a bare task with a context holding outlet events.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.assets import create_asset
from airflow_provider_modelstudio.foundry.shapes import ConfigVersion, Run
from airflow_provider_modelstudio.lineage import (
    DATASET,
    LIVE_DEPLOYMENT,
    MODEL_VERSION,
    ModelVersionLineage,
    Node,
    TaskLineage,
    deployment_lineage,
    gate_lineage,
    promotion_lineage,
    training_datasets,
    training_lineage,
)

BASE_URL = "https://stack.example.com"
MODEL = "ri.models.main.model.trained"
OTHER_MODEL = "ri.models.main.model.other"
VERSION = "ri.models.main.model-version.v1"
STUDIO = "ri.models.main.model-studio.s"
BUILD = "ri.foundry-build.main.build.b1"
DATASET_RID = "ri.foundry.main.dataset.d1"


class Task(ModelVersionLineage):
    """A bare task with outlets, as the operators are to the mixin."""

    def __init__(self, *outlets: Any) -> None:
        self.task_id = "t"
        self.outlets = list(outlets)


class Accessor:
    """One outlet's event: what the task sets is its ``extra``."""

    def __init__(self) -> None:
        self.extra: dict[str, Any] = {}


class OutletEvents:
    """``context["outlet_events"]``: an accessor per asset (keyed by name and URI, as Airflow's unique key)."""

    def __init__(self) -> None:
        self.accessors: dict[tuple[str, str], Accessor] = {}

    def __getitem__(self, asset: Asset) -> Accessor:
        return self.accessors.setdefault((asset.name, asset.uri), Accessor())

    def __contains__(self, asset: Asset) -> bool:
        return (asset.name, asset.uri) in self.accessors


class FakeHook:
    """What ``training_lineage`` reads from the hook: the base URL, and the configuration version."""

    def __init__(self, config_version: dict[str, Any] | Exception) -> None:
        self.settings = type("Settings", (), {"base_url": BASE_URL})()
        self.config_version = config_version
        self.calls: list[tuple[str, int]] = []

    def get_config_version(self, studio: str, version: int) -> ConfigVersion:
        self.calls.append((studio, version))
        if isinstance(self.config_version, Exception):
            raise self.config_version
        return ConfigVersion.from_json(self.config_version)


CONFIG_VERSION = {
    "version": 3,
    "workerConfig": {
        "inputs": {
            "training_data": {"type": "dataset", "rid": DATASET_RID},
            "lookup": {"type": "media-set", "rid": "ri.mio.main.media-set.m"},
            "labels": {"type": "dataset", "rid": "ri.foundry.main.dataset.d2"},
        },
        "outputs": {"model": {"type": "model", "modelRid": MODEL}},
    },
}


def run(status: str = "SUCCEEDED", *, outputs: dict[str, Any] | None = None) -> Run:
    return Run(
        run_id="r1",
        build_rid=BUILD,
        job_rid="ri.foundry-build.main.job.j1",
        config_version=3,
        started_by=None,
        started_time=None,
        build_status=status,
        resolved_outputs=(
            outputs
            if outputs is not None
            else {
                "model": {
                    "type": "model",
                    "modelRid": MODEL,
                    "modelVersionRid": VERSION,
                    "experimentRid": "ri.models.main.experiment.e",
                }
            }
        ),
    )


def trained(status: str = "SUCCEEDED", *, hook: FakeHook | None = None, **kwargs: Any) -> TaskLineage:
    return training_lineage(
        run(status, **kwargs),
        status,
        model_studio_rid=STUDIO,
        hook=hook or FakeHook(CONFIG_VERSION),  # type: ignore[arg-type]
        output_required=True,
    )


def announce(task: Task, lineage: TaskLineage) -> OutletEvents:
    events = OutletEvents()
    task.announce_model_versions({"outlet_events": events}, lineage)  # type: ignore[arg-type]
    return events


def model(model_rid: str = MODEL, branch: str | None = None, host: str = "stack.example.com") -> Asset:
    return create_asset(host=host, model_rid=model_rid, branch=branch)


# Asset events ----------------------------------------------------------------------------------------------------


def test_a_succeeded_run_sets_the_event_extra_of_its_models_outlet() -> None:
    outlet = model()

    events = announce(Task(outlet), trained())

    assert events[outlet].extra == {
        "model_rid": MODEL,
        "model_version_rid": VERSION,
        "made_by": "model_studio_run",
        "model_studio_rid": STUDIO,
        "run_id": "r1",
        "build_rid": BUILD,
        "config_version": 3,
        "output_alias": "model",
        "experiment_rid": "ri.models.main.experiment.e",
    }


def test_outlets_of_other_schemes_are_left_to_airflow() -> None:
    other = Asset(name="s3", uri="s3://bucket/key")

    events = announce(Task(other, model()), trained())

    assert other not in events


def test_an_outlet_of_a_model_the_run_did_not_write_fails_the_task_naming_both() -> None:
    with pytest.raises(
        AirflowFailException, match=rf"outlet foundry://stack.example.com/models/{OTHER_MODEL}.*{VERSION}"
    ):
        announce(Task(model(OTHER_MODEL)), trained())


def test_an_outlet_on_another_foundry_host_fails_the_task() -> None:
    with pytest.raises(AirflowFailException, match=r"names host other\.example\.com but the task's connection is"):
        announce(Task(model(host="other.example.com")), trained())


def test_an_outlet_naming_a_branch_fails_a_training_run_whose_branch_foundry_does_not_say() -> None:
    with pytest.raises(AirflowFailException, match="which branch a training run's version lands on"):
        announce(Task(model(branch="master")), trained())


def test_a_failed_run_sets_no_event_and_leaves_the_failure_to_the_run() -> None:
    events = announce(Task(model()), trained("FAILED"))

    assert events.accessors == {}


def test_a_succeeded_run_without_output_leaves_the_failure_to_the_missing_output_check() -> None:
    events = announce(Task(model()), trained(outputs={}))

    assert events.accessors == {}


def test_a_succeeded_run_without_output_fails_when_no_output_is_required() -> None:
    lineage = training_lineage(
        run(outputs={}), "SUCCEEDED", model_studio_rid=STUDIO, hook=FakeHook(CONFIG_VERSION), output_required=False
    )  # type: ignore[arg-type]

    with pytest.raises(AirflowFailException, match="but it made no model version"):
        announce(Task(model()), lineage)


def test_a_task_without_foundry_outlets_needs_no_outlet_events() -> None:
    task = Task()
    lineage = trained()

    task.announce_model_versions({}, lineage)  # type: ignore[arg-type]

    assert task._foundry_lineage is lineage


def test_a_launch_that_does_not_wait_refuses_foundry_outlets_before_launching() -> None:
    with pytest.raises(
        AirflowFailException, match=r"ends before the run has made a model version.*Nothing was launched"
    ):
        Task(model()).check_model_outlets(makes_versions=False)


def test_a_launch_that_waits_accepts_foundry_outlets() -> None:
    Task(model()).check_model_outlets(makes_versions=True)


def test_a_promotion_announces_the_copy_on_its_branch() -> None:
    promotion = {
        "model_rid": OTHER_MODEL,
        "branch": "staging",
        "candidate_version_rid": VERSION,
        "promoted_version_rid": "ri.models.main.model-version.copy",
        "previous_version_rid": None,
        "adopted": False,
    }
    outlet = model(OTHER_MODEL, branch="staging")

    events = announce(Task(outlet), promotion_lineage(promotion, BASE_URL))

    assert events[outlet].extra["model_version_rid"] == "ri.models.main.model-version.copy"
    assert events[outlet].extra["source_model_version_rid"] == VERSION
    assert events[outlet].extra["made_by"] == "promotion"


def test_a_promotion_to_another_branch_fails_an_outlet_of_this_branch() -> None:
    promotion = {
        "model_rid": OTHER_MODEL,
        "branch": "staging",
        "candidate_version_rid": VERSION,
        "promoted_version_rid": "ri.models.main.model-version.copy",
        "previous_version_rid": None,
        "adopted": False,
    }

    with pytest.raises(AirflowFailException, match="branches/production"):
        announce(Task(model(OTHER_MODEL, branch="production")), promotion_lineage(promotion, BASE_URL))


def test_a_gate_makes_no_version_so_a_foundry_outlet_fails_it() -> None:
    with pytest.raises(AirflowFailException, match="made no model version"):
        announce(Task(model()), gate_lineage(GATE_OUTCOME, BASE_URL))


# What each task read and wrote -------------------------------------------------------------------------------------


GATE_OUTCOME = {
    "passed": False,
    "model_rid": MODEL,
    "model_version_rid": VERSION,
    "experiment_rid": "ri.models.main.experiment.e",
    "experiment_status": "SUCCEEDED",
    "champion": {"model_version_rid": "ri.models.main.model-version.champ", "model_rid": OTHER_MODEL},
    "rows": [
        {"metric": "val_auc", "check": "threshold", "candidate": 0.9, "threshold": ">= 0.85", "verdict": "PASS"},
        {"metric": "val_loss", "check": "champion", "candidate": 0.3, "threshold": "lower", "verdict": "FAIL"},
    ],
}
DEPLOY_RESULT = {
    "live_deployment_rid": "ri.foundry-ml-live.main.live-deployment.l",
    "model_rid": OTHER_MODEL,
    "branch": "master",
    "candidate_version_rid": VERSION,
    "promoted_version_rid": "ri.models.main.model-version.copy",
    "previous_version_rid": "ri.models.main.model-version.old",
    "served_version_rid": "ri.models.main.model-version.copy",
    "state": "ACTIVE",
}


def test_training_datasets_are_the_dataset_inputs_of_the_worker_config() -> None:
    assert training_datasets(ConfigVersion.from_json(CONFIG_VERSION)) == (
        Node(DATASET, DATASET_RID),
        Node(DATASET, "ri.foundry.main.dataset.d2"),
    )


def test_a_config_version_without_worker_inputs_has_no_training_datasets() -> None:
    assert training_datasets(ConfigVersion.from_json({"workerConfig": None})) == ()


def test_a_training_run_outputs_its_versions_and_reads_its_config_version_only_when_asked() -> None:
    hook = FakeHook(CONFIG_VERSION)

    lineage = trained(hook=hook)

    assert lineage.outputs == (Node(MODEL_VERSION, VERSION),)
    assert hook.calls == []
    assert lineage.read_training_inputs is not None
    assert lineage.read_training_inputs() == training_datasets(ConfigVersion.from_json(CONFIG_VERSION))
    assert hook.calls == [(STUDIO, 3)]


def test_a_deploy_reads_the_candidate_and_writes_the_copy_and_the_deployment() -> None:
    lineage = deployment_lineage(DEPLOY_RESULT, BASE_URL)

    assert lineage.inputs == (Node(MODEL_VERSION, VERSION),)
    assert lineage.outputs == (
        Node(MODEL_VERSION, "ri.models.main.model-version.copy"),
        Node(LIVE_DEPLOYMENT, "ri.foundry-ml-live.main.live-deployment.l"),
    )


def test_a_gate_reads_the_candidate_and_the_champion_and_lists_its_checks() -> None:
    lineage = gate_lineage(GATE_OUTCOME, BASE_URL)

    assert lineage.inputs == (Node(MODEL_VERSION, VERSION), Node(MODEL_VERSION, "ri.models.main.model-version.champ"))
    assert lineage.assertions == (("val_auc threshold >= 0.85", True), ("val_loss champion lower", False))
    assert lineage.outputs == ()


def test_a_gate_choosing_among_candidates_reads_every_one_and_reports_the_ranking() -> None:
    ranking = [
        {"model_version_rid": "ri.models.main.model-version.other", "rank": 2},
        {"model_version_rid": VERSION, "rank": 1},
    ]
    lineage = gate_lineage({**GATE_OUTCOME, "ranking": ranking}, BASE_URL)

    assert lineage.inputs == (
        Node(MODEL_VERSION, VERSION),
        Node(MODEL_VERSION, "ri.models.main.model-version.other"),
        Node(MODEL_VERSION, "ri.models.main.model-version.champ"),
    )
    assert lineage.run_facet[1]["ranking"] == ranking


# OpenLineage objects -----------------------------------------------------------------------------------------------


def test_openlineage_of_a_training_run_reads_datasets_in_and_writes_the_version_out() -> None:
    task = Task()
    task.announce_model_versions({}, trained())  # type: ignore[arg-type]

    facets = task.get_openlineage_facets_on_complete(None)

    assert [(d.namespace, d.name) for d in facets.inputs] == [
        ("foundry://stack.example.com", DATASET_RID),
        ("foundry://stack.example.com", "ri.foundry.main.dataset.d2"),
    ]
    assert [(d.namespace, d.name) for d in facets.outputs] == [("foundry://stack.example.com", VERSION)]


def test_openlineage_run_facet_of_a_training_run_names_run_build_and_config_version() -> None:
    from openlineage.client.serde import Serde

    task = Task()
    task.announce_model_versions({}, trained())  # type: ignore[arg-type]

    facet = Serde.to_dict(task.get_openlineage_facets_on_complete(None).run_facets["foundryModelStudioRun"])

    assert {key: facet[key] for key in ("modelStudioRid", "runId", "buildRid", "configVersion", "buildStatus")} == {
        "modelStudioRid": STUDIO,
        "runId": "r1",
        "buildRid": BUILD,
        "configVersion": 3,
        "buildStatus": "SUCCEEDED",
    }


def test_openlineage_of_a_failed_run_keeps_its_inputs_and_run_facet_and_has_no_output() -> None:
    task = Task()
    task.announce_model_versions({}, trained("FAILED"))  # type: ignore[arg-type]

    facets = task.get_openlineage_facets_on_failure(None)

    assert [d.name for d in facets.inputs] == [DATASET_RID, "ri.foundry.main.dataset.d2"]
    assert facets.outputs == []
    assert facets.run_facets["foundryModelStudioRun"].buildStatus == "FAILED"


def test_openlineage_without_the_config_version_still_reports_the_output() -> None:
    from airflow_provider_modelstudio.foundry.errors import FoundryError

    task = Task()
    task.announce_model_versions({}, trained(hook=FakeHook(FoundryError("down"))))  # type: ignore[arg-type]

    facets = task.get_openlineage_facets_on_complete(None)

    assert facets.inputs == []
    assert [d.name for d in facets.outputs] == [VERSION]


def test_openlineage_of_a_gate_puts_its_checks_on_the_candidate() -> None:
    task = Task()
    task.announce_model_versions({}, gate_lineage(GATE_OUTCOME, BASE_URL))  # type: ignore[arg-type]

    facets = task.get_openlineage_facets_on_failure(None)

    checks = facets.inputs[0].inputFacets["dataQualityAssertions"].assertions
    assert [(c.assertion, c.success) for c in checks] == [
        ("val_auc threshold >= 0.85", True),
        ("val_loss champion lower", False),
    ]
    assert facets.run_facets["foundryModelGate"].rows == GATE_OUTCOME["rows"]


def test_openlineage_before_anything_happened_is_empty() -> None:
    task = Task()

    start = task.get_openlineage_facets_on_start()
    failure = task.get_openlineage_facets_on_failure(None)

    assert (start.inputs, start.outputs, failure.inputs, failure.outputs) == ([], [], [], [])


# Import cost -------------------------------------------------------------------------------------------------------


IMPORT_OPERATORS = """
    import sys
    import airflow.sdk
    before = set(sys.modules)
    import airflow_provider_modelstudio.operators.modelstudio
    import airflow_provider_modelstudio.operators.model_versions
    print(sorted(m for m in set(sys.modules) - before if "openlineage" in m))
"""
HIDE_OPENLINEAGE = """
    import importlib.abc
    import importlib.metadata
    import sys

    import importlib_metadata

    def hidden(name):
        return name.split(".")[0] in ("openlineage", "openlineage_sql") or name.startswith(
            "airflow.providers.openlineage"
        )

    class Hidden(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if hidden(name):
                raise ModuleNotFoundError(name)

    def without_openlineage(discover):
        def visible(**kwargs):
            return (d for d in discover(**kwargs) if "openlineage" not in (d.metadata["Name"] or "").lower())

        return staticmethod(visible)

    sys.meta_path.insert(0, Hidden())
    for distribution in (importlib.metadata.Distribution, importlib_metadata.Distribution):
        distribution.discover = without_openlineage(distribution.discover)
"""
"""Makes this interpreter behave as if the OpenLineage provider and client were not installed: their modules are
not found and their distributions not listed (Airflow's provider discovery reads those)."""


def import_operators(tmp_path: Path, prelude: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(prelude) + textwrap.dedent(IMPORT_OPERATORS)],
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_importing_the_operators_imports_no_openlineage_module(tmp_path: Path) -> None:
    assert import_operators(tmp_path) == "[]"


def test_the_operators_import_without_the_openlineage_provider(tmp_path: Path) -> None:
    assert import_operators(tmp_path, HIDE_OPENLINEAGE) == "[]"
