"""Small pieces of request logic both transports share: paging, batching, tolerant reading."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_modelstudio.foundry.endpoints import BATCH_LIMIT

PAGE_SIZE = 100


def next_page_query(query: Mapping[str, Any], page: Any) -> dict[str, Any] | None:
    """The query for the page after ``page``, or None after the last page."""
    token = page.get("nextPageToken") if isinstance(page, dict) else None
    if not token:
        return None
    return {**query, "pageToken": token}


def page_items(page: Any) -> list[Any]:
    """The ``data`` of a page; a missing or null list reads as empty."""
    data = page.get("data") if isinstance(page, dict) else None
    return list(data) if isinstance(data, list) else []


def iterate_pages(fetch: Callable[[Mapping[str, Any]], Any], query: Mapping[str, Any]) -> Iterator[Any]:
    """Every item of every page, fetching pages lazily."""
    current: dict[str, Any] | None = {"pageSize": PAGE_SIZE, **query}
    while current is not None:
        page = fetch(current)
        yield from page_items(page)
        current = next_page_query(current, page)


def batches(build_rids: Iterable[str]) -> list[list[str]]:
    """Unique build RIDs in getBatch-sized chunks, order kept."""
    unique = list(dict.fromkeys(build_rids))
    return [unique[i : i + BATCH_LIMIT] for i in range(0, len(unique), BATCH_LIMIT)]


def batch_body(chunk: list[str]) -> list[dict[str, str]]:
    return [{"buildRid": rid} for rid in chunk]


def batch_builds(answer: Any) -> dict[str, dict[str, Any]]:
    """The ``{buildRid: Build}`` map of a getBatch answer; builds Foundry did not return are absent."""
    data = answer.get("data") if isinstance(answer, dict) else None
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}
