"""Reading scenario settings from JSON strictly: unknown keys, wrong types and bad ranges are refused.

:func:`parse_flat` builds a settings dataclass from a JSON object whose fields are scalars, lists of
strings, optional strings or maps of numbers, checking each value against the field's type hint. Every
error is a :class:`ScenarioError` naming where the bad value is. Nested settings (lists or maps of
objects) are read by their owners, not here.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

_T = TypeVar("_T")


class ScenarioError(ValueError):
    """A scenario (or a part of one) is not valid; the message says where and why."""


def number_at_least(value: float, minimum: float, where: str) -> None:
    """Refuse ``value`` below ``minimum``.

    :param value: the value.
    :param minimum: the smallest value allowed.
    :param where: the field's name, for the message.
    """
    if value < minimum:
        raise ScenarioError(f"{where} must be >= {minimum}, got {value}")


def mapping(value: object, where: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else a :class:`ScenarioError`.

    :param value: the value.
    :param where: where it comes from, for the message.
    """
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def parse_flat(cls: type[_T], data: object, where: str) -> _T:
    """Build the dataclass ``cls`` from a JSON object of scalar, list-of-string and number-map fields.

    :param cls: the settings dataclass.
    :param data: the JSON object.
    :param where: where it comes from, for messages.
    """
    values = mapping(data, where)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in values:
        if key not in fields:
            raise ScenarioError(f"unknown key {key!r} in {where}; known keys: {', '.join(sorted(fields))}")
    for name, spec in fields.items():
        required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if required and name not in values:
            raise ScenarioError(f"missing key {name!r} in {where}")
    hints = typing.get_type_hints(cls)
    coerced = {key: coerce(hints[key], value, f"{where}.{key}") for key, value in values.items()}
    try:
        return cls(**coerced)
    except ScenarioError as error:
        raise ScenarioError(f"{where}: {error}") from None


def coerce(hint: object, value: object, where: str) -> Any:
    """Check ``value`` against a field's type hint and convert it (int to float, list to tuple).

    :param hint: the field's type hint.
    :param value: the JSON value.
    :param where: the field, for the message.
    """
    if hint in (float | None, str | None) and value is None:
        return None
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ScenarioError(f"{where} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ScenarioError(f"{where} must be an integer, got {value!r}")
    if hint in (float, float | None):
        if _is_number(value):
            return float(value)  # type: ignore[arg-type]
        raise ScenarioError(f"{where} must be a number, got {value!r}")
    if hint in (str, str | None):
        if isinstance(value, str):
            return value
        raise ScenarioError(f"{where} must be a string, got {value!r}")
    if hint == dict[str, float]:
        if isinstance(value, Mapping) and all(_is_number(item) for item in value.values()):
            return {str(key): float(item) for key, item in value.items()}
        raise ScenarioError(f"{where} must be a JSON object of numbers, got {value!r}")
    # The remaining field type is tuple[str, ...].
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ScenarioError(f"{where} must be a list of strings, got {value!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
