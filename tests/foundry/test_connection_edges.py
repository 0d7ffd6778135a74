"""Connection fields at their edges: hostnames by length and dots, hosts urllib cannot split, passwords with a
space or a DEL, and link templates refused with the template and what it rendered to."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_BUILD_URL_TEMPLATE, FoundrySettings

EXAMPLE = "enter only the hostname, e.g. example.palantirfoundry.com"
BUILD_PLACEHOLDERS = "{base_url}, {host}, {build_rid}"
LONGEST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters, the most DNS allows


def read(**fields: Any) -> FoundrySettings:
    extra = fields.pop("extra", None)
    conn: dict[str, Any] = {"conn_id": "c1", "conn_type": "foundry", "host": "foundry.example", "password": "t"}
    conn.update(fields)
    return FoundrySettings.from_connection(Connection(**conn, extra=json.dumps(extra) if extra else None))


def refusal(**fields: Any) -> str:
    with pytest.raises(FoundryConfigError) as info:
        read(**fields)
    return str(info.value)


# Hosts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        (LONGEST, f"https://{LONGEST}"),
        ("foundry.example.", "https://foundry.example."),
        ("f", "https://f"),
        ("https://f:8443", "https://f:8443"),
    ],
)
def test_hostnames_up_to_253_characters_a_trailing_dot_and_one_letter_are_accepted(host: str, base_url: str) -> None:
    assert read(host=host).base_url == base_url


@pytest.mark.parametrize(
    "host",
    [LONGEST + "d", ".foundry.example", "foundry..example", "under_score.example", "https://:8443", "https://"],
)
def test_hosts_that_are_not_hostnames_are_refused(host: str) -> None:
    assert refusal(host=host) == f"Connection 'c1': host={host!r} is not a hostname; {EXAMPLE}."


def test_a_host_urllib_cannot_split_is_refused_saying_why() -> None:
    assert refusal(host="https://[::1") == (
        f"Connection 'c1': host='https://[::1' is not a hostname (Invalid IPv6 URL); {EXAMPLE}."
    )


# Passwords -----------------------------------------------------------------------------------------------


def test_a_password_with_a_space_inside_is_kept_as_stored() -> None:
    assert read(password="pass phrase!").secret == "pass phrase!"


def test_a_password_holding_a_delete_character_is_refused() -> None:
    assert refusal(password="tok\x7fen") == (
        "Connection 'c1': password contains a line break or another control character (often a newline pasted "
        "along with the token). It would corrupt the request's headers; paste the token or client secret again "
        "without it."
    )


# Link templates ------------------------------------------------------------------------------------------


def template_refusal(template: Any, reason: str) -> str:
    return (
        f"Connection 'c1': extra field build_url_template={template!r} is not a valid link template ({reason}). "
        f"Use only the placeholders {BUILD_PLACEHOLDERS}, e.g. {DEFAULT_BUILD_URL_TEMPLATE!r}."
    )


def test_a_link_template_that_is_not_a_string_is_refused() -> None:
    assert refusal(extra={"build_url_template": 42}) == template_refusal(42, "not a string")


def test_a_link_template_of_only_a_rid_is_refused_with_the_sample_it_rendered_to() -> None:
    assert refusal(extra={"build_url_template": "{build_rid}"}) == template_refusal(
        "{build_rid}", "it renders to 'ri.sample.main.sample.0', which is not an http(s) URL"
    )


def test_a_long_link_template_that_is_no_url_is_refused_quoting_100_characters_of_it() -> None:
    template = "x" * 150 + "/{build_rid}"
    assert refusal(extra={"build_url_template": template}) == template_refusal(
        template, f"it renders to {'x' * 100!r}, which is not an http(s) URL"
    )


def test_a_link_template_with_another_scheme_is_refused_naming_the_template() -> None:
    template = "ftp://{host}/builds/{build_rid}"
    assert refusal(extra={"build_url_template": template}) == template_refusal(
        template, "it renders to 'ftp://foundry.example/builds/ri.sample.main.sample.0', which is not an http(s) URL"
    )


@pytest.mark.parametrize(
    "host", ["token@foundry.example", "https://:secret@foundry.example", "user:pw@foundry.example"]
)
def test_a_host_with_any_part_of_credentials_is_refused(host: str) -> None:
    assert refusal(host=host) == (
        "Connection 'c1': host must not contain credentials; put the token in the password field."
    )


@pytest.mark.parametrize(("host", "path"), [("foundry.example/X", "/X"), ("foundry.example//api/", "//api/")])
def test_a_host_with_any_path_is_refused(host: str, path: str) -> None:
    assert refusal(host=host) == f"Connection 'c1': host={host!r} contains a path or query ({path!r}); {EXAMPLE}."


def test_a_link_template_is_tried_with_the_connections_own_host() -> None:
    template = "{host}/builds/{build_rid}"
    assert refusal(extra={"build_url_template": template}) == template_refusal(
        template, "it renders to 'foundry.example/builds/ri.sample.main.sample.0', which is not an http(s) URL"
    )
