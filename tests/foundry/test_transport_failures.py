"""How each transport names a failed attempt: a request that never left, or one whose answer was lost, and why."""

from __future__ import annotations

import httpx
import pytest
import requests
from urllib3.exceptions import NewConnectionError

from airflow_provider_modelstudio.foundry import async_client, sync_client
from airflow_provider_modelstudio.foundry.protocol import AttemptTooLong


def test_an_attempt_too_long_says_its_bound() -> None:
    assert str(AttemptTooLong(2.5)) == "the attempt took longer than 2.5 s"


@pytest.mark.parametrize(
    ("exc", "classified"),
    [
        (requests.ConnectTimeout(), ("not_sent", "connect timeout")),
        (requests.ReadTimeout(), ("no_answer", "no answer within the read timeout")),
        (
            requests.ConnectionError(NewConnectionError(None, "refused")),  # type: ignore[arg-type]
            ("not_sent", "could not connect (NewConnectionError)"),
        ),
        (requests.ConnectionError("reset"), ("no_answer", "connection lost before the answer (ConnectionError)")),
        (ValueError("odd"), ("no_answer", "unexpected ValueError while sending or reading (odd)")),
    ],
)
def test_the_sync_transport_tells_a_request_that_never_left_from_a_lost_answer(
    exc: Exception, classified: tuple[str, str]
) -> None:
    assert sync_client.classify(exc) == classified


@pytest.mark.parametrize(
    ("exc", "classified"),
    [
        (httpx.ConnectError("refused"), ("not_sent", "could not connect (ConnectError)")),
        (httpx.ReadTimeout("slow"), ("no_answer", "no answer within the read timeout")),
        (httpx.RemoteProtocolError("cut"), ("no_answer", "connection lost before the answer (RemoteProtocolError)")),
        (ValueError("odd"), ("no_answer", "unexpected ValueError while sending or reading (odd)")),
    ],
)
def test_the_async_transport_tells_a_request_that_never_left_from_a_lost_answer(
    exc: Exception, classified: tuple[str, str]
) -> None:
    assert async_client.classify(exc) == classified
