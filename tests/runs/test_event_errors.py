"""What a task raises for a trigger's ``error`` event, and what it says about an event it cannot read."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.runs.events import event_error, make_event, read_event

BUILD = "ri.foundry.main.build.b"


def test_an_error_event_after_transient_failures_raises_a_retryable_error_with_its_message() -> None:
    error = event_error(make_event("error", build_rid=BUILD, message="3 checks failed", transient=True))
    assert isinstance(error, PollingFailedError)
    assert str(error) == "3 checks failed"


def test_an_error_event_after_a_permanent_failure_raises_a_plain_foundry_error_with_its_message() -> None:
    error = event_error(make_event("error", build_rid=BUILD, message="build not found"))
    assert type(error) is FoundryError
    assert str(error) == "build not found"


def test_an_unreadable_event_is_blamed_on_a_bug_or_a_version_mismatch() -> None:
    with pytest.raises(FoundryError) as info:
        read_event({"kind": "done"})
    assert str(info.value) == (
        "The trigger sent back an event this provider cannot read: {'kind': 'done'}. This is a bug in "
        "airflow-provider-modelstudio or a mismatch between the worker's and the triggerer's versions of it."
    )
