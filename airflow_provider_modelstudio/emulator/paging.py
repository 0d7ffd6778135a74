"""Cursor paging for the emulator's lists: a page token names the sort key of the last item served.

Items are sorted by a key that ends in a unique sequence number, so a token stays valid when items are
added between two requests: the next page starts after the last item served, and nothing is served
twice. Tokens are opaque to clients (base64 of JSON). An unreadable token, or one made for another list,
answers 400 InvalidPageToken. Not thread-safe by itself: the state's lock guards the items.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from airflow_provider_modelstudio.emulator.errors import ErrorAnswer

T = TypeVar("T")
SortKey = tuple[float | int | str, ...]


def page(
    items: Sequence[T],
    key: Callable[[T], SortKey],
    *,
    size: int,
    token: str | None,
    descending: bool,
    kind: str,
) -> tuple[list[T], str | None]:
    """One page of ``items`` in ``key`` order, and the token of the next page (None on the last page).

    :param items: every item of the list, in any order.
    :param key: the sort key of an item; its last element must be unique.
    :param size: the page size.
    :param token: the ``pageToken`` sent, or None for the first page.
    :param descending: largest keys first.
    :param kind: the list's name, written into its tokens.
    :raises ErrorAnswer: 400 InvalidPageToken for a token that is not one of this list's.
    """
    ordered = sorted(items, key=key, reverse=descending)
    if token is not None:
        cursor = _decode(token, kind)
        try:
            ordered = [item for item in ordered if (key(item) < cursor if descending else key(item) > cursor)]
        except TypeError:
            raise ErrorAnswer("InvalidPageToken", pageToken=token) from None
    chosen = ordered[:size]
    next_token = _encode(kind, key(chosen[-1])) if len(ordered) > size else None
    return chosen, next_token


def _encode(kind: str, cursor: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps([kind, *cursor]).encode()).decode()


def _decode(token: str, kind: str) -> SortKey:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = None
    if not isinstance(decoded, list) or len(decoded) < 2 or decoded[0] != kind:
        raise ErrorAnswer("InvalidPageToken", pageToken=token)
    return tuple(decoded[1:])
