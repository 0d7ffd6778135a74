"""Reading answers defensively: size bound on decoded bytes, content codings, JSON depth, redaction."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import answers
from airflow_provider_modelstudio.foundry.answers import (
    MAX_JSON_VALUES,
    AnswerReader,
    AnswerTooLarge,
    TooManyValues,
    UnreadableAnswer,
    UnreadableJson,
    json_values_at_most,
    parse_json,
    quoted,
    redact,
)


def read(headers: dict[str, str], data: bytes, limit: int = 1000, chunk: int = 7) -> bytes:
    reader = AnswerReader(headers, limit=limit)
    for i in range(0, len(data), chunk):
        reader.feed(data[i : i + chunk])
    return reader.body()


def test_a_plain_answer_is_read_whole() -> None:
    assert read({}, b'{"a": 1}') == b'{"a": 1}'


def test_an_announced_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(AnswerTooLarge) as info:
        AnswerReader({"Content-Length": "1001"}, limit=1000)
    assert info.value.declared == 1001


def test_an_unreadable_content_length_is_left_to_the_count() -> None:
    assert read({"Content-Length": "many"}, b"abc") == b"abc"


def test_the_limit_counts_decoded_bytes() -> None:
    bomb = gzip.compress(b"0" * 5000)
    with pytest.raises(AnswerTooLarge):
        read({"Content-Encoding": "gzip", "Content-Length": str(len(bomb))}, bomb, limit=1000)


def test_an_answer_exactly_at_the_limit_is_read() -> None:
    assert read({"Content-Encoding": "gzip"}, gzip.compress(b"x" * 1000), limit=1000) == b"x" * 1000


def test_several_gzip_members_are_read_as_one_body() -> None:
    assert read({"Content-Encoding": "gzip"}, gzip.compress(b"ab") + gzip.compress(b"cd")) == b"abcd"


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_deflate_with_and_without_the_zlib_wrapper_is_read(chunk: int) -> None:
    wrapped = zlib.compress(b"hello world")
    assert read({"Content-Encoding": "deflate"}, wrapped, chunk=chunk) == b"hello world"
    assert read({"Content-Encoding": "deflate"}, wrapped[2:-4], chunk=chunk) == b"hello world"


def test_identity_is_no_coding() -> None:
    assert read({"Content-Encoding": "identity"}, b"abc") == b"abc"


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, deflate", "compress"])
def test_codings_never_asked_for_are_unreadable(coding: str) -> None:
    with pytest.raises(UnreadableAnswer, match="was not asked for"):
        AnswerReader({"Content-Encoding": coding})


def test_a_compressed_stream_cut_short_is_unreadable() -> None:
    whole = gzip.compress(b"x" * 500)
    with pytest.raises(UnreadableAnswer, match="ends before"):
        read({"Content-Encoding": "gzip"}, whole[:-10])


def test_an_empty_compressed_answer_is_an_empty_body() -> None:
    assert read({"Content-Encoding": "gzip"}, b"") == b""


def test_json_is_parsed() -> None:
    assert parse_json(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000, b"1" * 5000])
def test_unreadable_json_is_one_error(body: bytes) -> None:
    with pytest.raises(UnreadableJson):
        parse_json(body)


def test_json_deeper_than_the_limit_is_refused() -> None:
    with pytest.raises(UnreadableJson, match="nested more than 64"):
        parse_json(json.dumps(json.loads("[" * 65 + "]" * 65)))
    assert parse_json("[" * 64 + "]" * 64) is not None


def test_redact_replaces_the_secret_in_every_form_it_was_sent() -> None:
    secret = 'a b/c+"d'
    text = f"raw {secret} form a+b%2Fc%2B%22d path a%20b%2Fc%2B%22d json {json.dumps(secret)[1:-1]}"
    assert redact(text, [secret]) == "raw *** form *** path *** json ***"


def test_redact_replaces_any_bearer_token() -> None:
    assert redact("Authorization: Bearer abc.def-ghi; next", []) == "Authorization: Bearer ***; next"
    assert redact("authorization: bearer xyz", []) == "authorization: Bearer ***"


def test_redact_ignores_empty_secrets() -> None:
    assert redact("text", ["", None]) == "text"


def test_quoted_is_one_redacted_line_of_bounded_length() -> None:
    text = quoted("line one\n\tline   two " + "s3cret " * 100, ["s3cret"], limit=40)
    assert text == "line one line two *** *** *** *** *** **..."
    assert quoted({"k": [1, 2]}) == '{"k": [1, 2]}'


def test_json_of_as_many_values_as_the_limit_is_parsed() -> None:
    values = parse_json(b"[" + b",".join([b"0"] * (MAX_JSON_VALUES - 1)) + b"]")
    assert len(values) == MAX_JSON_VALUES - 1


def test_json_of_more_values_than_the_limit_is_refused_without_parsing_it(mocker: Any) -> None:
    loads = mocker.spy(answers.json, "loads")
    with pytest.raises(TooManyValues, match=f"^JSON of more than {MAX_JSON_VALUES} values$"):
        parse_json(b"[" + b",".join([b"0"] * MAX_JSON_VALUES) + b"]")
    loads.assert_not_called()


def test_the_value_count_errs_high_only_by_the_punctuation_of_strings() -> None:
    assert json_values_at_most(b'{"a": [1, 2, {}], "b": "x"}') == 7
    assert json_values_at_most('["a,{["]') == 5
