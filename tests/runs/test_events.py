import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.events import make_event, read_event


def test_an_event_round_trips():
    event = make_event("final", build_rid="ri.foundry.main.build.b", status="SUCCEEDED")
    assert read_event(event) == event


@pytest.mark.parametrize(
    "event",
    [None, {}, {"kind": "done"}, {"kind": "final", "build_rid": "b"}, {"kind": "error", "build_rid": 1}],
)
def test_a_malformed_event_is_refused_with_a_readable_error(event):
    with pytest.raises(FoundryError, match="cannot read"):
        read_event(event)


def test_an_event_without_a_message_carries_an_empty_one():
    event = make_event("final", build_rid="ri.foundry.main.build.b", status="SUCCEEDED")
    assert event["message"] == ""
    assert event["transient"] is False
