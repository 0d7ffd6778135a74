"""Tolerant reading of Foundry's JSON: the small rules every shape follows.

Fields Foundry adds later are ignored, optional fields it leaves out read as None, and a value of the wrong
JSON type reads as absent. Only what a caller cannot do without is required, and its absence raises
:class:`~..errors.FoundryAnswerError` without quoting the answer (it may echo a secret).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryError

T = TypeVar("T")


def json_object(answer: Any, what: str) -> dict[str, Any]:
    """``answer`` when it is a JSON object; otherwise :class:`FoundryAnswerError` naming what came instead.

    :param what: the request, for the message (e.g. ``"GET model ri.models...."``)
    """
    if not isinstance(answer, dict):
        raise FoundryAnswerError(
            f"{what} answered {kind_of(answer)} instead of a JSON object. Check that the host is your Foundry's API "
            "gateway, not a proxy's page."
        )
    return answer


def kind_of(answer: Any) -> str:
    """What an answer is, without quoting it."""
    if answer is None:
        return "nothing"
    return f"a JSON {type(answer).__name__}"


def text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def integer(value: Any) -> int | None:
    """A JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def readable(items: Any, read: Callable[[Any], T]) -> tuple[T, ...]:
    """The items of a listing that ``read`` can read; the others are left out (a listing is not refused for
    one entry it cannot use)."""
    found = []
    for item in items if isinstance(items, list) else ():
        try:
            found.append(read(item))
        except FoundryError:
            continue
    return tuple(found)
