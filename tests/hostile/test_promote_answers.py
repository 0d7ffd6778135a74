"""One promotion is one copy, whatever a server answers to promoteVersion (issue 17, items 1 and 5).

Over HTTP with the sync client: Foundry's own 503 or 429 envelope, answered after the copy was made, is not
replayed by the transport but reconciled; an answer whose ``rid`` is not a model version RID is reconciled too.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import promote as promote_module
from airflow_provider_modelstudio.foundry.promote import promote_once
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.shapes import ModelVersion
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import FAST_RETRY, FakeClock
from tests.hostile.conftest import connection
from tests.hostile.server import Answer, Exchange, HostileServer, envelope, reply

MODEL = "ri.models.main.model.target"
SOURCE = "ri.models.main.model-version.source"
PROMOTE_PATH = f"/api/v2/models/{MODEL}/promoteVersion"
VERSIONS_PATH = f"/api/v2/models/{MODEL}/versions"
COPY = {"rid": "ri.models.main.model-version.copy", "source": {"type": "promoted", "previousModelVersionRid": SOURCE}}


def copying_then(branch: list[dict[str, Any]], then: Answer) -> Answer:
    """An answer that makes the copy (it shows in the branch's listing), then answers ``then``."""

    def answer(exchange: Exchange) -> bool:
        branch.insert(0, COPY)
        return then(exchange)

    return answer


def listing(branch: list[dict[str, Any]]) -> Answer:
    """The branch's versions as they are when asked (``reply`` fixes its body when made)."""

    def answer(exchange: Exchange) -> bool:
        return reply(200, {"data": branch})(exchange)

    return answer


def promote(hostile: HostileServer, clock: FakeClock, mocker: Any) -> ModelVersion:
    mocker.patch.object(promote_module, "time", clock)
    client = FoundryClient(connection(hostile), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None)
    return promote_once(
        lambda: ModelVersion.from_json(
            client.call("promote_model_version", {"modelRid": MODEL}, {}, {"sourceModelVersionRid": SOURCE})
        ),
        lambda: tuple(
            ModelVersion.from_json(v)
            for v in client.paged("list_model_versions", {"modelRid": MODEL}, {"branch": "master"})
        ),
        SOURCE,
        sleep=clock.sleep,
    )


@pytest.mark.parametrize(
    "answer",
    [
        envelope(503, "CUSTOM_SERVER", "Default:Unavailable"),
        envelope(429, "CUSTOM_SERVER", "Default:TooManyRequests"),
        reply(200, {**COPY, "rid": "../../.."}),
        reply(200, {"source": COPY["source"]}),
    ],
    ids=["503-envelope", "429-envelope", "path-as-rid", "no-rid"],
)
def test_a_promotion_answered_badly_after_the_copy_was_made_adopts_that_copy_without_promoting_again(
    hostile: HostileServer, clock: FakeClock, mocker: Any, answer: Answer
) -> None:
    branch: list[dict[str, Any]] = []
    hostile.on("GET", VERSIONS_PATH, listing(branch))
    hostile.on("POST", PROMOTE_PATH, copying_then(branch, answer))
    assert promote(hostile, clock, mocker) == ModelVersion.from_json(COPY)
    assert len(hostile.requests_to(PROMOTE_PATH)) == 1
