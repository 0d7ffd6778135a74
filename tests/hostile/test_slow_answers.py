"""Each attempt has a bound on its total duration, however slowly a server trickles bytes (issue 9, item 10).

The connection's timeout is 0.3 s here, so an attempt may take 0.3 + 2 x 0.3 = 0.9 s in all; the server sends
one byte every 0.1 s, well within the read timeout, for far longer than that.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelstudio.foundry import errors
from tests.hostile.conftest import BUILD_PATH, BUILD_RID, Transport, connection
from tests.hostile.server import HostileServer, head, reply, trickle

BODY = json.dumps({"rid": BUILD_RID, "status": "RUNNING", "padding": "x" * 500}).encode()
ONE_ATTEMPT = {"max_attempts": 1, "backoff_initial": 0.01, "backoff_max": 0.01, "max_elapsed": 5}
TWO_ATTEMPTS = {**ONE_ATTEMPT, "max_attempts": 2}


def test_the_attempt_limit_is_the_connect_timeout_plus_twice_the_timeout(hostile: HostileServer) -> None:
    assert connection(hostile, timeout=0.3).attempt_limit == pytest.approx(0.9)
    assert connection(hostile, timeout=30).attempt_limit == 70


def test_a_body_trickled_past_the_attempt_limit_ends_the_attempt(hostile: HostileServer, transport: Transport) -> None:
    first = head(200, {"Content-Type": "application/json", "Content-Length": str(len(BODY))})
    hostile.on("GET", BUILD_PATH, trickle(BODY, 0.1, first=first))
    with pytest.raises(errors.FoundryTransportError) as info:
        transport.call(connection(hostile, timeout=0.3), "get_build", {"buildRid": BUILD_RID}, retry=ONE_ATTEMPT)
    message = str(info.value)
    assert "not complete after 0.9 s" in message
    assert "bound on one attempt" in message
    assert info.value.may_have_reached_server


def test_headers_trickled_past_the_attempt_limit_end_the_attempt(hostile: HostileServer, transport: Transport) -> None:
    whole = head(200, {"Content-Type": "application/json", "Content-Length": str(len(BODY)), "X-Pad": "p" * 200})
    hostile.on("GET", BUILD_PATH, trickle(whole + BODY, 0.1))
    with pytest.raises(errors.FoundryTransportError, match=r"not complete after 0\.9 s"):
        transport.call(connection(hostile, timeout=0.3), "get_build", {"buildRid": BUILD_RID}, retry=ONE_ATTEMPT)


def test_a_trickled_answer_is_retried_on_a_safe_request(hostile: HostileServer, transport: Transport) -> None:
    first = head(200, {"Content-Type": "application/json", "Content-Length": str(len(BODY))})
    hostile.on("GET", BUILD_PATH, trickle(BODY, 0.1, first=first), reply(200, json.loads(BODY)))
    answer = transport.call(connection(hostile, timeout=0.3), "get_build", {"buildRid": BUILD_RID}, retry=TWO_ATTEMPTS)
    assert answer["rid"] == BUILD_RID
    assert len(hostile.requests_to(BUILD_PATH)) == 2


def test_a_proxy_trickling_its_answer_is_bounded_too(
    hostile: HostileServer, another_hostile: HostileServer, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, hostile.url)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    first = head(200, {"Content-Type": "application/json", "Content-Length": str(len(BODY))})
    hostile.on("GET", BUILD_PATH, trickle(BODY, 0.1, first=first))
    with pytest.raises(errors.FoundryTransportError, match=r"not complete after 0\.9 s"):
        transport.call(
            connection(another_hostile, timeout=0.3), "get_build", {"buildRid": BUILD_RID}, retry=ONE_ATTEMPT
        )
    assert len(hostile.requests_to(BUILD_PATH)) == 1  # it went through the proxy
    assert another_hostile.seen == []
