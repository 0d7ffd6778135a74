"""Creating a configuration version once: a lost answer is looked for among the studio's versions before anything
is sent again, and only a version holding what was asked is adopted."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import config_versions
from airflow_provider_modelstudio.foundry.config_versions import create_once, same_request
from airflow_provider_modelstudio.foundry.errors import (
    ConfigVersionOutcomeUnknown,
    FoundryApiError,
    FoundryBadRequest,
    FoundryServerError,
    FoundryTransportError,
)
from airflow_provider_modelstudio.foundry.shapes import ConfigVersion
from tests.foundry.support import FakeClock

PATH = "/api/v2/models/modelStudios/s/configVersions"
ASKED = {
    "name": "sweep lr=0.05",
    "trainerId": "trainer",
    "changelog": "from Airflow",
    "workerConfig": {"customConfig": {"learning_rate": 0.05}, "inputs": {"d": {"type": "dataset", "rid": "ri.x"}}},
}


def version(number: int, **changes: Any) -> ConfigVersion:
    return ConfigVersion.from_json({**ASKED, "version": number, **changes})


def lost() -> FoundryTransportError:
    return FoundryTransportError(
        "connection lost before the answer", method="POST", path=PATH, may_have_reached_server=True
    )


def answered(kind: type[FoundryApiError], status: int, name: str = "") -> FoundryApiError:
    return kind(method="POST", path=PATH, status_code=status, error_name=name)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(now=0.0)
    monkeypatch.setattr(config_versions, "time", fake)
    return fake


class Studio:
    """A studio whose creations answer as told (an exception, or a version) and whose listing shows ``listed``,
    each creation that went through appearing after ``lag`` seconds."""

    def __init__(self, clock: FakeClock, *outcomes: Any, lag: float = 0.0) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.listed: list[tuple[float, ConfigVersion]] = [(0.0, version(1, name="first"))]
        self.created = 0
        self.lag = lag

    def create(self) -> ConfigVersion:
        outcome = self.outcomes.pop(0)
        made, answer = outcome if isinstance(outcome, tuple) else (True, outcome)
        if made:
            self.created += 1
            self.listed.append((self.clock.now + self.lag, version(len(self.listed) + 1)))
        if isinstance(answer, Exception):
            raise answer
        return self.listed[-1][1]

    def listing(self) -> list[ConfigVersion]:
        return [v for shown_at, v in self.listed if shown_at <= self.clock.now]


def create(studio: Studio, clock: FakeClock) -> ConfigVersion:
    return create_once(studio.create, studio.listing, version(0), sleep=clock.sleep, settle=5.0)


def test_an_answered_creation_is_returned_without_looking_further(clock: FakeClock) -> None:
    studio = Studio(clock, None)
    assert create(studio, clock).version == 2
    assert (studio.created, clock.slept) == (1, [])


def test_a_lost_answer_adopts_the_version_that_appeared_later_instead_of_creating_again(clock: FakeClock) -> None:
    studio = Studio(clock, lost(), lag=2.5)
    assert create(studio, clock).version == 2
    assert studio.created == 1
    assert clock.slept == [1.0, 1.0, 1.0]


def test_a_lost_creation_that_made_nothing_is_sent_once_more_after_the_settling_window(clock: FakeClock) -> None:
    studio = Studio(clock, (False, lost()), None)
    assert create(studio, clock).version == 2
    assert studio.created == 1
    assert sum(clock.slept) == 5.0


def test_two_failures_that_made_nothing_end_without_a_third_request(clock: FakeClock) -> None:
    studio = Studio(clock, (False, lost()), (False, answered(FoundryServerError, 503)))
    with pytest.raises(ConfigVersionOutcomeUnknown) as info:
        create(studio, clock)
    assert str(info.value) == (
        f"Creating a configuration version failed twice ({answered(FoundryServerError, 503)}) and none appeared. "
        "Nothing else was created; retry the task once Foundry answers again."
    )
    assert studio.outcomes == []


def test_a_refusal_is_raised_at_once_without_listing(clock: FakeClock) -> None:
    refused = answered(FoundryBadRequest, 400, "CreateConfigValidationError")
    studio = Studio(clock, (False, refused))
    listings: list[int] = []
    real = studio.listing
    studio.listing = lambda: listings.append(1) or real()  # type: ignore[method-assign]
    with pytest.raises(FoundryBadRequest):
        create(studio, clock)
    assert listings == [1]


def test_several_matching_versions_are_named_and_nothing_is_created_again(clock: FakeClock) -> None:
    studio = Studio(clock, (False, lost()))
    answers = iter([[version(1, name="first")], [version(1, name="first"), version(7), version(8)]])
    with pytest.raises(ConfigVersionOutcomeUnknown) as info:
        create_once(studio.create, lambda: next(answers), version(0), sleep=clock.sleep, settle=5.0)
    assert str(info.value) == (
        "Creating a configuration version got no answer (connection lost before the answer) and 2 matching versions "
        "appeared meanwhile (7, 8); someone else created the same configuration. Nothing was created again: check "
        "the studio's versions in Foundry."
    )
    assert studio.outcomes == []


def test_a_listing_that_fails_after_a_lost_answer_is_an_unknown_outcome(clock: FakeClock) -> None:
    studio = Studio(clock, lost())
    answers: list[Any] = [[version(1, name="first")], answered(FoundryServerError, 500)]

    def listing() -> list[ConfigVersion]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    with pytest.raises(ConfigVersionOutcomeUnknown) as info:
        create_once(studio.create, listing, version(0), sleep=clock.sleep, settle=5.0)
    assert str(info.value) == (
        "Creating a configuration version got no answer (connection lost before the answer), and the studio's "
        f"versions could not be listed to find out whether it was made ({answered(FoundryServerError, 500)}). "
        "Nothing was created again: check the studio in Foundry."
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "other"},
        {"trainerId": "other"},
        {"changelog": "other"},
        {"workerConfig": {**ASKED["workerConfig"], "customConfig": {"learning_rate": 0.5}}},
        {"workerConfig": {**ASKED["workerConfig"], "inputs": {"d": {"type": "dataset", "rid": "ri.y"}}}},
    ],
    ids=["name", "trainer", "changelog", "custom config", "inputs"],
)
def test_a_version_differing_in_anything_asked_is_not_ours(changes: dict[str, Any]) -> None:
    assert same_request(version(2), version(0))
    assert not same_request(version(2, **changes), version(0))


def test_what_it_did_is_logged_in_whole(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING")
    create(Studio(clock, (False, lost()), None), clock)
    create(Studio(clock, lost(), lag=1.5), clock)
    assert caplog.messages == [
        "Creating the configuration version failed (connection lost before the answer) and made none; creating it "
        "again.",
        "Creating the configuration version got no usable answer (connection lost before the answer), but Foundry "
        "made version 2: adopting it.",
    ]
