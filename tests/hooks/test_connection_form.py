"""The connection form Airflow 3.1 asks the hook for (3.2+ reads the same data from the provider info): a
checkbox for ``verify``, text fields for the rest, each labelled and described as the provider info says."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from airflow_provider_modelstudio.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook


class Field:
    """Stands in for a wtforms field class: records how it was made."""

    def __init__(self, label: str, description: str) -> None:
        self.label = label
        self.description = description


class BooleanField(Field):
    pass


class StringField(Field):
    pass


@pytest.fixture
def widgets(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The hook's form widgets, made with stand-ins for wtforms' fields (which Airflow 3.2+ no longer installs)."""
    wtforms = types.ModuleType("wtforms")
    wtforms.BooleanField = BooleanField  # type: ignore[attr-defined]
    wtforms.StringField = StringField  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    return ModelStudioHook.get_connection_form_widgets()


def test_the_form_has_a_widget_for_every_extra_field(widgets: dict[str, Any]) -> None:
    assert list(widgets) == list(CONN_FIELDS)


def test_verify_is_a_checkbox_and_every_other_field_is_text(widgets: dict[str, Any]) -> None:
    assert {name: type(widget) for name, widget in widgets.items()} == {
        name: BooleanField if name == "verify" else StringField for name in CONN_FIELDS
    }


def test_each_widget_is_labelled_and_described_as_the_provider_info_says(widgets: dict[str, Any]) -> None:
    assert widgets["auth_type"].label == "Authentication"
    assert widgets["auth_type"].description == CONN_FIELDS["auth_type"]["description"]
    assert widgets["verify"].label == "Verify TLS certificates"
    assert widgets["verify"].description == ""


def test_the_field_behaviour_uses_the_names_airflow_3_1_reads() -> None:
    behaviour = ModelStudioHook.get_ui_field_behaviour()
    assert behaviour == {
        "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
        "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
        "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
    }
