"""How failure texts quote what went wrong: a transport's detail redacted and cut at 300 characters, a secret
that contains another redacted whole, and an error answer without a content type called so."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry import protocol
from airflow_provider_modelstudio.foundry.answers import quoted, redact
from airflow_provider_modelstudio.foundry.errors import FoundryServerError, error_from_response
from airflow_provider_modelstudio.foundry.protocol import Attempts, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy

BUILD = "ri.foundry.main.build.b1"
SECRET = "conn-secret-91ac"
SENT = "sent-token-3e7f"


pytestmark = pytest.mark.usefixtures("clock")


def test_a_transport_failure_is_quoted_redacted_and_cut_at_300_characters() -> None:
    attempts = Attempts(
        prepare("get_build", {"buildRid": BUILD}),
        RetryPolicy(max_attempts=1),
        conn_id="c1",
        can_renew_token=False,
        base_url="https://foundry.example",
        secrets=(SECRET,),
    )
    attempts.begin(SENT)
    detail = f"reset by a proxy that said {SECRET} and Token {SENT}; " + "x" * 400
    with pytest.raises(protocol.FoundryTransportError) as info:
        attempts.failed_on(ConnectionResetError("reset"), "no_answer", detail)
    shown = ("reset by a proxy that said *** and Token ***; " + "x" * 400)[:300] + "..."
    assert str(info.value) == (
        f"GET /api/v2/orchestration/builds/{BUILD} to connection 'c1' failed after 1 attempt(s) in 0.0 s: {shown}. "
        "Check the host and the network path to Foundry, or raise the connection's timeout."
    )


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        ("token=ABC-xyz", ["xyz", "ABC-xyz"]),
        ("token=ABC-xyz", ["ABC-xyz", "xyz"]),
        ("token=xyz-ABC", ["xyz-ABC", "ABC"]),
    ],
)
def test_a_secret_that_contains_another_is_redacted_whole(text: str, secrets: list[str]) -> None:
    assert redact(text, secrets) == "token=***"
    assert quoted(text, secrets) == "token=***"


def test_an_error_answer_without_a_content_type_says_it_had_none() -> None:
    error = error_from_response(method="GET", path="/p", status_code=502, body=b"upstream down")
    assert isinstance(error, FoundryServerError)
    assert str(error) == (
        "GET /p -> 502: The answer was not Foundry's JSON error envelope but a body (no content type): 'upstream "
        "down'. A proxy or load balancer in front of Foundry probably answered. Foundry failed on its side; quote the "
        "errorInstanceId to Palantir support if it persists."
    )
