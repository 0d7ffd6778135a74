"""What a launch with a configuration checks without Foundry: which arguments make it create a version, and what
a trainer's schema refuses."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.runs.configuration import Configuration, schema_problems

SCHEMA = {
    "type": "object",
    "properties": {"rate": {"type": "number"}, "depth": {"type": "integer", "minimum": 1}},
    "required": ["rate"],
    "additionalProperties": False,
}


def test_nothing_given_launches_the_latest_configuration() -> None:
    assert not Configuration().given


@pytest.mark.parametrize("field", ["custom_config", "training_resources", "input_datasets", "name", "changelog"])
def test_any_one_argument_creates_a_version(field: str) -> None:
    value = "x" if field in ("name", "changelog") else {}
    assert Configuration(**{field: value}).given


def test_a_schema_names_every_problem_by_its_key_in_a_stable_order() -> None:
    assert schema_problems(SCHEMA, {"depth": 0, "extra": 1}) == [
        "custom_config: 'rate' is a required property",
        "custom_config: Additional properties are not allowed ('extra' was unexpected)",
        "custom_config['depth']: 0 is less than the minimum of 1",
    ]
    assert schema_problems(SCHEMA, {"rate": 0.1, "depth": 2}) == []


@pytest.mark.parametrize("schema", [None, {}])
def test_without_a_schema_anything_goes(schema: dict[str, object] | None) -> None:
    assert schema_problems(schema, {"anything": object()}) == []
