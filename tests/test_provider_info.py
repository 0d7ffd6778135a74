"""Provider registration: what Airflow reads from this package, and what its UI makes of it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from importlib import resources
from importlib.metadata import distribution, entry_points
from typing import Any

import jsonschema
import pytest

from airflow_provider_modelstudio import __version__
from airflow_provider_modelstudio.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.provider_info import get_provider_info

DIST = "airflow-provider-modelstudio"


def airflow_schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("airflow").joinpath(name).read_text())


def foundry_connection_type() -> dict[str, Any]:
    (conn_type,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "foundry"]
    return conn_type


# The provider info itself ------------------------------------------------------------------------------


def test_provider_info_validates_against_airflows_schema() -> None:
    jsonschema.validate(get_provider_info(), airflow_schema("provider_info.schema.json"))


def test_connection_type_validates_against_the_provider_yaml_schema() -> None:
    item = airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]["items"]
    jsonschema.validate(foundry_connection_type(), item)


def test_package_name_is_the_distribution_name() -> None:
    assert get_provider_info()["package-name"] == distribution(DIST).metadata["Name"] == DIST


def test_provider_version_is_the_package_version() -> None:
    assert get_provider_info()["versions"] == [__version__]
    assert distribution(DIST).version == __version__


def test_entry_point_is_registered_and_returns_the_provider_info() -> None:
    (entry_point,) = [e for e in entry_points(group="apache_airflow_provider") if e.dist and e.dist.name == DIST]
    assert entry_point.value == "airflow_provider_modelstudio.provider_info:get_provider_info"
    assert entry_point.load()() == get_provider_info()


def test_connection_type_names_the_hook() -> None:
    conn_type = foundry_connection_type()
    assert conn_type["hook-class-name"] == "airflow_provider_modelstudio.hooks.modelstudio.ModelStudioHook"
    assert conn_type["hook-name"] == "Palantir Foundry" == ModelStudioHook.hook_name
    assert ModelStudioHook.conn_type == "foundry"
    assert ModelStudioHook.default_conn_name == "foundry_default"
    assert ModelStudioHook.conn_name_attr == "foundry_conn_id"


def test_every_connection_setting_has_a_form_field() -> None:
    from airflow_provider_modelstudio.foundry.settings import EXTRA_KEYS

    assert set(foundry_connection_type()["conn-fields"]) == set(EXTRA_KEYS)


def test_form_fields_are_optional_and_valid_json_schema() -> None:
    for name, spec in foundry_connection_type()["conn-fields"].items():
        jsonschema.Draft7Validator.check_schema(spec["schema"])
        assert "null" in spec["schema"]["type"], name
        jsonschema.validate(None, spec["schema"])  # the UI stores null for an empty field
        assert spec["label"]


def test_form_field_defaults_are_accepted_by_the_settings() -> None:
    from airflow_provider_modelstudio.foundry.settings import DEFAULT_TIMEOUT

    fields = foundry_connection_type()["conn-fields"]
    assert fields["timeout"]["schema"]["default"] == DEFAULT_TIMEOUT
    assert fields["verify"]["schema"]["default"] is True
    assert set(fields["auth_type"]["schema"]["enum"]) == {"token", "oauth2", None}


def test_form_hides_unused_standard_fields_and_relabels_the_rest() -> None:
    behaviour = foundry_connection_type()["ui-field-behaviour"]
    assert set(behaviour["hidden-fields"]) == {"schema", "port", "extra"}
    assert set(behaviour["relabeling"]) == {"host", "login", "password"}


def test_hook_field_behaviour_matches_the_declarative_one() -> None:
    declared = foundry_connection_type()["ui-field-behaviour"]
    assert ModelStudioHook.get_ui_field_behaviour() == {
        "hidden_fields": declared["hidden-fields"],
        "relabeling": declared["relabeling"],
        "placeholders": declared["placeholders"],
    }
    assert declared == UI_FIELD_BEHAVIOUR


def test_hook_field_behaviour_validates_against_airflows_schema() -> None:
    jsonschema.validate(
        ModelStudioHook.get_ui_field_behaviour(), airflow_schema("customized_form_field_behaviours.schema.json")
    )


def test_hook_form_widgets_match_the_declarative_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    # wtforms is not installed with Airflow 3 core; the 3.1 UI substitutes its own field classes the same way.
    class Field:
        def __init__(self, label: str, description: str = "") -> None:
            self.label = label
            self.description = description

    class StringField(Field):
        pass

    class BooleanField(Field):
        pass

    fake = types.ModuleType("wtforms")
    fake.StringField = StringField  # type: ignore[attr-defined]
    fake.BooleanField = BooleanField  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wtforms", fake)
    widgets = ModelStudioHook.get_connection_form_widgets()
    assert list(widgets) == list(CONN_FIELDS)
    assert {name: type(w).__name__ for name, w in widgets.items()} == {
        "auth_type": "StringField",
        "scopes": "StringField",
        "timeout": "StringField",
        "verify": "BooleanField",
        "build_url_template": "StringField",
        "model_version_url_template": "StringField",
        "live_deployment_url_template": "StringField",
    }
    assert all(widgets[name].label == spec["label"] for name, spec in CONN_FIELDS.items())


# What Airflow makes of it (a fresh interpreter: the providers manager is a process-wide singleton) ---------

_DISCOVER = textwrap.dedent(
    """
    import json, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from airflow.providers_manager import ProvidersManager
        from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

        meta = [m.model_dump(mode="json") for m in HookMetaService.hook_meta_data() if m.connection_type == "foundry"]
        pm = ProvidersManager()
        hook = pm.hooks["foundry"]
        provider = pm.providers["airflow-provider-modelstudio"]
    print("@@" + json.dumps({
        "version": provider.version,
        "hook": {"class": hook.hook_class_name, "name": hook.hook_name, "testable": hook.connection_testable,
                 "conn_id_attr": hook.connection_id_attribute_name},
        "widgets": sorted(k for k in pm.connection_form_widgets if k.startswith("extra__foundry__")),
        "behaviour": pm.field_behaviours.get("foundry"),
        "meta": meta,
        "warnings": [str(w.message) for w in caught if "modelstudio" in str(w.message).lower()],
    }))
    """
)


@pytest.fixture(scope="module")
def discovered() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _DISCOVER], capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1][2:])
    return result


def test_providers_manager_lists_the_provider(discovered: dict[str, Any]) -> None:
    assert discovered["version"] == __version__


def test_providers_manager_lists_the_foundry_connection_type(discovered: dict[str, Any]) -> None:
    assert discovered["hook"] == {
        "class": "airflow_provider_modelstudio.hooks.modelstudio.ModelStudioHook",
        "name": "Palantir Foundry",
        "testable": True,
        "conn_id_attr": "foundry_conn_id",
    }


def test_providers_manager_lists_the_form_fields_as_widgets(discovered: dict[str, Any]) -> None:
    assert discovered["widgets"] == sorted(f"extra__foundry__{name}" for name in CONN_FIELDS)


def test_providers_manager_reads_the_field_behaviour(discovered: dict[str, Any]) -> None:
    behaviour = discovered["behaviour"]
    assert behaviour["hidden_fields"] == UI_FIELD_BEHAVIOUR["hidden-fields"]
    assert behaviour["relabeling"] == UI_FIELD_BEHAVIOUR["relabeling"]
    assert behaviour["placeholders"]["host"] == "example.palantirfoundry.com"
    assert behaviour["placeholders"]["extra__foundry__scopes"] == UI_FIELD_BEHAVIOUR["placeholders"]["scopes"]


def test_connection_form_shows_relabelled_fields_and_every_extra_field(discovered: dict[str, Any]) -> None:
    (meta,) = discovered["meta"]
    assert meta["hook_name"] == "Palantir Foundry"
    standard = meta["standard_fields"]
    assert standard["host"] == {
        "hidden": False,
        "title": "Foundry hostname",
        "placeholder": "example.palantirfoundry.com",
    }
    assert standard["password"]["title"] == "Token, or Client Secret (OAuth2)"
    assert standard["port"]["hidden"] and standard["url_schema"]["hidden"]
    extra = meta["extra_fields"]
    assert list(extra) == list(CONN_FIELDS)
    assert {name: field["schema"]["title"] for name, field in extra.items()} == {
        name: spec["label"] for name, spec in CONN_FIELDS.items()
    }


def test_discovery_raises_no_provider_warnings(discovered: dict[str, Any]) -> None:
    assert discovered["warnings"] == []
