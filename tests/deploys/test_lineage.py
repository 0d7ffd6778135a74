"""Following promoted copies back to the version that links an experiment; the newest version on a branch."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio.deploys.lineage import (
    MissingExperimentError,
    VersionRef,
    find_experiment,
    latest_version,
)
from airflow_provider_modelstudio.foundry.shapes import ModelVersion
from tests.deploys.fakes import MODEL, TARGET, FakeFoundry, experiment_rid, version_rid


def test_a_version_that_links_an_experiment_holds_it_itself():
    foundry = FakeFoundry()
    rid = foundry.trained("v1", val_auc_LAST=0.9)
    lineage = find_experiment(foundry, VersionRef(MODEL, rid))
    assert lineage.experiment_rid == experiment_rid("v1")
    assert lineage.holder == VersionRef(MODEL, rid)
    assert lineage.describe() == f"experiment {experiment_rid('v1')}"


def test_a_promoted_copy_is_followed_back_across_models_to_the_version_with_the_experiment():
    foundry = FakeFoundry()
    trained = foundry.trained("v1", val_auc_LAST=0.9)
    staged = foundry.promoted("staged", MODEL, trained, model=TARGET)
    live = foundry.promoted("live", TARGET, staged, model="ri.models.main.model.prod")
    lineage = find_experiment(foundry, VersionRef("ri.models.main.model.prod", live))
    assert lineage.experiment_rid == experiment_rid("v1")
    assert lineage.holder == VersionRef(MODEL, trained)
    assert [ref.model_version_rid for ref in lineage.path] == [live, staged, trained]
    assert f"{live} <- {staged} <- {trained}" in lineage.describe()


def test_a_version_neither_linking_an_experiment_nor_promoted_is_a_clear_error():
    foundry = FakeFoundry()
    rid = version_rid("imported")
    foundry.versions[(MODEL, rid)] = {"rid": rid, "source": {"type": "importedContainerizedModel"}}
    with pytest.raises(MissingExperimentError) as error:
        find_experiment(foundry, VersionRef(MODEL, rid))
    message = str(error.value)
    assert rid in message
    assert "'importedContainerizedModel'" in message
    assert "no linked experiment" in message


def test_a_promoted_copy_of_a_version_without_experiment_names_both_versions():
    foundry = FakeFoundry()
    source = version_rid("bare")
    foundry.versions[(MODEL, source)] = {"rid": source}
    copy = foundry.promoted("copy", MODEL, source)
    with pytest.raises(MissingExperimentError) as error:
        find_experiment(foundry, VersionRef(TARGET, copy))
    assert copy in str(error.value)
    assert f"{source} of model {MODEL}, which it was promoted from" in str(error.value)
    assert "it has no source" in str(error.value)


def test_promoted_sources_going_round_in_a_circle_end_the_walk_with_an_error():
    foundry = FakeFoundry()
    first = foundry.promoted("a", TARGET, version_rid("b"))
    foundry.promoted("b", TARGET, first)
    with pytest.raises(MissingExperimentError, match="round in a circle"):
        find_experiment(foundry, VersionRef(TARGET, first))
    assert foundry.version_reads == 2


def test_a_promotion_chain_longer_than_the_bound_is_an_error_after_that_many_reads():
    foundry = FakeFoundry()
    previous = foundry.trained("v0", val_auc_LAST=0.9)
    for step in range(1, 6):
        previous = foundry.promoted(f"v{step}", TARGET, previous)
    with pytest.raises(MissingExperimentError, match="within 3 promotions"):
        find_experiment(foundry, VersionRef(TARGET, previous), max_hops=3)
    assert foundry.version_reads == 4


def test_a_promoted_source_that_names_no_previous_version_is_an_error():
    foundry = FakeFoundry()
    rid = version_rid("odd")
    foundry.versions[(TARGET, rid)] = {"rid": rid, "source": {"type": "promoted"}}
    with pytest.raises(MissingExperimentError, match="names no previous version"):
        find_experiment(foundry, VersionRef(TARGET, rid))


def read(versions: list[dict[str, Any]]) -> list[ModelVersion]:
    return [ModelVersion.from_json(version) for version in versions]


def test_the_latest_version_is_the_newest_by_created_time():
    versions = [
        {"rid": "old", "createdTime": "2026-01-01T00:00:00Z"},
        {"rid": "new", "createdTime": "2026-03-01T00:00:00.5Z"},
        {"rid": "middle", "createdTime": "2026-02-01T00:00:00+00:00"},
    ]
    assert latest_version(read(versions)) == read(versions)[1]


def test_the_first_listed_wins_a_tie_of_created_times():
    versions = [
        {"rid": "a", "createdTime": "2026-01-01T00:00:00Z"},
        {"rid": "b", "createdTime": "2026-01-01T00:00:00Z"},
    ]
    assert latest_version(read(versions)) == read(versions)[0]


def test_without_readable_created_times_the_first_listed_version_is_the_latest():
    versions = [{"rid": "first", "createdTime": "yesterday"}, {"rid": "second", "createdTime": "2026-01-01T00:00:00Z"}]
    assert latest_version(read(versions)) == read(versions)[0]


def test_an_empty_branch_has_no_latest_version():
    assert latest_version([]) is None
