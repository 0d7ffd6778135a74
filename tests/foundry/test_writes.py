"""may_have_written: which failures of a write Foundry cannot deduplicate must be reconciled before any retry."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.writes import may_have_written

ENVELOPE_503 = {"error_code": "CUSTOM_SERVER", "error_name": "Default:Unavailable"}
ENVELOPE_429 = {"error_code": "TOO_MANY_REQUESTS", "error_name": "Default:TooManyRequests"}


@pytest.mark.parametrize(
    "error",
    [
        errors.FoundryTransportError("x", method="POST", path="/p", may_have_reached_server=True),
        errors.FoundryServerError(method="POST", path="/p", status_code=500),
        errors.FoundryServerError(method="POST", path="/p", status_code=502),
        errors.FoundryServerError(method="POST", path="/p", status_code=504),
        errors.FoundryUnavailable(method="POST", path="/p", status_code=503, **ENVELOPE_503),
        errors.FoundryRateLimited(method="POST", path="/p", status_code=429, **ENVELOPE_429),
        errors.FoundryUnavailable(method="POST", path="/p", status_code=503),
        errors.FoundryRateLimited(method="POST", path="/p", status_code=429),
        errors.FoundryApiError(method="POST", path="/p", status_code=408),
        errors.FoundryAnswerTooLarge("x", method="POST", path="/p", limit=1),
        errors.FoundryAnswerError("the answer's rid is not a model version RID"),
    ],
    ids=lambda e: f"{type(e).__name__}{getattr(e, 'status_code', '')}{'-envelope' * getattr(e, 'from_foundry', False)}",
)
def test_failures_after_the_request_may_have_been_sent_may_have_written(error: errors.FoundryError) -> None:
    assert may_have_written(error) is True


@pytest.mark.parametrize(
    "error",
    [
        errors.FoundryTransportError("x", method="POST", path="/p", may_have_reached_server=False),
        errors.FoundryRedirected(method="POST", path="/p", status_code=307),
        errors.FoundryBadRequest(method="POST", path="/p", status_code=400),
        errors.FoundryPermissionDenied(method="POST", path="/p", status_code=403),
        errors.FoundryNotFound(method="POST", path="/p", status_code=404),
        errors.FoundryConflict(method="POST", path="/p", status_code=409),
        errors.FoundryApiError(method="POST", path="/p", status_code=413),
        errors.FoundryCertificateError("x"),
        errors.FoundryAuthError("x"),
        errors.FoundryConfigError("x"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status_code", "")),
)
def test_a_request_never_sent_redirected_or_refused_as_it_stands_has_not_written(error: errors.FoundryError) -> None:
    assert may_have_written(error) is False
