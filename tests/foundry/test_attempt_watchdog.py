"""The sync client's attempt deadline ends the sockets of its own attempt and nothing else: urllib3 reconnects a
connection object in place, so a retry made at once reuses the object whose socket the deadline is shutting
down (a CI run saw the retry of an over-long attempt lose its answer that way)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.sync_client import _Watchdog

HOUR = 3600.0


@pytest.fixture
def pairs() -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    made: list[tuple[socket.socket, socket.socket]] = []
    yield made
    for ours, theirs in made:
        ours.close()
        theirs.close()


def connected(pairs: list[tuple[socket.socket, socket.socket]]) -> socket.socket:
    """Our end of a fresh connected socket pair."""
    ours, theirs = socket.socketpair()
    pairs.append((ours, theirs))
    return ours


def is_shut_down(sock: socket.socket) -> bool:
    """Whether our end can no longer send (shut down for writing)."""
    try:
        sock.send(b"x")
    except OSError:
        return True
    return False


def connection_with(sock: socket.socket | None) -> Any:
    return SimpleNamespace(sock=sock)


def test_the_deadline_shuts_down_every_socket_the_attempt_used(pairs: Any) -> None:
    first, second = connected(pairs), connected(pairs)
    with _Watchdog(HOUR) as watchdog:
        watchdog.watch(connection_with(first))
        watchdog.watch(connection_with(second))
        watchdog.watch(connection_with(None))
        watchdog._expire()
        assert watchdog.expired
    assert is_shut_down(first) and is_shut_down(second)


def test_a_socket_shown_after_the_deadline_is_shut_down_at_once(pairs: Any) -> None:
    late = connected(pairs)
    with _Watchdog(HOUR) as watchdog:
        watchdog._expire()
        watchdog.watch(connection_with(late))
    assert is_shut_down(late)


def test_a_connection_reconnected_in_place_keeps_its_new_socket_when_the_old_attempts_deadline_passes(
    pairs: Any,
) -> None:
    old, new = connected(pairs), connected(pairs)
    connection = connection_with(old)
    watchdog = _Watchdog(HOUR)
    with watchdog:
        watchdog.watch(connection)
        watchdog.watch(connection)
    connection.sock = new
    watchdog._expire()
    assert not watchdog.expired
    assert not is_shut_down(new) and not is_shut_down(old)


def test_the_deadline_ends_only_the_socket_it_was_shown_though_the_connection_moved_on(pairs: Any) -> None:
    old, new = connected(pairs), connected(pairs)
    connection = connection_with(old)
    with _Watchdog(HOUR) as watchdog:
        watchdog.watch(connection)
        connection.sock = new
        watchdog._expire()
    assert is_shut_down(old)
    assert not is_shut_down(new)
