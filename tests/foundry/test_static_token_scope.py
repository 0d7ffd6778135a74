"""A missing scope on a static-token connection keeps everything Foundry said and only changes the advice."""

from __future__ import annotations

from airflow_provider_modelstudio.foundry.errors import MissingScope, StaticTokenMissingScope


def test_the_static_token_form_of_a_missing_scope_keeps_every_detail_and_advises_another_token() -> None:
    refusal = MissingScope(
        method="POST",
        path="/api/v2/models/modelStudios/s/launch",
        status_code=403,
        error_name="ApiUsageDenied",
        error_code="PERMISSION_DENIED",
        error_instance_id="e-7",
        parameters={"missingScope": "api:models-write"},
        detail="denied",
        retry_after=4.0,
    )
    converted = StaticTokenMissingScope.of(refusal)
    kept = ("method", "path", "status_code", "error_name", "error_code", "error_instance_id", "parameters", "detail")
    assert {name: getattr(converted, name) for name in kept} == {name: getattr(refusal, name) for name in kept}
    assert converted.retry_after == 4.0
    assert str(converted) == str(refusal).replace(MissingScope.hint, StaticTokenMissingScope.hint)
    assert "use a token that carries it" in str(converted)
