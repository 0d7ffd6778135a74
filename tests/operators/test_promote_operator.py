"""PromoteModelVersionOperator against the emulator: one copy per task, the rollback point in XCom."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import DEMO_CHAMPION_VERSION
from airflow_provider_modelstudio.operators.model_versions import PromoteModelVersionOperator
from tests.deploy_helpers import DEMO_PROD_MODEL, promoted_from, trained_candidate
from tests.lifecycle_helpers import FAST, context


def operator(candidate, **kwargs):
    kwargs.setdefault("retry", FAST)
    return PromoteModelVersionOperator(
        task_id="promote", model_rid=DEMO_PROD_MODEL, model_version_rid=candidate, branch="master", **kwargs
    )


def test_promotion_returns_the_copy_and_the_rollback_point(foundry_connection):
    candidate = trained_candidate(foundry_connection)
    ctx = context()
    result = operator(candidate).execute(ctx)
    latest = foundry_connection.model_versions(DEMO_PROD_MODEL, "master")[0]
    assert result["promoted_version_rid"] == latest["rid"]
    assert promoted_from(latest, candidate)
    assert result["previous_version_rid"] == DEMO_CHAMPION_VERSION
    assert ctx["ti"].pushed["promoted_version_rid"] == latest["rid"]
    assert ctx["ti"].pushed["previous_version_rid"] == DEMO_CHAMPION_VERSION
    assert latest["rid"] in ctx["ti"].pushed["model_version_url"]


def test_a_retried_task_adopts_its_copy_instead_of_promoting_again(foundry_connection):
    candidate = trained_candidate(foundry_connection)
    first = operator(candidate).execute(context())
    again = operator(candidate).execute(context())
    assert again["promoted_version_rid"] == first["promoted_version_rid"]
    assert again["adopted"] is True
    assert again["previous_version_rid"] == DEMO_CHAMPION_VERSION
    copies = [v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if promoted_from(v, candidate)]
    assert len(copies) == 1


def test_a_lost_answer_makes_one_copy(foundry_connection):
    candidate = trained_candidate(foundry_connection)
    foundry_connection.set_faults("promote_model_version", drop_after_create=1.0)
    result = operator(candidate).execute(context())
    copies = [v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if promoted_from(v, candidate)]
    assert [c["rid"] for c in copies] == [result["promoted_version_rid"]]


def test_promoting_a_version_that_does_not_exist_fails_without_retries(foundry_connection):
    with pytest.raises(AirflowFailException, match="ModelVersionNotFound"):
        operator("ri.models.main.model-version.missing").execute(context())


@pytest.mark.parametrize(
    "rid", [None, "../../..", "ri.foundry.main.build.b", "ri.models.main.model-version." + "v" * 100_000]
)
def test_an_answer_without_a_model_version_rid_announces_the_copy_foundry_lists(foundry_connection, mocker, rid):
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    candidate = trained_candidate(foundry_connection)
    real_run = ModelStudioHook._run

    def answering_a_bad_rid(hook, request):
        answer = real_run(hook, request)
        return dataclasses.replace(answer, rid=rid) if request.endpoint == "promote_model_version" else answer

    mocker.patch.object(ModelStudioHook, "_run", answering_a_bad_rid)
    ctx = context()
    result = operator(candidate).execute(ctx)
    copies = [v["rid"] for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if promoted_from(v, candidate)]
    assert copies == [result["promoted_version_rid"]] == [ctx["ti"].pushed["promoted_version_rid"]]
