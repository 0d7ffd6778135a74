"""What the final errors of a call say, in full: a redirect, an answer too large, an untrusted certificate, refused
credentials, a listing that never ends, and the parts of an error answer that are quoted (redacted, shortened)."""

from __future__ import annotations

import gzip
import json
import ssl
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.answers import AnswerReader, AnswerTooLarge, UnreadableAnswer, quoted, redact
from airflow_provider_modelstudio.foundry.operations import Pages, iterate_pages
from airflow_provider_modelstudio.foundry.protocol import Attempts, Done, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.shapes import batch_statuses, read_runs

BUILD = "ri.foundry.main.build.b1"
CALL = f"GET /api/v2/orchestration/builds/{BUILD}"
SECRET = "s3cr3t-token"


def attempts(name: str = "get_build", *, oauth: bool = True) -> Attempts:
    path_params = {"buildRid": BUILD} if name == "get_build" else {}
    call = prepare(name, path_params, form_body={} if name == "oauth2_token" else None)
    a = Attempts(
        call,
        RetryPolicy(max_attempts=1),
        conn_id="c1",
        can_renew_token=oauth,
        base_url="https://foundry.example",
        secrets=(SECRET,),
    )
    a.begin()
    return a


def raised(step: Any) -> str:
    with pytest.raises(errors.FoundryError) as info:
        step()
    return str(info.value)


def test_a_redirect_names_its_target() -> None:
    message = raised(lambda: attempts().answered(302, {"Location": f"https://login.example/?t={SECRET}"}, b""))
    assert f"{CALL} -> 302: redirected to 'https://login.example/?t=***'. This provider never follows" in message


def test_a_redirect_without_a_target_says_so() -> None:
    message = raised(lambda: attempts().answered(301, {}, b""))
    assert f"{CALL} -> 301: redirected without a Location. This provider never follows" in message


@pytest.mark.parametrize(("declared", "size"), [(None, ""), (20_000_000, " (Content-Length 20000000)")])
def test_an_answer_too_large_says_it_was_not_read_and_blames_the_host(declared: int | None, size: str) -> None:
    message = raised(lambda: attempts().failed_on(AnswerTooLarge(1000, declared), "no_answer", "too large"))
    assert message == (
        f"{CALL} to connection 'c1': the answer is larger than 1000 bytes{size}, more than any Foundry answer this "
        "provider reads, so it was not read and the call is not retried. A proxy or a server that is not Foundry "
        "probably answered: check the connection's host."
    )


def test_an_untrusted_certificate_says_how_to_trust_its_ca() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    cause.reason = "CERTIFICATE_VERIFY_FAILED"
    message = raised(lambda: attempts().failed_on(cause, "not_sent", "tls"))
    assert message == (
        f"{CALL} to connection 'c1': the TLS certificate of https://foundry.example could not be verified "
        "(self-signed certificate), so nothing was sent. If Foundry's certificate comes from a private CA, trust "
        "that CA: point REQUESTS_CA_BUNDLE (read by requests, in the workers) and SSL_CERT_FILE (read by httpx, in "
        "the triggerer) at a PEM bundle that contains it, on every Airflow host. The connection's verify setting "
        "turns verification off; do that only for a test installation. Not retried: trying again cannot change "
        "the certificate."
    )


def test_refused_client_credentials_say_what_to_check() -> None:
    message = raised(lambda: attempts("oauth2_token").answered(401, {}, b'{"error": "invalid_client"}'))
    assert message.startswith("Foundry refused the OAuth2 client credentials of connection 'c1' (")
    assert "POST /multipass/api/oauth2/token -> 401: OAuth2 error invalid_client" in message
    assert message.endswith(
        "). Check Client ID and Client Secret, and that the scopes asked for are granted to the application in "
        "Foundry's Developer Console."
    )


def test_a_refused_static_token_says_to_paste_a_new_one_or_switch_to_oauth2() -> None:
    message = raised(lambda: attempts(oauth=False).answered(401, {}, b""))
    assert message.startswith("Foundry refused the static token of connection 'c1' (")
    assert f"{CALL} -> 401" in message
    assert message.endswith(
        "). The token is wrong, expired or revoked: paste a new one, or switch the connection to OAuth2 client "
        "credentials, which renew themselves."
    )


def test_a_listing_that_never_ends_says_who_to_tell() -> None:
    pages = Pages("GET /runs", {})
    pages.after({"data": [], "nextPageToken": "p2"}, 100)
    message = raised(lambda: pages.after({"data": [], "nextPageToken": "p2"}, 100))
    assert message == (
        "The listing GET /runs answered the page token 'p2' a second time, after 2 page(s): it would never end, so "
        "it was stopped. Foundry (or a proxy or cache in front of it) is not paging correctly; check the host, and "
        "report the listing to Palantir support if the host is Foundry's."
    )


# Quoting an error answer -------------------------------------------------------------------------------


def error_with(**envelope: Any) -> errors.FoundryApiError:
    body = json.dumps({"errorCode": "INVALID_ARGUMENT", **envelope}).encode()
    return errors.error_from_response(method="GET", path="/p", status_code=400, body=body, secrets=[SECRET])


def test_a_long_error_name_is_cut_at_120_characters() -> None:
    assert error_with(errorName="E" * 130).error_name == "E" * 120 + "..."


def test_parameter_names_are_redacted_and_cut_at_60_characters() -> None:
    error = error_with(errorName="Default:InvalidArgument", parameters={f"k-{SECRET}": 1, "n" * 70: 2})
    assert set(error.parameters) == {"k-***", "n" * 60 + "..."}


def test_at_most_twenty_parameters_are_kept() -> None:
    error = error_with(errorName="Default:InvalidArgument", parameters={f"p{i:02d}": i for i in range(25)})
    assert sorted(error.parameters) == [f"p{i:02d}" for i in range(20)]


# Reading answers ---------------------------------------------------------------------------------------


def test_an_answer_too_large_says_its_limit() -> None:
    assert str(AnswerTooLarge(1000)) == "answer larger than 1000 bytes"


def test_a_zlib_stream_announced_as_gzip_is_unreadable() -> None:
    reader = AnswerReader({"Content-Encoding": "gzip"})
    with pytest.raises(UnreadableAnswer):
        reader.feed(zlib.compress(b'{"a": 1}'))
        reader.body()


def test_a_gzip_answer_is_read() -> None:
    reader = AnswerReader({"Content-Encoding": "gzip"})
    reader.feed(gzip.compress(b'{"a": 1}'))
    assert reader.body() == b'{"a": 1}'


def test_quoted_json_keeps_non_ascii_text_and_shows_other_values_as_text() -> None:
    moment = datetime(2026, 11, 27, tzinfo=UTC)
    assert quoted({"name": "modèle", "at": moment}) == f'{{"name": "modèle", "at": "{moment}"}}'


def test_a_value_that_cannot_be_shown_as_json_is_named_by_its_type() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert quoted(loop) == "<list>"


def test_a_listing_entry_without_a_build_is_skipped_not_the_end_of_the_listing() -> None:
    runs = read_runs([{"runId": "a"}, {"runId": "b", "buildRid": BUILD}], what="a listing")
    assert [run["run_id"] for run in runs] == ["b"]


def test_a_secret_inside_a_longer_secret_does_not_leave_the_longer_ones_tail() -> None:
    assert redact("x abc-def x", ["abc", "abc-def"]) == "x *** x"


def test_a_text_exactly_at_the_limit_is_quoted_whole() -> None:
    assert quoted("a" * 200) == "a" * 200


def test_a_batch_answer_that_is_not_an_object_has_no_statuses() -> None:
    assert batch_statuses(["ri.foundry.main.build.b"]) == {}
    assert batch_statuses(None) == {}


def test_an_unnamed_endless_listing_is_called_a_paged_endpoint_and_its_token_redacted() -> None:
    def fetch(query: Any) -> Done:
        return Done({"data": [1], "nextPageToken": f"p-{SECRET}"}, 100)

    message = raised(lambda: list(iterate_pages(fetch, {}, secrets=[SECRET])))
    assert message.startswith("The listing of a paged endpoint answered the page token 'p-***' a second time")
