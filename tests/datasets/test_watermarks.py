"""Watermarks in Airflow Variables: one key per watcher (any differing argument makes another), the value names
what it belongs to, and what cannot be read as a watermark reads as none."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_modelstudio.datasets.news import Watermark
from airflow_provider_modelstudio.datasets.watermarks import PREFIX, VariableWatermarks, watermark_key

DATASET = "ri.foundry.main.dataset.d"
ARGUMENTS = {"dataset_rid": DATASET, "branch": "master", "foundry_conn_id": "c", "poll_interval": 60.0, "retry": None}


class Variables:
    """Stands in for ``airflow.sdk.Variable``: keeps what is set as Airflow would (JSON text when serialized)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.descriptions: dict[str, str | None] = {}

    def get(self, key: str, default: Any = KeyError, deserialize_json: bool = False) -> Any:
        if key not in self.values:
            if default is KeyError:
                raise KeyError(f"Variable {key} does not exist")
            return default
        return json.loads(self.values[key]) if deserialize_json else self.values[key]

    def set(self, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        self.values[key] = json.dumps(value) if serialize_json else value
        self.descriptions[key] = description


@pytest.fixture
def variables(monkeypatch: pytest.MonkeyPatch) -> Variables:
    import airflow.sdk

    kept = Variables()
    monkeypatch.setattr(airflow.sdk, "Variable", kept)
    return kept


def test_each_watcher_has_its_own_key_and_the_same_watcher_always_the_same() -> None:
    key = watermark_key(DATASET, ARGUMENTS)
    assert key.startswith(f"{PREFIX}{DATASET}.") and len(key) == len(PREFIX) + len(DATASET) + 1 + 16
    assert watermark_key(DATASET, dict(reversed(list(ARGUMENTS.items())))) == key
    others = {watermark_key(DATASET, {**ARGUMENTS, name: "other"}) for name in ARGUMENTS}
    assert len(others) == len(ARGUMENTS) and key not in others


def test_a_saved_watermark_is_loaded_back_with_what_it_belongs_to_beside_it(variables: Variables) -> None:
    store, key = VariableWatermarks(), watermark_key(DATASET, ARGUMENTS)
    about = {"dataset_rid": DATASET, "branch": "master", "foundry_conn_id": "c"}
    assert asyncio.run(store.load(key)) is None
    asyncio.run(store.save(key, Watermark("t1", "2026-12-05T10:00:00Z"), about))
    assert json.loads(variables.values[key]) == {
        **about,
        "transaction_rid": "t1",
        "closed_time": "2026-12-05T10:00:00Z",
    }
    assert variables.descriptions[key] == (
        "The last Foundry dataset transaction a dataset watcher announced (airflow-provider-modelstudio). Delete it "
        "to make the watcher start again from the branch's newest transaction."
    )
    assert asyncio.run(store.load(key)) == Watermark("t1", "2026-12-05T10:00:00Z")


def test_a_variable_edited_into_something_else_reads_as_no_watermark(variables: Variables) -> None:
    key = watermark_key(DATASET, ARGUMENTS)
    variables.values[key] = json.dumps(["not", "a", "watermark"])
    assert asyncio.run(VariableWatermarks().load(key)) is None
