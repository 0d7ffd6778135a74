"""A connection that could not be made names the address it tried (the scheme's port when none is written) and
why: refused, timed out, or the operating system's reason, each with its fix."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryTransportError
from airflow_provider_modelstudio.foundry.protocol import Attempts, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy

BUILD = "ri.foundry.main.build.b"


class ConnectTimeout(Exception):
    """Named like httpx's and requests' connect timeouts, without being a TimeoutError."""


def failure(base_url: str, exc: BaseException) -> str:
    attempts = Attempts(
        prepare("get_build", {"buildRid": BUILD}),
        RetryPolicy(max_attempts=1),
        conn_id="c1",
        can_renew_token=False,
        base_url=base_url,
    )
    attempts.begin()
    with pytest.raises(FoundryTransportError) as info:
        attempts.failed_on(exc, "not_sent", "ignored")
    assert info.value.may_have_reached_server is False
    return str(info.value)


@pytest.mark.parametrize(
    ("base_url", "address"),
    [
        ("https://foundry.example", "foundry.example:443"),
        ("http://foundry.example", "foundry.example:80"),
        ("https://foundry.example:8443", "foundry.example:8443"),
        ("http://[::1]", "[::1]:80"),
        ("https://[::1]:9443", "[::1]:9443"),
    ],
)
def test_the_address_tried_is_named_with_its_port(base_url: str, address: str) -> None:
    assert f": could not connect to {address}: connection refused (" in failure(base_url, ConnectionRefusedError())


@pytest.mark.parametrize(
    ("exc", "reason", "advice"),
    [
        (
            ConnectionRefusedError(),
            "connection refused (nothing accepts connections at that address and port)",
            "Check the connection's host and port.",
        ),
        (TimeoutError(), "timed out", "Check the host, and that a firewall or proxy lets this machine reach it."),
        (ConnectTimeout(), "timed out", "Check the host, and that a firewall or proxy lets this machine reach it."),
        (
            OSError(113, "No route to host"),
            "No route to host",
            "Check the host and the network path to Foundry, or raise the connection's timeout.",
        ),
        (
            RuntimeError("no os reason"),
            "RuntimeError",
            "Check the host and the network path to Foundry, or raise the connection's timeout.",
        ),
    ],
    ids=["refused", "timeout", "named timeout", "os reason", "no reason"],
)
def test_why_it_failed_and_the_fix_are_said(exc: BaseException, reason: str, advice: str) -> None:
    message = failure("https://foundry.example", exc)
    assert message.endswith(f"could not connect to foundry.example:443: {reason}. {advice}")


def test_a_cause_deeper_in_the_chain_is_found() -> None:
    try:
        try:
            raise ConnectionRefusedError
        except ConnectionRefusedError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert "connection refused" in failure("https://foundry.example", outer)
