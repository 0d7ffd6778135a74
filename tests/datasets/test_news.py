"""Which head of a branch is news: committed, not the last announced, not older than it."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.datasets.heads import BranchHead
from airflow_provider_modelstudio.datasets.news import (
    Watermark,
    announced,
    event_payload,
    is_news,
    starting_point,
)
from airflow_provider_modelstudio.foundry.shapes import Transaction

DATASET = "ri.foundry.main.dataset.d"


def head(rid: str | None, status: str = "COMMITTED", closed: str | None = "2026-12-05T10:00:00.000Z") -> BranchHead:
    found = None if rid is None else Transaction(rid, "APPEND", status, "2026-12-05T09:00:00.000Z", closed)
    return BranchHead(DATASET, "master", found)


def test_a_new_watcher_starts_after_a_committed_head_before_an_open_one_and_at_nothing_on_an_empty_branch() -> None:
    assert starting_point(head("t1")) == Watermark("t1", "2026-12-05T10:00:00.000Z")
    assert starting_point(head("t2", "OPEN", None)) == Watermark(None, "2026-12-05T09:00:00.000Z")
    assert starting_point(head(None)) == Watermark(None, None)


@pytest.mark.parametrize(
    ("current", "mark", "news"),
    [
        (head("t2", closed="2026-12-05T11:00:00Z"), Watermark("t1", "2026-12-05T10:00:00Z"), True),
        (head("t2", closed="2026-12-05T10:00:00Z"), Watermark("t1", "2026-12-05T10:00:00Z"), True),  # same ms
        (head("t0", closed="2026-12-05T09:00:00Z"), Watermark("t1", "2026-12-05T10:00:00Z"), False),  # moved back
        (head("t1"), Watermark("t1", "2026-12-05T10:00:00.000Z"), False),
        (head("t2", "OPEN", None), Watermark("t1", None), False),
        (head("t2", "ABORTED"), Watermark("t1", None), False),
        (head(None), Watermark(None, None), False),
        (head("t1"), Watermark(None, None), True),
        (head("t2", closed=None), Watermark("t1", "2026-12-05T10:00:00Z"), True),  # unknown time: announce
        (head("t2", closed="yesterday"), Watermark("t1", "2026-12-05T10:00:00Z"), True),
        (head("t2", closed="2026-12-05T08:00:00"), Watermark("t1", "2026-12-05T10:00:00Z"), True),  # no zone
        (head("t2"), Watermark("t1", "not a time"), True),
        (head("t2", closed="2026-12-05T09:30:00Z"), Watermark(None, "2026-12-05T09:00:00Z"), True),  # after OPEN
        (head("t2", closed="2026-12-05T08:30:00Z"), Watermark(None, "2026-12-05T09:00:00Z"), False),
    ],
)
def test_news_is_a_commit_other_than_the_last_and_not_older(current: BranchHead, mark: Watermark, news: bool) -> None:
    assert is_news(current, mark) is news


def test_the_event_names_the_commit_and_the_one_before_and_the_watermark_moves_to_it() -> None:
    current = head("t2")
    assert event_payload(current, Watermark("t1", None)) == {
        "dataset_rid": DATASET,
        "branch": "master",
        "transaction_rid": "t2",
        "transaction_type": "APPEND",
        "closed_time": "2026-12-05T10:00:00.000Z",
        "previous_transaction_rid": "t1",
    }
    assert announced(current) == Watermark("t2", "2026-12-05T10:00:00.000Z")


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ({"transaction_rid": "t1", "closed_time": "c", "dataset_rid": DATASET}, Watermark("t1", "c")),
        ({"transaction_rid": None, "closed_time": None}, Watermark(None, None)),
        ({}, Watermark(None, None)),
        (None, None),
        ("t1", None),
        ({"transaction_rid": 5}, None),
        ({"transaction_rid": "t1", "closed_time": ["c"]}, None),
    ],
)
def test_a_stored_watermark_is_read_back_and_an_edited_one_is_none(stored: object, read: Watermark | None) -> None:
    assert Watermark.from_json(stored) == read
    if read is not None:
        assert Watermark.from_json(read.to_json()) == read
