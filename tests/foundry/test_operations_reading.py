"""Paging, batching and tolerant reading of Foundry's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.operations import (
    PAGE_SIZE,
    batch_body,
    batches,
    iterate_pages,
    next_page_query,
    page_items,
)
from airflow_provider_modelstudio.foundry.protocol import Done
from airflow_provider_modelstudio.foundry.shapes import Build, batch_builds


def build_rid(i: int) -> str:
    return f"ri.foundry.main.build.{i:04d}"


@pytest.mark.parametrize(
    "page",
    [{"data": [1]}, {"data": [1], "nextPageToken": None}, {"data": [1], "nextPageToken": ""}, None, [1]],
)
def test_missing_or_null_next_page_token_ends_paging(page: Any) -> None:
    assert next_page_query({"pageSize": 100}, page) is None


def test_next_page_query_keeps_the_query_and_adds_the_token() -> None:
    assert next_page_query({"pageSize": 100, "configVersion": 2}, {"nextPageToken": "t2"}) == {
        "pageSize": 100,
        "configVersion": 2,
        "pageToken": "t2",
    }


@pytest.mark.parametrize("page", [{}, {"data": None}, {"data": "oops"}, None, "text"])
def test_missing_or_null_data_reads_as_empty(page: Any) -> None:
    assert page_items(page) == []


def test_iterate_pages_follows_tokens_and_keeps_the_query() -> None:
    pages = {
        None: {"data": [1, 2], "nextPageToken": "b"},
        "b": {"data": [3], "nextPageToken": "c", "unknownField": True},
        "c": {"data": [4], "nextPageToken": None},
    }
    seen: list[dict[str, Any]] = []

    def fetch(query: Mapping[str, Any]) -> Done:
        seen.append(dict(query))
        return Done(pages[query.get("pageToken")], 100)

    assert list(iterate_pages(fetch, {"configVersion": 1})) == [1, 2, 3, 4]
    assert [q.get("pageToken") for q in seen] == [None, "b", "c"]
    assert all(q["pageSize"] == PAGE_SIZE and q["configVersion"] == 1 for q in seen)


def test_iterate_pages_is_lazy() -> None:
    calls = 0

    def fetch(query: Mapping[str, Any]) -> Done:
        nonlocal calls
        calls += 1
        return Done({"data": [calls], "nextPageToken": "more"}, 100)

    items = iterate_pages(fetch, {})
    assert next(items) == 1
    assert calls == 1


def test_batches_are_at_most_100_unique_rids_in_order() -> None:
    rids = [build_rid(i) for i in range(250)]
    chunks = batches(rids + rids[:10])
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert [r for c in chunks for r in c] == rids


def test_no_rids_means_no_batches() -> None:
    assert batches([]) == []


def test_batch_body_matches_the_getbatch_request_shape() -> None:
    assert batch_body(["a", "b"]) == [{"buildRid": "a"}, {"buildRid": "b"}]


def test_batch_builds_reads_the_data_map_and_skips_non_objects() -> None:
    answer = {"data": {"a": {"rid": "a", "status": "RUNNING"}, "b": None}, "somethingNew": 1}
    assert batch_builds(answer) == {"a": Build("a", "RUNNING")}


@pytest.mark.parametrize("answer", [None, {}, {"data": None}, {"data": []}, []])
def test_batch_builds_tolerates_missing_data(answer: Any) -> None:
    assert batch_builds(answer) == {}
