"""promote_once: a lost promoteVersion answer never makes a second copy."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry.errors import (
    FoundryPermissionDenied,
    FoundryRateLimited,
    FoundryServerError,
    FoundryTransportError,
    FoundryUnavailable,
    PromotionOutcomeUnknown,
)
from airflow_provider_modelstudio.foundry.promote import promote_once
from airflow_provider_modelstudio.foundry.shapes import ModelVersion
from tests.deploy_helpers import promoted_from

SOURCE = "ri.models.main.model-version.source"


def copy_of(source: str, rid: str) -> dict:
    return {"rid": rid, "source": {"type": "promoted", "previousModelVersionRid": source}}


class Branch:
    """A target branch whose promoteVersion may fail after (or before) making the copy."""

    def __init__(self, failures: list[tuple[Exception, bool]]) -> None:
        self.versions: list[dict] = [{"rid": "ri.models.main.model-version.old", "source": {"type": "modelStudio"}}]
        self.failures = failures
        self.promotions = 0

    def promote(self) -> dict:
        self.promotions += 1
        version = copy_of(SOURCE, f"ri.models.main.model-version.copy{self.promotions}")
        if self.failures:
            error, made_copy = self.failures.pop(0)
            if made_copy:
                self.versions.insert(0, version)
            raise error
        self.versions.insert(0, version)
        return version

    def listing(self) -> list[dict]:
        return list(self.versions)


LOST = FoundryTransportError("no answer", method="POST", path="/promoteVersion", may_have_reached_server=True)
NOT_SENT = FoundryTransportError("refused", method="POST", path="/promoteVersion", may_have_reached_server=False)


def read(answer):
    """``answer``'s versions read as the hook reads them."""
    return lambda: ModelVersion.from_json(answer())


def read_listing(listing):
    return lambda: tuple(ModelVersion.from_json(version) for version in listing())


def promote(branch: Branch) -> ModelVersion:
    return promote_once(read(branch.promote), read_listing(branch.listing), SOURCE, sleep=lambda _s: None, settle=0.0)


def test_a_lost_answer_after_the_copy_was_made_adopts_the_copy():
    branch = Branch([(LOST, True)])
    version = promote(branch)
    assert version.rid == "ri.models.main.model-version.copy1"
    assert branch.promotions == 1
    assert sum(promoted_from(v, SOURCE) for v in branch.versions) == 1


UNAVAILABLE = FoundryUnavailable(
    method="POST", path="/promoteVersion", status_code=503, error_code="CUSTOM_SERVER", error_name="Default:Unavailable"
)
RATE_LIMITED = FoundryRateLimited(
    method="POST",
    path="/promoteVersion",
    status_code=429,
    error_code="CUSTOM_SERVER",
    error_name="Default:TooManyRequests",
)


@pytest.mark.parametrize("envelope", [UNAVAILABLE, RATE_LIMITED], ids=["503", "429"])
def test_foundrys_own_qos_envelope_after_the_copy_was_made_adopts_the_copy(envelope: Exception):
    branch = Branch([(envelope, True)])
    assert promote(branch).rid == "ri.models.main.model-version.copy1"
    assert branch.promotions == 1
    assert sum(promoted_from(v, SOURCE) for v in branch.versions) == 1


def test_a_lost_answer_without_a_copy_promotes_again_once():
    branch = Branch([(LOST, False)])
    assert promote(branch).rid == "ri.models.main.model-version.copy2"
    assert sum(promoted_from(v, SOURCE) for v in branch.versions) == 1


def test_a_server_error_twice_without_a_copy_is_an_unknown_outcome_not_a_third_try():
    error = FoundryServerError(method="POST", path="/promoteVersion", status_code=502)
    branch = Branch([(error, False), (error, False)])
    with pytest.raises(PromotionOutcomeUnknown, match="failed twice"):
        promote(branch)
    assert branch.promotions == 2


def test_a_refusal_is_raised_as_it_is_without_looking_for_a_copy():
    denied = FoundryPermissionDenied(method="POST", path="/promoteVersion", status_code=403)
    branch = Branch([(denied, False)])
    with pytest.raises(FoundryPermissionDenied):
        promote(branch)
    assert branch.promotions == 1


def test_a_request_that_never_left_is_raised_without_promoting_again():
    branch = Branch([(NOT_SENT, False)])
    with pytest.raises(FoundryTransportError):
        promote(branch)


def test_two_copies_appearing_is_an_error_naming_them():
    branch = Branch([(LOST, True)])
    branch.versions.insert(0, copy_of(SOURCE, "ri.models.main.model-version.someone-else"))
    branch_listing = branch.listing

    def listing_after_promote() -> list[dict]:
        return branch_listing() if branch.promotions else branch_listing()[1:]

    with pytest.raises(PromotionOutcomeUnknown, match="someone-else"):
        promote_once(
            read(branch.promote), read_listing(listing_after_promote), SOURCE, sleep=lambda _s: None, settle=0.0
        )


def test_promoted_from_reads_the_promoted_source_only():
    assert promoted_from(copy_of(SOURCE, "x"), SOURCE)
    assert not promoted_from(copy_of("other", "x"), SOURCE)
    assert not promoted_from({"source": {"type": "modelStudio", "previousModelVersionRid": SOURCE}}, SOURCE)
    assert ModelVersion.from_json({"rid": "x"}).promoted_from(SOURCE) is False
