"""Watched dataset assets: one per dataset branch with its watcher, and a studio's training data read once per
ten minutes when DAG files are parsed, surviving a Foundry outage."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset

from airflow_provider_modelstudio.assets import convert_asset_to_openlineage
from airflow_provider_modelstudio.datasets import watchers
from airflow_provider_modelstudio.datasets.watchers import training_data, watched_dataset
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.emulator.catalog import training_dataset_rid
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError, FoundryTransportError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import requests_of

STUDIO = "ri.models.main.model-studio.demo"
DATASET = "ri.foundry.main.dataset.d1"


@pytest.fixture(autouse=True)
def _cache_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchers, "CACHE_DIRECTORY", tmp_path)


def config_reads(emulator: FoundryEmulator) -> int:
    return sum(requests_of(emulator.counters(), "get_latest_config_version").values())


def test_a_watched_dataset_is_an_asset_of_the_branch_with_its_watcher(
    foundry_connection: FoundryEmulator, set_connection: Any
) -> None:
    set_connection("foundry_other", host="https://other.example.com", password="t")
    other = watched_dataset(DATASET, foundry_conn_id="foundry_other")
    assert other.uri == f"foundry://other.example.com/datasets/{DATASET}/branches/master"
    assert other.watchers[0].trigger.serialize()[1]["foundry_conn_id"] == "foundry_other"
    assert other.watchers[0].trigger.serialize()[1]["poll_interval"] == 60.0
    given = watched_dataset(DATASET, host="given.example.com")
    assert given.uri == f"foundry://given.example.com/datasets/{DATASET}/branches/master"
    assert given.watchers[0].name == f"foundry_dataset_{hashlib.sha256(given.uri.encode()).hexdigest()[:12]}"
    asset = watched_dataset(DATASET, branch="feature/x", poll_interval=5)
    authority = foundry_connection.url.split("://", 1)[1]
    assert asset.uri == f"foundry://{authority}/datasets/{DATASET}/branches/feature%2Fx"
    assert (asset.name, asset.group) == (asset.uri, "dataset")
    (watcher,) = asset.watchers
    assert watcher.trigger.serialize()[1] == {
        "dataset_rid": DATASET,
        "branch": "feature/x",
        "foundry_conn_id": "foundry_default",
        "poll_interval": 5.0,
        "retry": None,
    }
    lineage = convert_asset_to_openlineage(asset, None)
    assert (lineage.namespace, lineage.name) == (f"foundry://{authority}", DATASET)


def test_dataset_asset_uris_are_checked_and_made_canonical() -> None:
    made = Asset(uri=f"foundry://Stack.Example.COM:443/datasets/{DATASET}/branches/master")
    assert made.uri == f"foundry://stack.example.com/datasets/{DATASET}/branches/master"
    for wrong, named in [
        (f"foundry://h/datasets/{DATASET}", "expected foundry://<host>/datasets/<datasetRid>/branches/<branch>"),
        ("foundry://h/datasets/ri.models.main.model.m/branches/master", "the dataset RID of asset URI"),
        (f"foundry://h/datasets/{DATASET}/branches/master?x=1", "has a query"),
    ]:
        with pytest.raises(ValueError, match=named.replace("?", r"\?")):
            Asset(uri=wrong)


def test_a_studios_training_data_is_read_once_then_kept(foundry_connection: FoundryEmulator, tmp_path: Path) -> None:
    assert [a.watchers[0].trigger.serialize()[1]["poll_interval"] for a in training_data(STUDIO)] == [60.0]
    (kept,) = tmp_path.glob("training-data-*.json")
    assert json.loads(kept.read_text())["datasets"] == [training_dataset_rid(STUDIO)]
    assert json.loads(kept.read_text())["host"] == foundry_connection.url
    first = training_data(STUDIO, poll_interval=30)
    again = training_data(STUDIO, poll_interval=30)
    assert [a.uri.rsplit("/datasets/", 1)[1] for a in first] == [f"{training_dataset_rid(STUDIO)}/branches/master"]
    assert [a.uri for a in again] == [a.uri for a in first]
    assert config_reads(foundry_connection) == 1
    assert first[0].uri == watched_dataset(training_dataset_rid(STUDIO)).uri
    (develop,) = training_data(STUDIO, branch="develop", poll_interval=30)
    assert develop.uri.endswith(f"/datasets/{training_dataset_rid(STUDIO)}/branches/develop")
    arguments = develop.watchers[0].trigger.serialize()[1]
    assert (arguments["branch"], arguments["poll_interval"]) == ("develop", 30.0)


def test_a_kept_answer_is_read_again_once_ten_minutes_old_or_unreadable(
    foundry_connection: FoundryEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training_data(STUDIO)
    (kept,) = tmp_path.glob("training-data-*.json")
    stored = json.loads(kept.read_text())
    kept.write_text(json.dumps({**stored, "read_at": stored["read_at"] - watchers.REREAD_SECONDS}))
    training_data(STUDIO)
    assert config_reads(foundry_connection) == 2
    for broken in ("{not json", json.dumps({**stored, "datasets": [1]}), json.dumps({**stored, "datasets": "x"})):
        kept.write_text(broken)
        training_data(STUDIO)
    assert config_reads(foundry_connection) == 5


def test_a_cache_that_cannot_be_written_is_warned_about_and_foundry_read_each_time(
    foundry_connection: FoundryEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(watchers, "CACHE_DIRECTORY", blocked / "nested" / "deeper")
    assert len(training_data(STUDIO)) == len(training_data(STUDIO)) == 1
    assert config_reads(foundry_connection) == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == watchers.__name__]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"Could not keep the training datasets in {blocked}/nested/deeper/training-data-")
    assert warnings[0].endswith("); Foundry is read at every parse.")


def test_the_cache_directory_is_made_when_missing(
    foundry_connection: FoundryEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchers, "CACHE_DIRECTORY", tmp_path / "one" / "two")
    training_data(STUDIO)
    assert len(list((tmp_path / "one" / "two").glob("training-data-*.json"))) == 1


def test_when_foundry_cannot_be_read_the_last_answer_is_used_and_without_one_the_dag_fails_to_import(
    foundry_connection: FoundryEmulator, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    foundry_connection.set_faults("get_latest_config_version", rate_500=1.0)
    with pytest.raises(FoundryError):
        training_data(STUDIO)
    foundry_connection.clear_faults()
    kept = training_data(STUDIO)
    monkeypatch.setattr(watchers, "REREAD_SECONDS", 0.0)
    foundry_connection.set_faults("get_latest_config_version", rate_500=1.0)
    with caplog.at_level(logging.WARNING):
        assert [a.uri for a in training_data(STUDIO)] == [a.uri for a in kept]
    (warning,) = [r.getMessage() for r in caplog.records if r.name == watchers.__name__]
    found = re.fullmatch(
        rf"Could not read the configuration of {re.escape(STUDIO)} \((.+)\); watching the datasets read (\d+) s ago\.",
        warning,
    )
    assert found is not None, warning
    assert "500" in found[1] and int(found[2]) < 60


def test_a_failing_foundry_is_tried_twice_at_parse_time_then_the_last_answer_used(
    foundry_connection: FoundryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = training_data(STUDIO)
    monkeypatch.setattr(watchers, "REREAD_SECONDS", 0.0)
    foundry_connection.set_faults("get_latest_config_version", rate_503=1.0)
    assert [a.uri for a in training_data(STUDIO)] == [a.uri for a in kept]
    assert requests_of(foundry_connection.counters(), "get_latest_config_version") == {"200": 1, "503": 2}


def test_a_hanging_foundry_is_given_up_on_at_the_parse_timeout_whatever_the_connections_timeout(
    foundry_connection: FoundryEmulator, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    kept = training_data(STUDIO)
    monkeypatch.setattr(watchers, "REREAD_SECONDS", 0.0)
    monkeypatch.setattr(watchers, "PARSE_TIMEOUT", 0.2)
    foundry_connection.set_faults("get_latest_config_version", rate_hang=1.0, hang_seconds=3)
    with caplog.at_level(logging.WARNING):
        assert [a.uri for a in training_data(STUDIO)] == [a.uri for a in kept]
    (warning,) = [r.getMessage() for r in caplog.records if r.name == watchers.__name__]
    assert "failed after 2 attempt(s)" in warning and "no answer within the read timeout" in warning, warning
    assert "raise the connection's timeout" not in warning
    assert "waits on Foundry at most 0.2 s and tries twice whatever the connection's timeout" in warning


def test_a_first_parse_that_cannot_reach_foundry_fails_to_import_naming_the_parse_time_limits_not_the_connections(
    foundry_connection: FoundryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchers, "PARSE_TIMEOUT", 0.2)
    foundry_connection.set_faults("get_latest_config_version", rate_hang=1.0, hang_seconds=3)
    with pytest.raises(FoundryTransportError) as failed:
        training_data(STUDIO)
    message = str(failed.value)
    assert message.startswith("GET /api/v2/models/modelStudios/") and "failed after 2 attempt(s)" in message, message
    assert "raise the connection's timeout" not in message
    assert message.endswith(
        "check that Foundry is reachable from the dag-processor; the DAG is scheduled at the first parse after it "
        "answers."
    )
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_a_studio_without_dataset_inputs_is_refused_with_what_to_do(
    foundry_connection: FoundryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_configuration(self: ModelStudioHook, rid: str) -> Any:
        return None

    monkeypatch.setattr(ModelStudioHook, "get_latest_config_version", no_configuration)
    with pytest.raises(FoundryConfigError, match="has no configuration yet, so it has no training data to watch"):
        training_data(STUDIO)
    with pytest.raises(FoundryConfigError, match=r"^model_studio_rid="):
        training_data("ri.foundry.main.dataset.d1")


def test_a_configuration_without_dataset_inputs_is_refused_naming_its_version(
    foundry_connection: FoundryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ModelStudioHook.get_latest_config_version

    def without_inputs(self: ModelStudioHook, rid: str) -> Any:
        return dataclasses.replace(real(self, rid), inputs=())

    monkeypatch.setattr(ModelStudioHook, "get_latest_config_version", without_inputs)
    with pytest.raises(
        FoundryConfigError, match=r"configuration v1 has no dataset input, so .* watched_dataset\(\)\.$"
    ):
        training_data(STUDIO)
