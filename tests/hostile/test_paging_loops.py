"""A paged listing that would never end is stopped with a clear error (issue 9, item 6)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors, operations
from airflow_provider_modelstudio.foundry.launch import launch_once
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import FAST_RETRY
from tests.hostile.conftest import LAUNCH_PATH, RUNS_PATH, STUDIO, Transport, connection
from tests.hostile.server import Answer, Exchange, HostileServer, reply

STUDIO_PARAMS = {"modelStudioRid": STUDIO}


def endless_pages(items: list[Any]) -> Answer:
    """Pages of ``items`` that always have a next one, each with a token never seen before."""
    counter = itertools.count()

    def answer(exchange: Exchange) -> bool:
        return reply(200, {"data": items, "nextPageToken": f"t{next(counter)}"})(exchange)

    return answer


def test_a_listing_that_repeats_its_page_token_is_stopped_at_the_repeat(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("GET", RUNS_PATH, reply(200, {"data": [{"runId": "r"}], "nextPageToken": "same"}))
    with pytest.raises(errors.FoundryPagingError) as info:
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)
    assert len(hostile.requests_to(RUNS_PATH)) == 2
    message = str(info.value)
    assert RUNS_PATH in message
    assert "'same' a second time" in message
    assert "would never end" in message


def test_a_listing_that_cycles_through_several_tokens_is_stopped(hostile: HostileServer, transport: Transport) -> None:
    hostile.on(
        "GET",
        RUNS_PATH,
        reply(200, {"data": [], "nextPageToken": "a"}),
        reply(200, {"data": [], "nextPageToken": "b"}),
        reply(200, {"data": [], "nextPageToken": "a"}),
        reply(200, {"data": [], "nextPageToken": None}),
    )
    with pytest.raises(errors.FoundryPagingError, match="'a' a second time"):
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)
    assert len(hostile.requests_to(RUNS_PATH)) == 3


def test_a_listing_with_ever_new_tokens_is_stopped_at_the_page_limit(
    hostile: HostileServer, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "MAX_PAGES", 5)
    hostile.on("GET", RUNS_PATH, endless_pages([{"runId": "r"}]))
    with pytest.raises(errors.FoundryPagingError, match="still had more pages after 5"):
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)
    assert len(hostile.requests_to(RUNS_PATH)) == 5


def test_a_listing_with_more_items_than_the_bound_is_stopped_naming_the_bound(
    hostile: HostileServer, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "MAX_LISTING_ITEMS", 250)
    hostile.on("GET", RUNS_PATH, endless_pages([{"runId": "r"}] * 100))
    with pytest.raises(errors.FoundryPagingError) as info:
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)
    assert str(info.value) == (
        f"The listing GET {RUNS_PATH} answered more than 250 items in 3 page(s), more than any listing this provider "
        "reads, so it was stopped. Foundry (or a proxy or cache in front of it) is not paging correctly; check the "
        "host, and report the listing to Palantir support if the host is Foundry's."
    )
    assert len(hostile.requests_to(RUNS_PATH)) == 3


def test_a_listing_of_overfull_pages_is_stopped_at_the_item_bound_before_the_page_limit(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("GET", RUNS_PATH, endless_pages([1] * (operations.MAX_LISTING_ITEMS // 4 + 1)))
    with pytest.raises(errors.FoundryPagingError, match=f"more than {operations.MAX_LISTING_ITEMS} items in 4 page"):
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)


def test_a_listing_of_more_bytes_than_the_bound_is_stopped_naming_the_bound(
    hostile: HostileServer, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "MAX_LISTING_BYTES", 100_000)
    hostile.on("GET", RUNS_PATH, endless_pages([{"runId": "r", "padding": "x" * 30_000}]))
    with pytest.raises(errors.FoundryPagingError) as info:
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)
    assert str(info.value).startswith(
        f"The listing GET {RUNS_PATH} answered more than 100000 bytes in 4 page(s), more than any listing this "
        "provider reads, so it was stopped."
    )
    assert len(hostile.requests_to(RUNS_PATH)) == 4


def test_a_page_token_that_is_not_a_string_is_refused(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("GET", RUNS_PATH, reply(200, {"data": [], "nextPageToken": {"next": 2}}))
    with pytest.raises(errors.FoundryPagingError, match="not a string"):
        transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS)


def test_a_well_paged_listing_is_read_to_its_end(hostile: HostileServer, transport: Transport) -> None:
    hostile.on(
        "GET",
        RUNS_PATH,
        reply(200, {"data": [1, 2], "nextPageToken": "b"}),
        reply(200, {"data": [3], "nextPageToken": "c"}),
        reply(200, {"data": [4]}),
    )
    assert transport.list(connection(hostile), "list_model_studio_runs", STUDIO_PARAMS) == [1, 2, 3, 4]
    assert [r.query.get("pageToken") for r in hostile.requests_to(RUNS_PATH)] == [None, "b", "c"]


def test_a_launch_whose_runs_listing_loops_fails_before_launching(hostile: HostileServer, mocker: Any) -> None:
    hostile.on("GET", RUNS_PATH, reply(200, {"data": [], "nextPageToken": "same"}))
    client = FoundryClient(connection(hostile), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None)
    with pytest.raises(errors.FoundryPagingError):
        launch_once(client, STUDIO, sleep=lambda seconds: None)
    assert hostile.requests_to(LAUNCH_PATH) == []
