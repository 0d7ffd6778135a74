"""The rollback point a promotion notes, whatever order Foundry lists a branch's versions in."""

from __future__ import annotations

import logging

from airflow_provider_modelstudio.deploys.promotion import promote
from airflow_provider_modelstudio.foundry.shapes import ModelVersion
from tests.deploys.fakes import TARGET, FakeFoundry, version_rid

LOG = logging.getLogger(__name__)
CANDIDATE = version_rid("candidate")


class PromotingFoundry(FakeFoundry):
    """Lists the branch oldest first and makes a copy on promote."""

    def promote_model_version(self, model_rid: str, source_rid: str, branch: str | None) -> ModelVersion:
        copy = {
            "rid": version_rid("copy"),
            "createdTime": "2026-01-03T00:00:00Z",
            "source": {"type": "promoted", "previousModelVersionRid": source_rid},
        }
        self.branches.setdefault((model_rid, branch), []).append(copy)
        return ModelVersion.from_json(copy)


def oldest_first(foundry: FakeFoundry) -> None:
    foundry.branches[(TARGET, "prod")] = [
        {"rid": version_rid("old"), "createdTime": "2026-01-01T00:00:00Z"},
        {"rid": version_rid("newest"), "createdTime": "2026-01-02T00:00:00Z"},
    ]


def test_the_rollback_point_is_the_branchs_newest_version_by_created_time_not_the_first_listed():
    foundry = PromotingFoundry()
    oldest_first(foundry)
    promotion = promote(foundry, TARGET, CANDIDATE, "prod", LOG)  # type: ignore[arg-type]
    assert promotion.previous_version_rid == version_rid("newest")


def test_the_rollback_point_is_what_the_deployment_served_when_known():
    foundry = PromotingFoundry()
    oldest_first(foundry)
    served = version_rid("old")
    promotion = promote(foundry, TARGET, CANDIDATE, "prod", LOG, served_version_rid=served)  # type: ignore[arg-type]
    assert promotion.previous_version_rid == served


def test_an_adopted_copy_notes_the_newest_version_before_it_as_the_rollback_point():
    foundry = PromotingFoundry()
    oldest_first(foundry)
    copy = foundry.promote_model_version(TARGET, CANDIDATE, "prod")
    listed = foundry.branches[(TARGET, "prod")]
    listed.insert(0, listed.pop())
    assert listed[0]["rid"] == copy.rid
    promotion = promote(foundry, TARGET, CANDIDATE, "prod", LOG)  # type: ignore[arg-type]
    assert (promotion.adopted, promotion.promoted_version_rid) == (True, version_rid("copy"))
    assert promotion.previous_version_rid == version_rid("newest")
