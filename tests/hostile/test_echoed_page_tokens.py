"""A page token that echoes a secret is quoted redacted and short when the listing is refused: the connection's
secret, and the OAuth2 token the client holds, never come back in the error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.launch import launch_once
from airflow_provider_modelstudio.foundry.operations import Pages
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import FAST_RETRY
from tests.hostile.conftest import (
    BUILD_PATH,
    BUILD_RID,
    LAUNCH_PATH,
    RUNS_PATH,
    STUDIO,
    TOKEN,
    TOKEN_PATH,
    connection,
)
from tests.hostile.server import HostileServer, reply

ISSUED = "issued-access-token-4b2d"
NEVER_ENDS = (
    "after {pages} page(s): it would never end, so it was stopped. Foundry (or a proxy or cache in front of it) is "
    "not paging correctly; check the host, and report the listing to Palantir support if the host is Foundry's."
)
LISTING = f"GET {RUNS_PATH}"


def refusal(pages: Pages, *answers: Any) -> str:
    with pytest.raises(errors.FoundryPagingError) as info:
        for answer in answers:
            pages.after(answer, 100)
    return str(info.value)


def test_a_page_token_that_is_not_a_string_is_quoted_redacted() -> None:
    pages = Pages(LISTING, {}, secrets=(TOKEN,))
    message = refusal(pages, {"data": [], "nextPageToken": {"token": TOKEN, "n": 7}})
    assert message == (
        f'The listing {LISTING} answered a nextPageToken that is not a string ({{"token": "***", "n": 7}}), '
        + NEVER_ENDS.format(pages=1)
    )


def test_a_repeated_page_token_is_quoted_redacted_and_cut_at_60_characters() -> None:
    token = f"{TOKEN}:" + "p" * 100
    page = {"data": [], "nextPageToken": token}
    message = refusal(Pages(LISTING, {}, secrets=(TOKEN,)), page, page)
    shown = "***:" + "p" * 56 + "..."
    assert message == f"The listing {LISTING} answered the page token {shown!r} a second time, " + NEVER_ENDS.format(
        pages=2
    )


def test_the_sync_listing_redacts_the_static_token_from_a_repeated_page_token(hostile: HostileServer) -> None:
    hostile.on("GET", RUNS_PATH, reply(200, {"data": [], "nextPageToken": f"from-{TOKEN}"}))
    client = FoundryClient(connection(hostile), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None)
    with pytest.raises(errors.FoundryPagingError) as info:
        list(client.paged("list_model_studio_runs", {"modelStudioRid": STUDIO}, {}))
    assert "answered the page token 'from-***' a second time" in str(info.value)


def serve_an_oauth2_token_and_a_repeated_page_token(hostile: HostileServer) -> None:
    hostile.on("POST", TOKEN_PATH, reply(200, {"access_token": ISSUED, "expires_in": 3600}))
    hostile.on("GET", BUILD_PATH, reply(200, {"rid": BUILD_RID}))
    hostile.on("GET", RUNS_PATH, reply(200, {"data": [], "nextPageToken": f"from-{ISSUED}"}))


# held: the client got its token from an earlier call; fetched: the listing itself fetches it
HELD_OR_FETCHED = pytest.mark.parametrize("held", [True, False], ids=["held", "fetched"])


def assert_the_token_redacted(message: str, hostile: HostileServer) -> None:
    assert "answered the page token 'from-***' a second time" in message
    assert ISSUED not in message
    assert len(hostile.requests_to(TOKEN_PATH)) == 1


@HELD_OR_FETCHED
def test_the_sync_listing_redacts_the_oauth2_token_from_a_repeated_page_token(
    hostile: HostileServer, held: bool
) -> None:
    serve_an_oauth2_token_and_a_repeated_page_token(hostile)
    client = FoundryClient(
        connection(hostile, oauth2=True), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None
    )
    if held:
        client.call("get_build", {"buildRid": BUILD_RID})
    with pytest.raises(errors.FoundryPagingError) as info:
        list(client.paged("list_model_studio_runs", {"modelStudioRid": STUDIO}, {}))
    assert_the_token_redacted(str(info.value), hostile)


@HELD_OR_FETCHED
def test_the_async_listing_redacts_the_oauth2_token_from_a_repeated_page_token(
    hostile: HostileServer, held: bool
) -> None:
    serve_an_oauth2_token_and_a_repeated_page_token(hostile)

    async def main() -> str:
        client = AsyncFoundryClient(connection(hostile, oauth2=True), retry=RetryPolicy(**FAST_RETRY))
        try:
            if held:
                await client.call("get_build", {"buildRid": BUILD_RID})
            with pytest.raises(errors.FoundryPagingError) as info:
                _ = [item async for item in client.paged("list_model_studio_runs", {"modelStudioRid": STUDIO}, {})]
            return str(info.value)
        finally:
            await client.aclose()

    assert_the_token_redacted(asyncio.run(main()), hostile)


def test_a_launch_answer_quoting_the_oauth2_token_fetched_for_it_is_refused_redacted(hostile: HostileServer) -> None:
    hostile.on("POST", TOKEN_PATH, reply(200, {"access_token": ISSUED, "expires_in": 3600}))
    hostile.on("GET", RUNS_PATH, reply(200, {"data": []}))
    hostile.on("POST", LAUNCH_PATH, reply(200, {"runId": f"run-of-{ISSUED}"}))
    client = FoundryClient(
        connection(hostile, oauth2=True), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None
    )
    with pytest.raises(errors.FoundryError) as info:
        launch_once(client, STUDIO, sleep=lambda seconds: None)
    assert '"runId": "run-of-***"' in str(info.value)
    assert ISSUED not in str(info.value)
