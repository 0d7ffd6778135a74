"""This wave's endpoints (dataset branch and transaction, trainer, config version listing), and the run listing
a launch depends on, read a hostile or broken server's answers as the older ones do: each bad answer is one
clear, typed error naming the request, sync and async alike, and never a crash, a hang or a wrong value."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import endpoints
from airflow_provider_modelstudio.foundry.errors import (
    FoundryAnswerError,
    FoundryError,
    FoundryNotFound,
    FoundryServerError,
    FoundryTransportError,
)
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import FAST_RETRY

DATASET = "ri.foundry.main.dataset.00000000-0000-0000-0000-000000000001"
TRANSACTION = "ri.foundry.main.transaction.00000000-0000-0000-0000-000000000002"
STUDIO = "ri.models.main.model-studio.demo"
TRAINER = "ri.models.main.trainer.gbt"

CALLS: dict[str, tuple[str, dict[str, str], str, tuple[Any, ...]]] = {
    "get_dataset_branch": (
        "GET",
        {"datasetRid": DATASET, "branchName": "master"},
        "get_dataset_branch",
        (DATASET, "master"),
    ),
    "get_dataset_transaction": (
        "GET",
        {"datasetRid": DATASET, "transactionRid": TRANSACTION},
        "get_dataset_transaction",
        (DATASET, TRANSACTION),
    ),
    "get_trainer": ("GET", {"trainerId": TRAINER}, "get_trainer", (TRAINER,)),
    "list_config_versions": ("GET", {"modelStudioRid": STUDIO}, "list_config_versions", (STUDIO,)),
    # the listing a launch reads first, so that a lost answer never starts a second run: a page it cannot read
    # must not read as "no runs"
    "list_model_studio_runs": ("GET", {"modelStudioRid": STUDIO}, "list_model_studio_runs", (STUDIO,)),
}
HOSTILE = {
    "html page": ((502, b"<html><body>Bad gateway</body></html>", {"Content-Type": "text/html"}), FoundryServerError),
    "cut-off JSON": (
        (200, b'{"name": "master", "transac', {"Content-Type": "application/json"}),
        FoundryTransportError,  # a body that stops short is a lost answer (retried), not a wrong one
    ),
    "a JSON list": ((200, [1, 2, 3], {}), FoundryAnswerError),
    "a redirect": ((302, None, {"Location": "https://elsewhere.example/login"}), FoundryError),
    "a 404 envelope": (
        (404, {"errorCode": "NOT_FOUND", "errorName": "BranchNotFound", "errorInstanceId": "x", "parameters": {}}, {}),
        FoundryNotFound,
    ),
}


@pytest.fixture
def hook(stub_foundry: Any, set_connection: Callable[..., str]) -> ModelStudioHook:
    set_connection(host=stub_foundry.url, password="stub-token-1")
    return ModelStudioHook(retry={**FAST_RETRY, "max_attempts": 1})


def call_both(hook: ModelStudioHook, method: str, args: tuple[Any, ...]) -> list[BaseException]:
    """The error the sync call raises and the one its async twin raises."""
    raised: list[BaseException] = []
    try:
        getattr(hook, method)(*args)
    except BaseException as exc:
        raised.append(exc)

    async def twin() -> None:
        try:
            await getattr(hook, f"a{method}")(*args)
        finally:
            await hook.aclose()

    try:
        asyncio.run(twin())
    except BaseException as exc:
        raised.append(exc)
    return raised


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("name", list(CALLS))
def test_a_bad_answer_is_one_typed_error_naming_the_request(
    hook: ModelStudioHook, stub_foundry: Any, name: str, kind: str
) -> None:
    http_method, path_params, method, args = CALLS[name]
    answer, expected = HOSTILE[kind]
    stub_foundry.on(http_method, endpoints.ENDPOINTS[name].render(path_params), answer)
    raised = call_both(hook, method, args)
    assert len(raised) == 2 and all(isinstance(exc, expected) for exc in raised), raised
    assert type(raised[0]) is type(raised[1])
    path = endpoints.ENDPOINTS[name].render(path_params)
    for exc in raised:
        assert "stub-token-1" not in str(exc)
        assert path in str(exc) or kind == "a 404 envelope", str(exc)
