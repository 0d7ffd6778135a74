"""A compressed answer is inflated no further than the size limit: a bomb costs the limit in memory, not its
decoded size."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import pytest

from airflow_provider_modelstudio.foundry.answers import AnswerReader, AnswerTooLarge

LIMIT = 2**20
DECODED = 64 * 2**20


@pytest.mark.parametrize(
    ("coding", "compress"),
    [("gzip", lambda data: gzip.compress(data, compresslevel=9)), ("deflate", lambda data: zlib.compress(data, 9))],
)
def test_a_compressed_bomb_is_refused_having_inflated_little_more_than_the_limit(
    coding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(b"\0" * DECODED)
    reader = AnswerReader({"Content-Encoding": coding}, limit=LIMIT)
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLarge):
            reader.feed(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * LIMIT
