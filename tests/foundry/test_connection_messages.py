"""Each refusal of a connection in full: it names the connection, the field and the value, and says the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

EXAMPLE = "enter only the hostname, e.g. example.palantirfoundry.com"


def refusal(**fields: Any) -> str:
    extra = fields.pop("extra", None)
    conn: dict[str, Any] = {"conn_id": "c1", "conn_type": "foundry", "host": "foundry.example", "password": "t"}
    conn.update(fields)
    with pytest.raises(FoundryConfigError) as info:
        FoundrySettings.from_connection(Connection(**conn, extra=json.dumps(extra) if extra else None))
    return str(info.value)


MESSAGES: dict[str, tuple[dict[str, Any], str]] = {
    "type": (
        {"conn_type": "http"},
        "Connection 'c1' has type 'http'; it must be of type 'foundry' (Palantir Foundry). Edit the connection and "
        "choose that type, or set conn_type 'foundry' in its JSON.",
    ),
    "auth type": (
        {"extra": {"auth_type": "basic"}},
        "Connection 'c1': extra field auth_type='basic' is not one of ['token', 'oauth2'].",
    ),
    "client id": (
        {"password": None, "login": "client", "extra": {"auth_type": "oauth2"}},
        "Connection 'c1' uses OAuth2 client credentials but its password is empty. Put the third-party "
        "application's client id in Client ID (login) and its secret in Client Secret (password).",
    ),
    "token": (
        {"password": None},
        "Connection 'c1' uses a static token but its password (Token) is empty. Paste a Foundry token there, or "
        "fill Client ID and Client Secret and set auth_type to oauth2.",
    ),
    "unknown extra": (
        {"extra": {"timout": 5}},
        "Connection 'c1': unknown extra field 'timout'. Known fields: auth_type, scopes, timeout, verify, "
        "build_url_template, model_version_url_template, live_deployment_url_template. Check its spelling; an "
        "unknown field would otherwise be silently ignored.",
    ),
    "empty host": (
        {"host": " "},
        "Connection 'c1': host is empty. Enter your Foundry hostname, e.g. example.palantirfoundry.com.",
    ),
    "not a hostname": (
        {"host": "ftp://foundry.example"},
        f"Connection 'c1': host='ftp://foundry.example' is not a hostname; {EXAMPLE}.",
    ),
    "path": (
        {"host": "foundry.example/api"},
        f"Connection 'c1': host='foundry.example/api' contains a path or query ('/api'); {EXAMPLE}.",
    ),
    "credentials": (
        {"host": "https://user:pw@foundry.example"},
        "Connection 'c1': host must not contain credentials; put the token in the password field.",
    ),
    "http": (
        {"host": "http://foundry.example"},
        "Connection 'c1': host='http://foundry.example' uses http://, which is allowed only for loopback hosts (the "
        "local emulator). Use https:// (or no scheme) for Foundry.",
    ),
    "port": ({"host": "foundry.example:99999"}, "Connection 'c1': host='foundry.example:99999' has an invalid port."),
    "scopes": (
        {"login": "client", "extra": {"scopes": 5}},
        "Connection 'c1': extra field scopes=5 must be space-separated scope names, e.g. 'api:models-read "
        "api:models-write api:models-execute api:orchestration-read api:orchestration-write'.",
    ),
    "timeout": (
        {"extra": {"timeout": 601}},
        "Connection 'c1': extra field timeout=601 must be a number of seconds between 0 and 600 (default 30).",
    ),
    "verify": ({"extra": {"verify": "maybe"}}, "Connection 'c1': extra field verify='maybe' must be true or false."),
    "blank password": (
        {"password": "   "},
        "Connection 'c1': password holds only whitespace. Paste the Foundry token (or, for OAuth2, the client "
        "secret) itself.",
    ),
    "control character": (
        {"password": "tok\n"},
        "Connection 'c1': password contains a line break or another control character (often a newline pasted "
        "along with the token). It would corrupt the request's headers; paste the token or client secret again "
        "without it.",
    ),
    "template": (
        {"extra": {"build_url_template": "{base_url}/b/{rid}"}},
        "Connection 'c1': extra field build_url_template='{base_url}/b/{rid}' is not a valid link template "
        "(placeholder {rid} is not one of the plain placeholders allowed). Use only the placeholders {base_url}, "
        "{host}, {build_rid}, e.g. '{base_url}/workspace/data-integration/job-tracker/builds/{build_rid}'.",
    ),
}


@pytest.mark.parametrize("case", list(MESSAGES))
def test_a_refused_connection_says_which_field_and_how_to_fix_it(case: str) -> None:
    fields, message = MESSAGES[case]
    assert refusal(**fields) == message


def test_an_oauth2_connection_missing_both_names_both() -> None:
    message = refusal(password=None, login=None, extra={"auth_type": "oauth2"})
    assert "but its login (client id) and password is empty." in message
