"""A deflate answer sent without its zlib wrapper is read as raw deflate and named so when it fails; a wrapped
one that breaks later is called corrupt, not retried as raw deflate."""

from __future__ import annotations

import random
import zlib

import pytest

from airflow_provider_modelstudio.foundry.answers import AnswerReader, UnreadableAnswer

TEXT = b'{"data": [' + b", ".join(b'{"runId": "r-%d"}' % i for i in range(200)) + b"]}"


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def read(data: bytes, chunk: int = 100) -> bytes:
    reader = AnswerReader({"Content-Encoding": "deflate"})
    for i in range(0, len(data), chunk):
        reader.feed(data[i : i + chunk])
    return reader.body()


def test_raw_deflate_cut_short_is_named_raw_deflate() -> None:
    whole = raw_deflate(TEXT)
    assert read(whole) == TEXT
    with pytest.raises(UnreadableAnswer) as info:
        read(whole[: len(whole) // 2])
    assert str(info.value) == "the raw deflate answer ends before its compressed stream does"


def test_a_wrapped_deflate_answer_that_breaks_after_its_header_is_corrupt() -> None:
    data = bytearray(zlib.compress(random.Random(7).randbytes(3000), 9))
    data[1500] ^= 0xFF
    with pytest.raises(UnreadableAnswer, match=r"^the deflate answer is corrupt \("):
        read(bytes(data))
