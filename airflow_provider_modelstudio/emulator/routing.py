"""Where the emulator serves each endpoint of the contract, and in which order its routes are tried.

Paths come from :data:`airflow_provider_modelstudio.foundry.endpoints.ENDPOINTS` (prefix + path); nothing
here restates them. A ``{placeholder}`` matches any one path segment, so two routes can match one request
(``configVersions/latest`` and ``configVersions/{configVersion}``): the route with a literal segment where
the other has a placeholder, at the first position where they differ, is tried first. This module does
not register routes; the app does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_provider_modelstudio.foundry.endpoints import Endpoint


def route_path(endpoint: Endpoint[Any]) -> str:
    """The path the endpoint is served at, with its ``{placeholders}``.

    :param endpoint: a contract endpoint.
    """
    return endpoint.prefix + endpoint.path


def _specificity(endpoint: Endpoint[Any]) -> tuple[bool, ...]:
    """Per path segment, whether it is a placeholder (False, a literal, sorts first)."""
    return tuple(segment.startswith("{") for segment in route_path(endpoint).split("/"))


def routing_order(endpoints: Iterable[Endpoint[Any]]) -> list[Endpoint[Any]]:
    """The endpoints in the order their routes must be tried: literal segments before placeholders.

    Endpoints whose paths have the same shape keep the order they were given in.

    :param endpoints: contract endpoints, in any order.
    """
    return sorted(endpoints, key=_specificity)
