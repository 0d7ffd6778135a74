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


def ui_label(value: object, values_display: dict[str, str]) -> str:
    """The label Airflow's UI shows for a select option: ``values_display`` keyed by the value's text."""
    key = "null" if value is None else str(value)
    return values_display.get(key, key)


def test_every_authentication_option_has_a_label_and_none_reads_null() -> None:
    schema = CONN_FIELDS["auth_type"]["schema"]
    labels = [ui_label(value, schema["values_display"]) for value in schema["enum"]]

    assert labels == ["token", "oauth2", "automatic: oauth2 when Client ID is set, else token"]


def test_the_form_airflow_serves_labels_every_authentication_option() -> None:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (foundry,) = [hook for hook in HookMetaService.hook_meta_data() if hook.connection_type == "foundry"]
    served = foundry.extra_fields["auth_type"]["schema"]
    if "enum" in served:  # Airflow 3.2+ renders the declarative form: a select
        assert [ui_label(value, served["values_display"]) for value in served["enum"]] == [
            "token",
            "oauth2",
            "automatic: oauth2 when Client ID is set, else token",
        ]
    else:  # Airflow 3.1 builds the form from the hook's widgets: a text field
        assert served["type"] == ["string", "null"]
