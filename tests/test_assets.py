"""The ``foundry`` asset URI scheme: the helpers users build model assets with, the handler Airflow normalises
``foundry://`` URIs with, the factory and the OpenLineage converter, and that Airflow finds all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from airflow.sdk import Asset

from airflow_provider_modelstudio.assets import (
    authority_of,
    convert_asset_to_openlineage,
    create_asset,
    model_asset,
    model_asset_ref,
    model_asset_uri,
    read_model_asset_uri,
    sanitize_uri,
)
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError

MODEL = "ri.models.main.model.1a2b3c4d"
URI = f"foundry://stack.example.com/models/{MODEL}"
AIRFLOW = Path(sys.executable).with_name("airflow")


def in_fresh_airflow(code: str, tmp_path: Path) -> str:
    """Run ``code`` in a new interpreter with its own AIRFLOW_HOME; return its stdout."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# Building URIs -------------------------------------------------------------------------------------------------


def test_model_asset_uri_names_the_model_on_the_host() -> None:
    assert model_asset_uri("stack.example.com", MODEL) == URI


def test_model_asset_uri_names_a_branch_percent_encoded() -> None:
    assert model_asset_uri("stack.example.com", MODEL, "feature/x") == f"{URI}/branches/feature%2Fx"


@pytest.mark.parametrize(
    ("host", "authority"),
    [
        ("https://Stack.Example.com", "stack.example.com"),
        ("https://stack.example.com:443", "stack.example.com"),
        ("stack.example.com:8443", "stack.example.com:8443"),
        ("http://127.0.0.1:8080", "127.0.0.1:8080"),
        ("http://[::1]:8080", "[::1]:8080"),
        ("stack.example.com:443", "stack.example.com"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("127.0.0.1:443", "127.0.0.1:443"),
    ],
)
def test_the_host_is_written_lower_case_without_scheme_or_default_port(host: str, authority: str) -> None:
    assert authority_of(host) == authority


def test_a_value_that_is_no_model_rid_is_refused_naming_it() -> None:
    with pytest.raises(FoundryConfigError, match=r"model_rid='ri\.models\.main\.model-version\.x' is not a model RID"):
        model_asset_uri("stack.example.com", "ri.models.main.model-version.x")


def test_an_empty_branch_is_refused() -> None:
    with pytest.raises(FoundryConfigError, match="branch=' ' is not a branch name"):
        model_asset_uri("stack.example.com", MODEL, " ")


def test_model_asset_reads_the_host_of_the_connection(set_connection: Any) -> None:
    set_connection("foundry_default", host="https://Stack.Example.com", password="t")

    asset = model_asset(MODEL)

    assert (asset.uri, asset.name, asset.group) == (URI, URI, "model")


def test_model_asset_reads_the_named_connection(set_connection: Any) -> None:
    set_connection("other_foundry", host="other.example.com", password="t")

    assert model_asset(MODEL, foundry_conn_id="other_foundry").uri == f"foundry://other.example.com/models/{MODEL}"


def test_model_asset_with_a_host_reads_no_connection() -> None:
    assert model_asset(MODEL, foundry_conn_id="nowhere", host="stack.example.com").uri == URI


def test_model_asset_without_the_connection_says_where_to_define_it() -> None:
    with pytest.raises(FoundryConfigError, match=r"Connection 'nowhere' is not defined where this DAG is parsed"):
        model_asset(MODEL, foundry_conn_id="nowhere")


def test_model_asset_refuses_a_connection_whose_host_is_no_host(set_connection: Any) -> None:
    set_connection("foundry_default", host="https://stack.example.com/some/path", password="t")

    with pytest.raises(FoundryConfigError, match="contains a path"):
        model_asset(MODEL)


# Reading and normalising URIs ----------------------------------------------------------------------------------


def test_sanitize_lower_cases_the_host_and_encodes_the_branch_one_way() -> None:
    parts = urlsplit(f"foundry://STACK.example.com/models/{MODEL}/branches/feature%2fx")

    assert sanitize_uri(parts).geturl() == f"{URI}/branches/feature%2Fx"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("stack.example.com:443", "stack.example.com"),
        ("STACK.example.com:8443", "stack.example.com:8443"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("127.0.0.1:8765", "127.0.0.1:8765"),
        ("[::1]:80", "[::1]"),
    ],
)
def test_sanitize_leaves_out_the_default_port_as_the_helpers_do(written: str, canonical: str) -> None:
    parts = urlsplit(f"foundry://{written}/models/{MODEL}")

    assert sanitize_uri(parts).geturl() == f"foundry://{canonical}/models/{MODEL}"
    assert model_asset_uri(written, MODEL) == f"foundry://{canonical}/models/{MODEL}"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("foundry:///models/ri.models.main.model.a", "names no Foundry host"),
        ("foundry://h/models", "has the path"),
        ("foundry://h/datasets/ri.models.main.model.a", "has the path"),
        ("foundry://h/models/ri.models.main.model.a/versions/x", "has the path"),
        ("foundry://h/models/ri.models.main.model.a?branch=x", "has a query"),
        ("foundry://user:secret@h/models/ri.models.main.model.a", "holds credentials"),
        ("foundry://h/models/not-a-rid", "is not a model RID"),
        ("s3://h/models/ri.models.main.model.a", "is not a foundry:// URI"),
    ],
)
def test_a_uri_of_another_form_is_refused(uri: str, message: str) -> None:
    with pytest.raises(FoundryConfigError, match=message):
        read_model_asset_uri(uri)


def test_a_refused_uri_is_a_value_error_as_airflow_expects() -> None:
    with pytest.raises(ValueError, match="has the path"):
        sanitize_uri(urlsplit("foundry://h/models"))


def test_model_asset_ref_reads_foundry_assets_only() -> None:
    assert model_asset_ref(Asset(name="x", uri="s3://bucket/key")) is None
    assert model_asset_ref("foundry://h/models/x") is None
    ref = model_asset_ref(create_asset(host="stack.example.com", model_rid=MODEL, branch="main"))
    assert ref is not None
    assert (ref.authority, ref.model_rid, ref.branch) == ("stack.example.com", MODEL, "main")


def test_the_factory_makes_the_same_asset_as_the_helper() -> None:
    made = create_asset(host="https://stack.example.com", model_rid=MODEL, extra={"team": "ml"})

    assert (made.uri, made.name, made.group, made.extra) == (URI, URI, "model", {"team": "ml"})
    assert made == Asset(name=URI, uri=URI, group="model", extra={"team": "ml"})


def test_the_openlineage_converter_names_the_model_in_the_foundry_namespace() -> None:
    dataset = convert_asset_to_openlineage(create_asset(host="stack.example.com", model_rid=MODEL), None)

    assert (dataset.namespace, dataset.name) == ("foundry://stack.example.com", MODEL)


def test_the_openlineage_converter_names_a_branch_after_the_model() -> None:
    dataset = convert_asset_to_openlineage(
        create_asset(host="stack.example.com", model_rid=MODEL, branch="staging"), None
    )

    assert dataset.name == f"{MODEL}/branches/staging"


# What Airflow sees -----------------------------------------------------------------------------------------------


def test_airflow_normalises_foundry_uris_with_the_providers_handler(tmp_path: Path) -> None:
    out = in_fresh_airflow(
        f"""
        from airflow.sdk import Asset
        print(Asset(uri="FOUNDRY://Stack.Example.COM/models/{MODEL}/").uri)
        """,
        tmp_path,
    )

    assert out.strip() == URI


def test_airflow_refuses_a_malformed_foundry_uri_when_the_asset_is_made(tmp_path: Path) -> None:
    out = in_fresh_airflow(
        """
        from airflow.sdk import Asset
        try:
            Asset(uri="foundry://stack.example.com/models")
        except ValueError as exc:
            print("refused:", exc)
        """,
        tmp_path,
    )

    assert out.startswith("refused: Asset URI 'foundry://stack.example.com/models' has the path")


def test_the_providers_manager_registers_handler_factory_and_converter(tmp_path: Path) -> None:
    out = in_fresh_airflow(
        """
        import json
        try:
            from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
        except ImportError:  # Airflow < 3.2
            from airflow.providers_manager import ProvidersManager as Manager
        manager = Manager()
        found = [manager.asset_uri_handlers, manager.asset_factories, manager.asset_to_openlineage_converters]
        print(json.dumps([f"{f['foundry'].__module__}.{f['foundry'].__name__}" for f in found]))
        """,
        tmp_path,
    )

    assert json.loads(out) == [
        "airflow_provider_modelstudio.assets.sanitize_uri",
        "airflow_provider_modelstudio.assets.create_asset",
        "airflow_provider_modelstudio.assets.convert_asset_to_openlineage",
    ]


def test_airflow_providers_get_shows_the_foundry_scheme(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(AIRFLOW), "providers", "get", "airflow-provider-modelstudio", "--full", "--output", "json"],
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    (info,) = json.loads(done.stdout[done.stdout.index("[") :])
    (uris,) = info["asset-uris"]
    assert uris["schemes"] == ["foundry"]
    assert uris["handler"] == "airflow_provider_modelstudio.assets.sanitize_uri"
