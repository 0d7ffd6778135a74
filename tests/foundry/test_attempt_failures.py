"""What a call says when its attempts got no usable answer: how long it tried, why (a bound, an unreadable answer,
a hostname that does not resolve), whether the request may have arrived, and what each retry logs."""

from __future__ import annotations

import logging
import socket
from itertools import islice
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.answers import UnreadableAnswer
from airflow_provider_modelstudio.foundry.errors import FoundryTransportError
from airflow_provider_modelstudio.foundry.protocol import Attempts, AttemptTooLong, Wait, causes, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from tests.foundry.support import ProtocolClock

BUILD = "ri.foundry.main.build.b1"
STUDIO = "ri.models.main.model-studio.s"
SECRET = "t0k3n-secret"
CALL = f"GET /api/v2/orchestration/builds/{BUILD}"
ADVICE = "Check the host and the network path to Foundry, or raise the connection's timeout."


def attempts(name: str = "get_build", policy: RetryPolicy | None = None) -> Attempts:
    params = {"buildRid": BUILD} if name == "get_build" else {"modelStudioRid": STUDIO}
    a = Attempts(
        prepare(name, params),
        policy or RetryPolicy(max_attempts=1),
        conn_id="c1",
        can_renew_token=False,
        base_url="https://foundry.example",
        secrets=(SECRET,),
    )
    a.begin()
    return a


def final_message(step: Any) -> str:
    with pytest.raises(FoundryTransportError) as info:
        step()
    return str(info.value)


def test_the_final_message_says_how_long_the_attempts_took(clock: ProtocolClock) -> None:
    a = attempts()
    clock.now += 1.5
    message = final_message(lambda: a.failed("no_answer", "dropped"))
    assert message.startswith(
        f"GET /api/v2/orchestration/builds/{BUILD} to connection 'c1' failed after 1 attempt(s) in 1.5 s"
    )


def test_a_lost_answer_to_an_idempotent_request_does_not_say_it_may_have_arrived(clock: ProtocolClock) -> None:
    message = final_message(lambda: attempts().failed("no_answer", "dropped"))
    assert message.endswith(
        ": dropped. Check the host and the network path to Foundry, or raise the connection's timeout."
    )


def test_a_launch_that_never_left_does_not_say_it_may_have_arrived(clock: ProtocolClock) -> None:
    message = final_message(lambda: attempts("launch_model_studio").failed("not_sent", "refused"))
    assert ": refused. Check the host" in message


def test_a_lost_launch_answer_says_the_request_may_have_arrived(clock: ProtocolClock) -> None:
    message = final_message(lambda: attempts("launch_model_studio").failed("no_answer", "dropped"))
    assert ": dropped. The request may have reached Foundry. Check the host" in message


def test_an_attempt_over_its_bound_says_what_the_bound_is(clock: ProtocolClock) -> None:
    message = final_message(lambda: attempts().failed_on(AttemptTooLong(2.5), "no_answer", "timeout"))
    assert (
        ": the answer was not complete after 2.5 s, this client's bound on one attempt (the connect timeout plus "
        "twice the connection's timeout)."
    ) in message


def test_an_undecodable_answer_is_quoted_redacted_and_cut_at_300_characters(clock: ProtocolClock) -> None:
    cause = UnreadableAnswer(f"corrupt {SECRET} " + "x" * 400)
    message = final_message(lambda: attempts().failed_on(cause, "no_answer", "odd"))
    quoted = "corrupt *** " + "x" * 288 + "..."
    assert f": {quoted}. Check the host" in message


def test_a_hostname_that_does_not_resolve_says_to_check_the_host_field(clock: ProtocolClock) -> None:
    cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    message = final_message(lambda: attempts().failed_on(cause, "not_sent", "dns"))
    assert message.endswith(
        ": the hostname foundry.example does not resolve (Name or service not known). Check the connection's host "
        "field: foundry.example must be your Foundry's hostname, and this machine's DNS must know it."
    )


def test_a_retry_logs_what_failed_and_when_it_tries_again(
    clock: ProtocolClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelstudio.foundry.protocol")
    a = attempts(policy=RetryPolicy(max_attempts=3, backoff_initial=0.5, backoff_max=0.5))
    assert a.answered(503, {"Retry-After": "2"}, b"") == Wait(2.0)
    assert isinstance(a.failed("no_answer", "dropped"), Wait)
    first, second = caplog.messages
    assert first == f"{CALL} answered 503 on attempt 1/3; retrying in 2.0 s (as Retry-After asked)"
    assert second.startswith(f"{CALL} failed (dropped) on attempt 1/3; retrying in 0.")
    assert second.endswith(" s")


# Walking an exception's causes -------------------------------------------------------------------------


def test_causes_walks_arguments_causes_and_reasons_once_each() -> None:
    repeated = ValueError("repeated")
    later = KeyError("later")
    holder = OSError("holder")
    holder.__context__ = repeated
    reason = RuntimeError("reason")
    carrier = Exception("carrier")
    carrier.reason = reason  # type: ignore[attr-defined]
    root = Exception(later, repeated, holder, carrier)
    assert list(causes(root)) == [root, carrier, reason, holder, repeated, later]


def test_causes_ends_on_a_cycle() -> None:
    first, second = ValueError("first"), ValueError("second")
    first.__context__, second.__context__ = second, first
    assert list(islice(causes(first), 5)) == [first, second]
