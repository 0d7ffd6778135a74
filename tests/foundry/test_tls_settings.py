"""TLS verification as a connection sets it: every spelling of verify read as meant, and the warning logged
when it is off, in full."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import protocol
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.protocol import warn_if_unverified
from tests.foundry.support import settings_from


def with_verify(value: Any, conn_id: str = "foundry_default") -> Any:
    conn = {"conn_type": "foundry", "host": "foundry.example", "password": "t", "extra": {"verify": value}}
    return settings_from(conn, conn_id=conn_id)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), (" 1 ", True), ("0", False), ("no", False), ("YES", True), (" False ", False), ("true", True)],
)
def test_every_spelling_of_verify_is_read_as_meant(value: str, expected: bool) -> None:
    assert with_verify(value).verify is expected


@pytest.mark.parametrize("value", ["11", "on", "y"])
def test_a_verify_spelling_that_is_not_a_yes_or_no_is_refused(value: str) -> None:
    with pytest.raises(FoundryConfigError) as info:
        with_verify(value)
    assert str(info.value) == f"Connection 'foundry_default': extra field verify={value!r} must be true or false."


def test_verification_turned_off_is_warned_about_in_full(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(protocol, "_warned_unverified", set())
    caplog.set_level(logging.WARNING, logger=protocol.__name__)
    settings = with_verify(False, conn_id="foundry_lab")
    warn_if_unverified(settings)
    warn_if_unverified(settings)
    assert caplog.messages == [
        "Connection 'foundry_lab' turns TLS certificate verification off (verify=false). Anyone on the network path "
        "to https://foundry.example can pose as Foundry: read the token or client secret sent, and forge answers (a "
        "build's status, a launched run). Trust Foundry's CA instead (REQUESTS_CA_BUNDLE for the workers, "
        "SSL_CERT_FILE for the triggerer) and set verify back to true."
    ]
