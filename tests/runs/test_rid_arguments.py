"""RID arguments: a literal is checked when the DAG is parsed, naming the argument; a template only once
rendered."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.runs import arguments

TEMPLATE = "{{ ti.xcom_pull('launch')['rid'] }}"

CHECKS: dict[str, tuple[Callable[..., None], dict[str, Any], str, str]] = {
    "build": (arguments.check_build_rid, {"field": "build_rid"}, "ri.foundry.main.build.b1", "build_rid"),
    "model": (arguments.check_model_rid, {"field": "model_rid"}, "ri.models.main.model.m1", "model_rid"),
    "model version": (
        arguments.check_model_version_rid,
        {"field": "model_version_rid"},
        "ri.models.main.model-version.v1",
        "model_version_rid",
    ),
    "live deployment": (
        arguments.check_live_deployment_rid,
        {},
        "ri.foundry-ml-live.main.live-deployment.d1",
        "live_deployment_rid",
    ),
}


@pytest.mark.parametrize("kind", list(CHECKS))
def test_a_literal_rid_of_the_right_kind_is_accepted(kind: str) -> None:
    check, extra, good, _field = CHECKS[kind]
    check(good, rendered=False, **extra)
    check(good, rendered=True, **extra)


@pytest.mark.parametrize("kind", list(CHECKS))
def test_a_literal_rid_of_another_kind_is_refused_naming_the_argument(kind: str) -> None:
    check, extra, _good, field = CHECKS[kind]
    with pytest.raises(FoundryConfigError, match=re.escape(f"{field}='ri.models.main.model-studio.s' is not a")):
        check("ri.models.main.model-studio.s", rendered=False, **extra)


@pytest.mark.parametrize("kind", list(CHECKS))
def test_a_templated_rid_waits_for_rendering_and_is_checked_then(kind: str) -> None:
    check, extra, _good, field = CHECKS[kind]
    check(TEMPLATE, rendered=False, **extra)
    with pytest.raises(FoundryConfigError, match=re.escape(f"{field}=")):
        check(TEMPLATE, rendered=True, **extra)
