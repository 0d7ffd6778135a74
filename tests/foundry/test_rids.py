"""RID validation: well-formed RIDs of the right kind pass, anything else is refused before any request."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import (
    BUILD,
    MODEL,
    MODEL_STUDIO,
    MODEL_VERSION,
    RID_PATTERN,
    answered_rid,
    validate_rid,
)

UUID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


@pytest.mark.parametrize(
    "rid",
    [
        f"ri.models.main.model-studio.{UUID}",
        "ri.models.main.model-studio.demo",
        "ri.models..model-studio.x",  # the instance may be empty
        "ri.models.stack-2.model-studio.A.b_c-d",
    ],
)
def test_well_formed_studio_rids_are_accepted(rid: str) -> None:
    assert validate_rid(rid, MODEL_STUDIO, field="model_studio_rid") == rid


def test_surrounding_whitespace_is_stripped() -> None:
    rid = f"ri.models.main.model-studio.{UUID}"
    assert validate_rid(f"  {rid}\n", MODEL_STUDIO, field="model_studio_rid") == rid


@pytest.mark.parametrize(
    "value",
    [
        "",
        "demo",
        UUID,
        f"ri.models.main.model.{UUID}",  # a model, not a studio
        f"ri.foundry.main.model-studio.{UUID}",  # wrong service
        f"https://example.palantirfoundry.com/workspace/model-studio/ri.models.main.model-studio.{UUID}",
        f"ri.models.main.model-studio.{UUID}/",
        "ri.Models.main.model-studio.x",
        "ri.models.main.model-studio.",
        None,
        42,
        ["ri.models.main.model-studio.x"],
    ],
)
def test_malformed_or_wrong_kind_studio_rids_are_refused(value: Any) -> None:
    with pytest.raises(FoundryConfigError):
        validate_rid(value, MODEL_STUDIO, field="model_studio_rid")


def test_refusal_names_the_field_the_value_and_the_expected_form() -> None:
    with pytest.raises(FoundryConfigError) as info:
        validate_rid("my-studio", MODEL_STUDIO, field="model_studio_rid")
    message = str(info.value)
    assert "model_studio_rid='my-studio'" in message
    assert "ri.models.<instance>.model-studio.<locator>" in message
    assert "Model Studio RID" in message
    assert "URL" in message  # where to find it


def test_refusal_is_a_value_error_too() -> None:
    with pytest.raises(ValueError, match="not a Model Studio RID"):
        validate_rid("x", MODEL_STUDIO, field="model_studio_rid")


@pytest.mark.parametrize("rid", [f"ri.foundry-build.main.build.{UUID}", f"ri.foundry.main.build.{UUID}"])
def test_both_build_rid_forms_are_accepted(rid: str) -> None:
    assert validate_rid(rid, BUILD, field="build_rid") == rid


@pytest.mark.parametrize(
    "rid", [f"ri.foundry-build.main.job.{UUID}", f"ri.models.main.build.{UUID}", f"ri.foundry.main.dataset.{UUID}"]
)
def test_other_rids_are_not_builds(rid: str) -> None:
    with pytest.raises(FoundryConfigError, match=r"ri\.foundry-build\.<instance>\.build\.<locator>"):
        validate_rid(rid, BUILD, field="build_rid")


def test_model_and_model_version_rids_are_told_apart() -> None:
    model = f"ri.models.main.model.{UUID}"
    version = f"ri.models.main.model-version.{UUID}"
    assert validate_rid(model, MODEL, field="model_rid") == model
    assert validate_rid(version, MODEL_VERSION, field="model_version_rid") == version
    with pytest.raises(FoundryConfigError, match="model_rid="):
        validate_rid(version, MODEL, field="model_rid")
    with pytest.raises(FoundryConfigError, match="model_version_rid="):
        validate_rid(model, MODEL_VERSION, field="model_version_rid")


def test_pattern_is_the_official_clients() -> None:
    from foundry_sdk.v2.orchestration.models import Build

    sdk_pattern = Build.model_fields["rid"].metadata[0].pattern
    assert RID_PATTERN.pattern == sdk_pattern


def test_a_rid_longer_than_the_limit_is_refused_from_users_and_quoted_short() -> None:
    long = "ri.models.main.model-version." + "v" * 300
    with pytest.raises(FoundryConfigError) as info:
        validate_rid(long, MODEL_VERSION, field="model_version_rid")
    assert str(info.value).startswith(f"model_version_rid={repr(long)[:100]}... is not a model version RID.")


@pytest.mark.parametrize(
    "value",
    [
        "ri.models.main.model-version.v\n",
        " ri.models.main.model-version.v",
        "ri.models.main.model-version." + "v" * 300,
    ],
    ids=["trailing-newline", "leading-space", "too-long"],
)
def test_a_rid_from_an_answer_must_be_exactly_a_rid(value: str) -> None:
    with pytest.raises(FoundryAnswerError, match="which is not a model version RID"):
        answered_rid(value, MODEL_VERSION, field="rid", what="promoteVersion")


def test_a_rid_from_an_answer_is_quoted_with_the_secrets_redacted() -> None:
    with pytest.raises(FoundryAnswerError) as info:
        answered_rid("ri.x.s3cret-token", MODEL_VERSION, field="rid", what="promoteVersion", secrets=["s3cret-token"])
    assert "holds ri.x.*** as rid" in str(info.value)
    assert "s3cret-token" not in str(info.value)
