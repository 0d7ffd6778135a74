"""Small pieces of request logic both transports share: paging, batching, tolerant reading."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_modelstudio.foundry.answers import quoted
from airflow_provider_modelstudio.foundry.endpoints import BATCH_LIMIT
from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryPagingError
from airflow_provider_modelstudio.foundry.protocol import Done
from airflow_provider_modelstudio.foundry.shapes.reading import kind_of

PAGE_SIZE = 100

MAX_PAGES = 1000
"""The most pages one listing reads (100 000 items at :data:`PAGE_SIZE`); more means the listing never ends."""

MAX_LISTING_ITEMS = MAX_PAGES * PAGE_SIZE
"""The most items one listing reads, however many a page holds."""

MAX_LISTING_BYTES = 64 * 1024 * 1024
"""The most bytes (decoded) one listing reads, all pages together: :data:`MAX_LISTING_ITEMS` runs of about 670 bytes
(the emulator's are about 510), instead of up to :data:`MAX_PAGES` answers of 16 MiB."""


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


class Pages:
    """The queries of one paged listing, page after page, for any transport.

    Refuses, with :class:`~.errors.FoundryPagingError`, a listing that would never end: a page token that
    comes back (the same pages again, forever), a token that is not a string, or more than :data:`MAX_PAGES`
    pages; and one larger than any listing read here: more than :data:`MAX_LISTING_ITEMS` items or
    :data:`MAX_LISTING_BYTES` bytes in all. It does not fetch anything.

    :param what: the listing, for messages (e.g. ``GET /api/v2/...``)
    :param query: the query of the first page (``pageSize`` is added)
    :param secrets: never quoted back from a page token
    """

    def __init__(self, what: str, query: Mapping[str, Any], secrets: Iterable[str] = ()) -> None:
        self.what = what
        self.secrets = secrets
        self.query: dict[str, Any] | None = {"pageSize": PAGE_SIZE, **query}
        self.pages = 0
        self.items = 0
        self.size = 0
        self._tokens: set[Any] = {query.get("pageToken")}

    def after(self, page: Any, size: int) -> list[Any]:
        """Record ``page``, the answer to :attr:`query` (``size`` bytes); return its items and move :attr:`query`
        on (None after the last page)."""
        self.pages += 1
        if not isinstance(page, dict):
            raise FoundryAnswerError(
                f"The listing {self.what} answered {kind_of(page)} as page {self.pages} instead of a JSON object; a "
                "page cannot be read from it. Check that the host is your Foundry's API gateway, not a proxy's page."
            )
        items = page_items(page)
        self.items += len(items)
        self.size += size
        if self.items > MAX_LISTING_ITEMS:
            raise self._too_large(f"more than {MAX_LISTING_ITEMS} items")
        if self.size > MAX_LISTING_BYTES:
            raise self._too_large(f"more than {MAX_LISTING_BYTES} bytes")
        following = next_page_query(self.query or {}, page)
        if following is not None:
            token = following["pageToken"]
            if not isinstance(token, str):
                raise self._refused(f"answered a nextPageToken that is not a string ({quoted(token, self.secrets)})")
            if token in self._tokens:
                raise self._refused(f"answered the page token {quoted(token, self.secrets, limit=60)!r} a second time")
            if self.pages >= MAX_PAGES:
                raise self._refused(f"still had more pages after {MAX_PAGES}")
            self._tokens.add(token)
        self.query = following
        return items

    def _too_large(self, bound: str) -> FoundryPagingError:
        return FoundryPagingError(
            f"The listing {self.what} answered {bound} in {self.pages} page(s), more than any listing this provider "
            "reads, so it was stopped. Foundry (or a proxy or cache in front of it) is not paging correctly; check "
            "the host, and report the listing to Palantir support if the host is Foundry's."
        )

    def _refused(self, what_happened: str) -> FoundryPagingError:
        return FoundryPagingError(
            f"The listing {self.what} {what_happened}, after {self.pages} page(s): it would never end, so it was "
            "stopped. Foundry (or a proxy or cache in front of it) is not paging correctly; check the host, and "
            "report the listing to Palantir support if the host is Foundry's."
        )


def iterate_pages(
    fetch: Callable[[Mapping[str, Any]], Done],
    query: Mapping[str, Any],
    what: str = "of a paged endpoint",
    secrets: Iterable[str] = (),
) -> Iterator[Any]:
    """Every item of every page, fetching pages (each parsed, with its size) lazily (see :class:`Pages` for what
    is refused)."""
    pages = Pages(what, query, secrets)
    while pages.query is not None:
        page = fetch(pages.query)
        yield from pages.after(page.value, page.size)


def batches(build_rids: Iterable[str]) -> list[list[str]]:
    """Unique build RIDs in getBatch-sized chunks, order kept."""
    unique = list(dict.fromkeys(build_rids))
    return [unique[i : i + BATCH_LIMIT] for i in range(0, len(unique), BATCH_LIMIT)]


def batch_body(chunk: list[str]) -> list[dict[str, str]]:
    return [{"buildRid": rid} for rid in chunk]
