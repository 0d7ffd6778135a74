"""``FoundrySettings.from_connection``: what a stored Airflow connection may look like, and what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_modelstudio.foundry.endpoints import REQUIRED_SCOPES
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.settings import (
    DEFAULT_BUILD_URL_TEMPLATE,
    DEFAULT_TIMEOUT,
    FoundrySettings,
)
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

TOKEN = "static-token-value-123"
SECRET = "client-secret-value-456"


def conn(
    host: str | None = "example.palantirfoundry.com",
    *,
    conn_type: str | None = "foundry",
    login: str | None = None,
    password: str | None = TOKEN,
    port: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Connection:
    return Connection(
        conn_id="foundry_test",
        conn_type=conn_type,
        host=host,
        login=login,
        password=password,
        port=port,
        extra=json.dumps(extra) if extra is not None else None,
    )


def settings(**kwargs: Any) -> FoundrySettings:
    return FoundrySettings.from_connection(conn(**kwargs))


def refused(**kwargs: Any) -> str:
    with pytest.raises(FoundryConfigError) as info:
        settings(**kwargs)
    return str(info.value)


# Host -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "example.palantirfoundry.com",
        "https://example.palantirfoundry.com",
        "https://example.palantirfoundry.com/",
        "example.palantirfoundry.com/",
        "  https://example.palantirfoundry.com/  ",
        "HTTPS://example.palantirfoundry.com",
    ],
)
def test_host_with_or_without_scheme_and_trailing_slash_becomes_https_base_url(host: str) -> None:
    assert settings(host=host).base_url == "https://example.palantirfoundry.com"


def test_host_with_port_keeps_the_port() -> None:
    assert settings(host="example.palantirfoundry.com:8443").base_url == "https://example.palantirfoundry.com:8443"


def test_port_field_is_appended_to_the_host() -> None:
    assert settings(host="example.palantirfoundry.com", port=8443).base_url == (
        "https://example.palantirfoundry.com:8443"
    )


def test_port_written_in_the_host_wins_over_the_port_field() -> None:
    assert settings(host="https://example.com:9443", port=8443).base_url == "https://example.com:9443"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.0.0.2", "http://127.0.0.2"),
    ],
)
def test_http_is_allowed_for_loopback_hosts(host: str, expected: str) -> None:
    assert settings(host=host).base_url == expected


def test_http_to_a_remote_host_is_refused_naming_the_field_and_the_fix() -> None:
    message = refused(host="http://example.palantirfoundry.com")
    assert "host=" in message
    assert "http://" in message
    assert "https://" in message
    assert "loopback" in message


@pytest.mark.parametrize("host", [None, "", "   "])
def test_empty_host_is_refused_with_an_example_hostname(host: str | None) -> None:
    message = refused(host=host)
    assert "host is empty" in message
    assert "example.palantirfoundry.com" in message


@pytest.mark.parametrize("host", ["example.palantirfoundry.com/api", "https://example.com/multipass/api/"])
def test_host_with_a_path_is_refused(host: str) -> None:
    message = refused(host=host)
    assert "path" in message
    assert "only the hostname" in message


def test_host_with_a_query_is_refused() -> None:
    assert "path or query" in refused(host="https://example.com?x=1")


def test_host_with_credentials_is_refused() -> None:
    assert "credentials" in refused(host="https://user:pw@example.com")


def test_host_with_another_scheme_is_refused() -> None:
    assert "is not a hostname" in refused(host="ftp://example.com")


def test_host_with_an_invalid_port_is_refused() -> None:
    assert "invalid port" in refused(host="https://example.com:99999")


def test_error_names_the_connection_id() -> None:
    assert "'foundry_test'" in refused(host="")


# Connection type ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("conn_type", ["http", "generic", None])
def test_wrong_connection_type_is_refused_with_the_type_to_choose(conn_type: str | None) -> None:
    message = refused(conn_type=conn_type)
    assert repr(conn_type) in message
    assert "'foundry'" in message
    assert "Palantir Foundry" in message


# Authentication ----------------------------------------------------------------------------------------


def test_without_login_auth_type_is_token() -> None:
    s = settings()
    assert s.auth_type == "token"
    assert s.secret == TOKEN
    assert s.client_id is None


def test_with_login_auth_type_is_oauth2() -> None:
    s = settings(login="client-id", password=SECRET)
    assert s.auth_type == "oauth2"
    assert s.client_id == "client-id"
    assert s.secret == SECRET


def test_whitespace_login_counts_as_no_login() -> None:
    assert settings(login="   ").auth_type == "token"


def test_explicit_token_auth_ignores_a_login() -> None:
    s = settings(login="client-id", extra={"auth_type": "token"})
    assert s.auth_type == "token"
    assert s.client_id is None


def test_unknown_auth_type_is_refused() -> None:
    message = refused(extra={"auth_type": "basic"})
    assert "auth_type='basic'" in message
    assert "oauth2" in message


def test_oauth2_without_client_id_is_refused_naming_the_login_field() -> None:
    message = refused(login=None, password=SECRET, extra={"auth_type": "oauth2"})
    assert "login (client id)" in message
    assert "Client ID" in message


def test_oauth2_without_secret_is_refused_naming_the_password_field() -> None:
    message = refused(login="client-id", password=None)
    assert "password" in message
    assert "login (client id)" not in message


def test_oauth2_without_client_id_and_secret_names_both() -> None:
    assert "login (client id) and password" in refused(login=None, password="", extra={"auth_type": "oauth2"})


@pytest.mark.parametrize("password", [None, ""])
def test_token_auth_without_token_is_refused(password: str | None) -> None:
    message = refused(password=password)
    assert "static token" in message
    assert "password (Token) is empty" in message


# Extra -------------------------------------------------------------------------------------------------


def test_unknown_extra_key_is_refused_naming_it() -> None:
    message = refused(extra={"timout": 5})
    assert "'timout'" in message
    assert "unknown extra field" in message
    assert "timeout" in message  # the known fields are listed


def test_null_extras_are_treated_as_unset() -> None:
    nulls = {"auth_type": None, "scopes": None, "timeout": None, "verify": None, "build_url_template": None}
    s = settings(extra=nulls)
    assert s.auth_type == "token"
    assert s.scopes == REQUIRED_SCOPES
    assert s.timeout == DEFAULT_TIMEOUT
    assert s.verify is True
    assert s.build_url_template == DEFAULT_BUILD_URL_TEMPLATE


def test_empty_string_extras_are_treated_as_unset() -> None:
    s = settings(login="client-id", password=SECRET, extra={"auth_type": "", "scopes": "", "timeout": ""})
    assert s.auth_type == "oauth2"
    assert s.scopes == REQUIRED_SCOPES
    assert s.timeout == DEFAULT_TIMEOUT


def test_legacy_prefixed_extra_keys_are_read() -> None:
    s = settings(
        login="client-id",
        password=SECRET,
        extra={"extra__foundry__scopes": "api:models-read", "extra__foundry__timeout": 12},
    )
    assert s.scopes == ("api:models-read",)
    assert s.timeout == 12.0


def test_unknown_legacy_prefixed_key_is_refused() -> None:
    assert "'extra__foundry__colour'" in refused(extra={"extra__foundry__colour": "red"})


def test_scopes_default_to_the_five_the_provider_needs() -> None:
    assert settings(login="c", password=SECRET).scopes == (
        "api:models-read",
        "api:models-write",
        "api:models-execute",
        "api:orchestration-read",
        "api:orchestration-write",
    )


def test_scopes_override_is_split_on_spaces_and_deduplicated() -> None:
    s = settings(login="c", password=SECRET, extra={"scopes": " api:models-read  api:models-write api:models-read "})
    assert s.scopes == ("api:models-read", "api:models-write")


def test_scopes_as_a_list_are_accepted() -> None:
    assert settings(extra={"scopes": ["api:models-read"]}).scopes == ("api:models-read",)


@pytest.mark.parametrize("scopes", [42, ["api:models-read", ""], {"a": 1}])
def test_malformed_scopes_are_refused(scopes: Any) -> None:
    assert "scopes=" in refused(extra={"scopes": scopes})


@pytest.mark.parametrize(("value", "seconds"), [(5, 5.0), (0.5, 0.5), ("12.5", 12.5), (600, 600.0)])
def test_timeout_accepts_seconds_as_number_or_string(value: Any, seconds: float) -> None:
    assert settings(extra={"timeout": value}).timeout == seconds


@pytest.mark.parametrize("value", [0, -1, 601, "soon", True, [5]])
def test_timeout_outside_0_to_600_seconds_is_refused(value: Any) -> None:
    message = refused(extra={"timeout": value})
    assert "timeout=" in message
    assert "between 0 and 600" in message


def test_connect_timeout_is_capped_at_ten_seconds() -> None:
    assert settings(extra={"timeout": 60}).connect_timeout == 10.0
    assert settings(extra={"timeout": 0.5}).connect_timeout == 0.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("false", False), ("True", True), ("0", False), ("yes", True)],
)
def test_verify_accepts_booleans_and_their_spellings(value: Any, expected: bool) -> None:
    assert settings(extra={"verify": value}).verify is expected


@pytest.mark.parametrize("value", ["maybe", 2, "/etc/ssl/ca.pem"])
def test_verify_other_values_are_refused(value: Any) -> None:
    assert "verify=" in refused(extra={"verify": value})


# Build page link ---------------------------------------------------------------------------------------


def test_build_url_uses_the_default_template() -> None:
    s = settings(host="example.palantirfoundry.com")
    assert s.build_url("ri.foundry.main.build.b1") == (
        "https://example.palantirfoundry.com/workspace/data-integration/job-tracker/builds/ri.foundry.main.build.b1"
    )


def test_build_url_template_may_use_host_and_build_rid() -> None:
    s = settings(extra={"build_url_template": "https://portal.example/{host}/b/{build_rid}"})
    assert s.build_url("ri.foundry.main.build.b1") == (
        "https://portal.example/example.palantirfoundry.com/b/ri.foundry.main.build.b1"
    )


@pytest.mark.parametrize("template", ["{base_url}/{run_id}", "{base_url}/{0}", "{base_url", 17])
def test_invalid_build_url_template_is_refused_naming_the_placeholders(template: Any) -> None:
    message = refused(extra={"build_url_template": template})
    assert "build_url_template=" in message
    assert "{build_rid}" in message


# Secrets -----------------------------------------------------------------------------------------------


def test_repr_never_shows_a_static_token() -> None:
    s = settings()
    assert TOKEN not in repr(s)
    assert TOKEN not in str(s)


def test_repr_never_shows_a_client_secret() -> None:
    s = settings(login="client-id", password=SECRET)
    assert SECRET not in repr(s)
    assert "client-id" in repr(s)


def test_refusal_messages_never_show_the_secret() -> None:
    message = refused(password=SECRET, host="http://example.com")
    assert SECRET not in message


def test_token_cache_key_separates_clients_and_scopes() -> None:
    a = settings(login="client-a", password=SECRET)
    b = settings(login="client-b", password=SECRET)
    c = settings(login="client-a", password=SECRET, extra={"scopes": "api:models-read"})
    assert len({a.token_cache_key, b.token_cache_key, c.token_cache_key}) == 3
    assert SECRET not in repr(a.token_cache_key)


# Stored forms (environment variables) -------------------------------------------------------------------


def hook_settings(conn_id: str = "foundry_default") -> FoundrySettings:
    return ModelStudioHook(conn_id).settings


def test_json_connection_from_environment(set_connection: Any) -> None:
    set_connection(host="https://example.palantirfoundry.com/", password=TOKEN, extra={"timeout": 7})
    s = hook_settings()
    assert s.base_url == "https://example.palantirfoundry.com"
    assert s.timeout == 7.0
    assert s.secret == TOKEN


def test_json_connection_as_saved_by_the_ui_with_nulls(set_connection: Any) -> None:
    set_connection(
        host="http://127.0.0.1:9",
        login="client-id",
        password=SECRET,
        extra={"auth_type": "oauth2", "scopes": None, "timeout": None, "verify": None, "build_url_template": None},
    )
    s = hook_settings()
    assert s.base_url == "http://127.0.0.1:9"
    assert s.auth_type == "oauth2"
    assert s.scopes == REQUIRED_SCOPES


def test_uri_connection_with_hostname_and_extras(set_connection: Any) -> None:
    set_connection(raw=f"foundry://:{TOKEN}@example.palantirfoundry.com/?timeout=5&verify=false")
    s = hook_settings()
    assert s.base_url == "https://example.palantirfoundry.com"
    assert s.auth_type == "token"
    assert s.secret == TOKEN
    assert s.timeout == 5.0
    assert s.verify is False


def test_uri_connection_with_oauth2_client(set_connection: Any) -> None:
    set_connection(raw=f"foundry://my-client:{SECRET}@example.palantirfoundry.com/?scopes=api%3Amodels-read")
    s = hook_settings()
    assert (s.auth_type, s.client_id, s.secret, s.scopes) == ("oauth2", "my-client", SECRET, ("api:models-read",))


def test_uri_connection_with_percent_encoded_http_loopback_host(set_connection: Any) -> None:
    # The documented form for the emulator: the whole "http://127.0.0.1:PORT" percent-encoded as the host.
    set_connection(raw=f"foundry://:{TOKEN}@http%3A%2F%2F127.0.0.1%3A8123")
    assert hook_settings().base_url == "http://127.0.0.1:8123"


def test_uri_connection_with_nested_http_scheme_for_loopback(set_connection: Any) -> None:
    # Airflow also reads "<conn_type>://<protocol>://..." as a host with a scheme.
    set_connection(raw=f"foundry://http://:{TOKEN}@127.0.0.1:8123/?timeout=0.5")
    s = hook_settings()
    assert s.base_url == "http://127.0.0.1:8123"
    assert s.timeout == 0.5


def test_uri_connection_with_plain_loopback_host_means_http(set_connection: Any) -> None:
    # Without a scheme a loopback host means http: the local emulator, which serves no TLS.
    set_connection(raw=f"foundry://:{TOKEN}@127.0.0.1:8123")
    assert hook_settings().base_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"])
def test_a_loopback_host_without_scheme_and_a_separate_port_means_http(host: str) -> None:
    # What `airflow connections add --conn-host 127.0.0.1 --conn-port 8765` stores.
    assert settings(host=host, port=8765).base_url == f"http://{host}:8765"


def test_a_loopback_host_keeps_an_explicit_https_scheme() -> None:
    assert settings(host="https://127.0.0.1", port=8443).base_url == "https://127.0.0.1:8443"


def test_a_host_without_scheme_that_is_not_loopback_means_https() -> None:
    assert settings(host="example.palantirfoundry.com").base_url == "https://example.palantirfoundry.com"


def test_hook_reads_the_connection_once(set_connection: Any, mocker: Any) -> None:
    set_connection(host="example.palantirfoundry.com", password=TOKEN)
    hook = ModelStudioHook()
    spy = mocker.spy(hook, "get_connection")
    assert hook.settings is hook.settings
    assert spy.call_count == 1
