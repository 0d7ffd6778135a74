"""An experiment search is read to its last page (its pages asked for in the body), and a search whose pages
never end is stopped without quoting the connection's token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import operations
from airflow_provider_modelstudio.foundry.errors import FoundryPagingError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import FAST_RETRY

MODEL = "ri.models.main.model.search-paging"
SEARCH = f"/api/v2/models/{MODEL}/experiments/search"
TOKEN = "search-paging-token-7c2"


def _hook(stub_foundry: Any, set_connection: Callable[..., str]) -> ModelStudioHook:
    set_connection(host=stub_foundry.url, password=TOKEN)
    return ModelStudioHook(retry=FAST_RETRY)


def test_a_search_answers_the_experiments_of_every_page_in_order(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on(
        "POST",
        SEARCH,
        (200, {"data": [{"rid": "e1"}, {"rid": "e2"}], "nextPageToken": "p2"}, {}),
        (200, {"data": [{"rid": "e3"}], "nextPageToken": "p3"}, {}),
        (200, {"data": [{"rid": "e4"}]}, {}),
    )
    where = {"type": "eq", "field": "BRANCH", "value": "master"}
    found = _hook(stub_foundry, set_connection).search_experiments(MODEL, where=where)
    assert [e.rid for e in found] == ["e1", "e2", "e3", "e4"]
    assert [seen.json() for seen in stub_foundry.requests_to(SEARCH)] == [
        {"pageSize": 100, "where": where},
        {"pageSize": 100, "where": where, "pageToken": "p2"},
        {"pageSize": 100, "where": where, "pageToken": "p3"},
    ]


def test_a_search_whose_page_token_comes_back_is_stopped_without_quoting_the_token(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on("POST", SEARCH, (200, {"data": [], "nextPageToken": f"page-{TOKEN}"}, {}))
    with pytest.raises(FoundryPagingError) as info:
        _hook(stub_foundry, set_connection).search_experiments(MODEL)
    assert "answered the page token 'page-***' a second time, after 2 page(s)" in str(info.value)
    assert TOKEN not in str(info.value)
    assert len(stub_foundry.requests_to(SEARCH)) == 2


def test_a_search_larger_in_all_than_the_listing_bound_is_stopped_naming_the_bound(
    stub_foundry: Any, set_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "MAX_LISTING_BYTES", 50_000)
    stub_foundry.on(
        "POST",
        SEARCH,
        *[(200, {"data": [{"rid": "e", "notes": "x" * 20_000}], "nextPageToken": f"p{i}"}, {}) for i in range(5)],
    )
    with pytest.raises(FoundryPagingError) as info:
        _hook(stub_foundry, set_connection).search_experiments(MODEL)
    assert str(info.value).startswith(
        f"The listing POST {SEARCH} answered more than 50000 bytes in 3 page(s), more than any listing this "
        "provider reads, so it was stopped."
    )
