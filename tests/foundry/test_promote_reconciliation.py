"""How a promotion that may have made a copy looks for it (for ``settle`` seconds, once a second), how it tells a
new copy from the copies the branch already held, and what it says; time is a fake clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import promote as promote_module
from airflow_provider_modelstudio.foundry.errors import (
    FoundryAnswerError,
    FoundryServerError,
    FoundryTransportError,
    PromotionOutcomeUnknown,
)
from airflow_provider_modelstudio.foundry.promote import promote_once
from airflow_provider_modelstudio.foundry.shapes import ModelVersion

SOURCE = "ri.models.main.model-version.source"
LOST = FoundryTransportError("no answer", method="POST", path="/promoteVersion", may_have_reached_server=True)


def copy_of(rid: str, source: str = SOURCE) -> dict[str, Any]:
    return {
        "rid": f"ri.models.main.model-version.{rid}",
        "source": {"type": "promoted", "previousModelVersionRid": source},
    }


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Branch:
    """The target branch: ``promote`` answers are scripted (a copy, or an exception after making a copy or not),
    and someone else's copies may land ``meanwhile``; listing it takes ``takes`` seconds and may be refused."""

    def __init__(self, clock: Clock, *answers: tuple[Exception | None, dict[str, Any] | None], takes: float = 0.0):
        self.clock = clock
        self.answers = list(answers)
        self.takes = takes
        self.versions: list[dict[str, Any]] = [copy_of("older-copy")]
        self.meanwhile: list[dict[str, Any]] = []
        self.listings: list[float] = []
        self.refuse_listing: Exception | None = None
        self.listed_before_promotion: list[int] = []

    def settling_listings(self) -> list[float]:
        """The times of the listings between the first promotion and the second."""
        first, second = self.listed_before_promotion[:2]
        return self.listings[first:second]

    def promote(self) -> dict[str, Any]:
        self.listed_before_promotion.append(len(self.listings))
        error, made = self.answers.pop(0)
        self.versions[:0] = self.meanwhile
        if made is not None:
            self.versions.insert(0, made)
        if error is not None:
            raise error
        assert made is not None
        return made

    def listing(self) -> list[dict[str, Any]]:
        self.listings.append(self.clock.now)
        assert len(self.listings) < 50, "the promotion kept listing"
        if self.refuse_listing is not None and len(self.listings) > 1:
            raise self.refuse_listing
        self.clock.now += self.takes
        return list(self.versions)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(promote_module, "time", fake)
    return fake


def read(answer: Callable[[], Any]) -> Callable[[], ModelVersion]:
    """``answer``'s answer read as the hook reads a promotion's."""
    return lambda: ModelVersion.from_json(answer())


def read_listing(listing: Callable[[], list[dict[str, Any]]]) -> Callable[[], tuple[ModelVersion, ...]]:
    """``listing``'s versions read as the hook reads a branch listing."""
    return lambda: tuple(ModelVersion.from_json(version) for version in listing())


def promote(branch: Branch, clock: Clock, settle: float = 10.0) -> ModelVersion:
    return promote_once(read(branch.promote), read_listing(branch.listing), SOURCE, sleep=clock.sleep, settle=settle)


def test_a_lost_promotion_is_looked_for_once_a_second_for_the_settling_time(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None), (None, copy_of("new")), takes=0.25)
    promote(branch, clock, settle=3.0)
    looked = branch.settling_listings()
    assert [round(b - a, 6) for a, b in pairwise(looked)] == [1.25, 1.25, 0.5]
    assert clock.slept[:3] == [1.0, 1.0, 0.25]


def test_the_last_look_for_a_lost_promotion_is_at_the_end_of_the_settling_time(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None), (None, copy_of("new")))
    promote(branch, clock, settle=3.0)
    assert branch.settling_listings() == [100.0, 101.0, 102.0, 103.0]


def test_a_copy_the_branch_held_before_is_not_taken_for_the_lost_one(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None), (None, copy_of("new")))
    assert promote(branch, clock, settle=0.0).rid == "ri.models.main.model-version.new"


def test_a_new_version_promoted_from_another_source_is_not_taken_for_the_lost_one(clock: Clock) -> None:
    branch = Branch(clock, (LOST, copy_of("other", source="ri.models.main.model-version.x")), (None, copy_of("new")))
    assert promote(branch, clock, settle=0.0).rid == "ri.models.main.model-version.new"


def test_an_adopted_copy_is_logged_with_the_failure_and_the_copy(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, copy_of("made")))
    assert promote(branch, clock).rid == "ri.models.main.model-version.made"
    assert caplog.messages == [
        "The promotion's answer was lost (no answer), but Foundry made version ri.models.main.model-version.made: "
        "adopting it."
    ]


def test_promoting_again_is_logged_with_the_failure(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    promote(Branch(clock, (LOST, None), (None, copy_of("new"))), clock, settle=0.0)
    assert caplog.messages == ["The promotion failed (no answer) and made no copy; promoting again."]


def test_two_copies_appearing_name_both_and_keep_the_failure_as_cause(clock: Clock) -> None:
    branch = Branch(clock, (LOST, copy_of("a")))
    branch.meanwhile = [copy_of("b")]
    with pytest.raises(PromotionOutcomeUnknown) as info:
        promote(branch, clock)
    assert str(info.value) == (
        f"The promotion of {SOURCE} got no answer (no answer) and 2 copies of it appeared meanwhile "
        "(ri.models.main.model-version.a, ri.models.main.model-version.b); someone else promoted it too. Nothing "
        "was promoted again: check the model's versions in Foundry."
    )
    assert info.value.__cause__ is LOST


def test_failing_twice_without_a_copy_says_to_retry_later_and_keeps_the_failure(clock: Clock) -> None:
    error = FoundryServerError(method="POST", path="/promoteVersion", status_code=502)
    with pytest.raises(PromotionOutcomeUnknown) as info:
        promote(Branch(clock, (error, None), (error, None)), clock, settle=0.0)
    assert str(info.value) == (
        f"The promotion of {SOURCE} failed twice ({error}) and no copy of it appeared. Nothing else was promoted; "
        "retry the task once Foundry answers again."
    )
    assert info.value.__cause__ is error


def test_a_branch_that_cannot_be_listed_after_a_lost_promotion_says_what_to_check(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None))
    refused = FoundryServerError(method="GET", path="/versions", status_code=500)
    branch.refuse_listing = refused
    with pytest.raises(PromotionOutcomeUnknown) as info:
        promote(branch, clock)
    assert str(info.value) == (
        f"The promotion of {SOURCE} got no answer, and the branch's versions could not be listed to find out "
        f"whether it happened ({refused}). Nothing was promoted again: check the model in Foundry."
    )
    assert info.value.__cause__ is refused


# A copy the failed promotion makes late, after promoting again -------------------------------------------


def appearing_at(branch: Branch, clock: Clock, at: float, copy: dict[str, Any], *, index: int = 0) -> None:
    """Make ``copy`` show up in the branch's listing from fake time ``at`` on, at ``index`` (0: the newest)."""
    listing = branch.listing

    def late_listing() -> list[dict[str, Any]]:
        if clock.now >= at and copy not in branch.versions:
            branch.versions.insert(index, copy)
        return listing()

    branch.listing = late_listing  # type: ignore[method-assign]


def test_a_copy_listed_only_after_the_settling_window_is_returned_as_the_latest_and_ours_named_surplus(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    appearing_at(branch, clock, 114.0, copy_of("late"))
    assert promote(branch, clock).rid == "ri.models.main.model-version.late"
    assert len(branch.answers) == 0  # promoted twice, never a third time
    assert caplog.messages[-1] == (
        f"The promotion of {SOURCE} whose answer failed (no answer) made a copy after all, found after this task "
        "promoted again: the branch holds 2 copies of it. Versions cannot be deleted through Foundry's API. This task "
        "continues with ri.models.main.model-version.late, the branch's latest (the one a deployment of the branch "
        "serves); surplus: ri.models.main.model-version.second. Archive or ignore it in Foundry."
    )


def test_several_surplus_copies_are_all_named_and_the_newest_by_created_time_returned(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours = {**copy_of("second"), "createdTime": "2026-01-01T00:00:02Z"}
    branch = Branch(clock, (LOST, None), (None, ours))
    appearing_at(branch, clock, 114.0, {**copy_of("late-a"), "createdTime": "2026-01-01T00:00:03Z"})
    appearing_at(branch, clock, 114.0, {**copy_of("late-b"), "createdTime": "2026-01-01T00:00:01Z"})
    assert promote(branch, clock).rid == "ri.models.main.model-version.late-a"
    assert "the branch holds 3 copies of it" in caplog.messages[-1]
    assert (
        "surplus: ri.models.main.model-version.late-b, ri.models.main.model-version.second. Archive"
        in caplog.messages[-1]
    )


def test_a_copy_adopted_after_promoting_again_is_watched_for_a_late_copy_too(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, None), (LOST, copy_of("second")))
    appearing_at(branch, clock, 114.0, copy_of("late"))
    assert promote(branch, clock).rid == "ri.models.main.model-version.late"
    assert "surplus: ri.models.main.model-version.second." in caplog.messages[-1]


def test_a_late_copy_listed_below_ours_is_named_surplus_and_ours_returned(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    appearing_at(branch, clock, 114.0, copy_of("late"), index=1)
    assert promote(branch, clock).rid == "ri.models.main.model-version.second"
    assert "continues with ri.models.main.model-version.second" in caplog.messages[-1]
    assert "surplus: ri.models.main.model-version.late." in caplog.messages[-1]


def test_the_copy_returned_is_the_newest_by_created_time_whatever_the_listing_order(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours = {**copy_of("second"), "createdTime": "2026-12-05T10:00:20Z"}
    branch = Branch(clock, (LOST, None), (None, ours))
    appearing_at(branch, clock, 114.0, {**copy_of("late"), "createdTime": "2026-12-05T10:00:10Z"})
    assert promote(branch, clock).rid == "ri.models.main.model-version.second"
    assert "continues with ri.models.main.model-version.second" in caplog.messages[-1]
    assert "surplus: ri.models.main.model-version.late." in caplog.messages[-1]


def test_without_a_late_copy_the_branch_is_watched_for_the_settling_time_after_it_shows_ours(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    assert promote(branch, clock).rid == "ri.models.main.model-version.second"
    watch = branch.listings[branch.listed_before_promotion[1] :]
    assert watch[-1] - watch[0] == 10.0


def test_a_listing_that_fails_while_watching_for_a_late_copy_is_logged_and_ours_kept(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    refused = FoundryServerError(method="GET", path="/versions", status_code=500)
    listing = branch.listing

    def failing_after_the_second_promotion() -> list[dict[str, Any]]:
        if len(branch.listed_before_promotion) > 1:
            raise refused
        return listing()

    branch.listing = failing_after_the_second_promotion  # type: ignore[method-assign]
    assert promote(branch, clock).rid == "ri.models.main.model-version.second"
    assert "could not be listed to look for that copy" in caplog.messages[-1]


# A copy whose answer names no model version RID ------------------------------------------------------------


def test_an_answer_whose_rid_is_not_a_model_version_rid_is_reconciled_and_the_listed_copy_adopted(
    clock: Clock,
) -> None:
    listed = copy_of("made")
    versions: list[dict[str, Any]] = []
    promotions: list[float] = []

    def promote_answering_a_path() -> dict[str, Any]:
        promotions.append(clock.now)
        versions.insert(0, listed)
        return {**listed, "rid": "../../.."}

    copy = promote_once(
        read(promote_answering_a_path), read_listing(lambda: versions), SOURCE, sleep=clock.sleep, settle=10.0
    )
    assert copy == ModelVersion.from_json(listed)
    assert len(promotions) == 1


@pytest.mark.parametrize(
    ("rid", "shown"),
    [
        (None, "nothing"),
        ("../../..", "../../.."),
        ("ri.foundry.main.build.b", "ri.foundry.main.build.b"),
        ("ri.models.main.model-version." + "v" * 100_000, "ri.models.main.model-version." + "v" * 71 + "..."),
    ],
    ids=["missing", "path", "build-rid", "100-kb"],
)
def test_a_copy_without_a_model_version_rid_is_refused_quoted_short_and_never_promoted_again(
    clock: Clock, rid: str | None, shown: str
) -> None:
    bad = {**copy_of("x"), "rid": rid}
    branch = Branch(clock, (None, bad))
    with pytest.raises(FoundryAnswerError) as info:
        promote(branch, clock)
    assert str(info.value) == (
        f"Foundry's answer to promoteVersion of {SOURCE} holds {shown} as rid, which is not a model version RID "
        "(ri.models.<instance>.model-version.<locator>), so it is neither used nor announced. A proxy or a server "
        "that is not Foundry may have answered: check the connection's host, and the result in Foundry."
    )


def promoted_again_then(branch: Branch, listing: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """From the second promotion on, the branch lists what ``listing`` makes of its versions."""
    real = branch.listing

    def after_the_second_promotion() -> list[dict[str, Any]]:
        versions = real()
        return listing(versions) if len(branch.listed_before_promotion) >= 2 else versions

    branch.listing = after_the_second_promotion  # type: ignore[method-assign]


def test_a_listing_that_lags_behind_ours_is_watched_for_twice_the_window_once_a_second(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    promoted_again_then(branch, lambda versions: [v for v in versions if not v["rid"].endswith(".second")])
    assert promote(branch, clock, settle=3.0).rid == "ri.models.main.model-version.second"
    after = clock.slept[3:]
    assert after == [1.0] * 6


def test_a_late_copy_seen_while_ours_is_not_listed_yet_is_named_at_the_end_of_the_watch(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, None), (None, {**copy_of("second"), "createdTime": "2026-01-01T00:00:01Z"}))
    late = {**copy_of("late"), "createdTime": "2026-01-01T00:00:02Z"}
    promoted_again_then(branch, lambda versions: [late, *(v for v in versions if not v["rid"].endswith(".second"))])
    assert promote(branch, clock, settle=3.0).rid == "ri.models.main.model-version.late"
    assert sum(clock.slept[3:]) == 6.0
    assert "surplus: ri.models.main.model-version.second." in caplog.messages[-1]


def test_a_branch_that_cannot_be_listed_after_promoting_again_keeps_ours_and_says_what_to_check(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    refused = FoundryTransportError("listing refused", method="GET", path="/versions", may_have_reached_server=False)

    def refuse(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise refused

    promoted_again_then(branch, refuse)
    assert promote(branch, clock).rid == "ri.models.main.model-version.second"
    assert caplog.messages[-1] == (
        f"Promoted {SOURCE} as version ri.models.main.model-version.second after a promotion that may have made a "
        "copy, but the branch's versions could not be listed to look for that copy (listing refused). Check the "
        f"model's versions in Foundry: a second copy of {SOURCE} there was made by the failed promotion."
    )


def test_the_copies_named_in_a_message_are_redacted_and_cut_short(clock: Clock) -> None:
    secret = "s3cret-token-value"
    branch = Branch(clock, (LOST, None))
    long_rid = "ri.models.main.model-version." + "v" * 150
    branch.meanwhile = [copy_of(f"has-{secret}"), {**copy_of("x"), "rid": long_rid}]
    with pytest.raises(PromotionOutcomeUnknown) as info:
        promote_once(
            read(branch.promote), read_listing(branch.listing), SOURCE, sleep=clock.sleep, settle=1.0, secrets=[secret]
        )
    message = str(info.value)
    assert secret not in message
    assert "ri.models.main.model-version.has-***" in message
    assert long_rid[:100] + "..." in message
    assert long_rid[:101] not in message


def test_a_copy_whose_rid_echoes_a_secret_is_refused_redacted(clock: Clock) -> None:
    secret = "s3cret-token-value"
    branch = Branch(clock, (None, {**copy_of("x"), "rid": f"not a rid {secret}"}))
    with pytest.raises(FoundryAnswerError) as info:
        promote_once(read(branch.promote), read_listing(branch.listing), SOURCE, sleep=clock.sleep, secrets=[secret])
    assert secret not in str(info.value)
    assert "not a rid ***" in str(info.value)


def test_the_last_wait_of_the_late_copy_watch_is_cut_to_what_is_left(clock: Clock) -> None:
    branch = Branch(clock, (LOST, None), (None, copy_of("second")))
    promoted_again_then(branch, lambda versions: [v for v in versions if not v["rid"].endswith(".second")])
    promote(branch, clock, settle=2.25)
    assert clock.slept[3:] == [1.0, 1.0, 1.0, 1.0, 0.5]


def test_surplus_copies_are_named_redacted_and_cut_short(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    secret = "s3cret-token-value"
    branch = Branch(clock, (LOST, None), (None, {**copy_of("second"), "createdTime": "2026-01-01T00:00:09Z"}))
    long_rid = "ri.models.main.model-version." + "w" * 150
    appearing_at(branch, clock, 114.0, {**copy_of(f"late-{secret}"), "createdTime": "2026-01-01T00:00:01Z"})
    appearing_at(branch, clock, 114.0, {**copy_of("x"), "rid": long_rid, "createdTime": "2026-01-01T00:00:02Z"})
    promote_once(
        read(branch.promote), read_listing(branch.listing), SOURCE, sleep=clock.sleep, settle=10.0, secrets=[secret]
    )
    message = caplog.messages[-1]
    assert secret not in message
    assert "ri.models.main.model-version.late-***" in message
    assert long_rid[:100] + "..." in message
    assert long_rid[:101] not in message
