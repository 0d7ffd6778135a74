"""A watcher that cannot check its branch says so: errors at once, passing failures from the third, reminders
every ten minutes, and the recovery."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.datasets.health import REMINDER_SECONDS, WatchHealth
from airflow_provider_modelstudio.foundry.errors import FoundryNotFound, FoundryServerError, FoundryTransportError
from airflow_provider_modelstudio.runs.errors import PollingFailedError


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _add(self, level: str, message: str, *args: Any) -> None:
        self.lines.append((level, message % args))

    def error(self, message: str, *args: Any) -> None:
        self._add("error", message, *args)

    def warning(self, message: str, *args: Any) -> None:
        self._add("warning", message, *args)

    def info(self, message: str, *args: Any) -> None:
        self._add("info", message, *args)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gone(instance: str = "a") -> FoundryNotFound:
    return FoundryNotFound(
        method="GET", path="/branches/master", status_code=404, error_name="BranchNotFound", error_instance_id=instance
    )


def busy() -> FoundryServerError:
    return FoundryServerError(method="GET", path="/branches/master", status_code=503)


def health() -> tuple[WatchHealth, Log, Clock]:
    log, clock = Log(), Clock()
    return WatchHealth("dataset d branch 'master'", 30.0, log, clock), log, clock


def test_a_lasting_failure_is_an_error_at_once_then_a_reminder_every_ten_minutes() -> None:
    watch, log, clock = health()
    watch.failed(gone("a"))
    watch.failed(gone("b"))  # another instance of the same error: no new line
    clock.now += REMINDER_SECONDS - 1
    watch.failed(gone("c"))
    clock.now += 1
    watch.failed(gone("d"))
    assert [level for level, _ in log.lines] == ["error", "error"]
    assert log.lines[0][1].startswith("Watching dataset d branch 'master': 1 check(s) in a row failed, the last with: ")
    assert "BranchNotFound" in log.lines[0][1] and log.lines[0][1].endswith("checking again every 30.0 s.")
    assert "4 check(s) in a row failed" in log.lines[1][1]


def test_passing_failures_are_a_warning_from_the_third_and_another_kind_of_failure_is_said_at_once() -> None:
    watch, log, _ = health()
    watch.failed(busy())
    watch.failed(busy())
    assert log.lines == []
    watch.failed(busy())
    watch.failed(gone())
    assert [(level, "3 check(s)" in line or "4 check(s)" in line) for level, line in log.lines] == [
        ("warning", True),
        ("error", True),
    ]


def test_each_other_kind_of_passing_failure_is_said_when_it_changes() -> None:
    watch, log, _ = health()
    for problem in (
        busy(),
        busy(),
        busy(),
        PollingFailedError("no status"),
        FoundryTransportError("reset", method="GET", path="/b", may_have_reached_server=False),
    ):
        watch.failed(problem)
    said = [line.split(", the last with: ")[1] for _, line in log.lines]
    assert len(said) == 3
    assert all(
        line.startswith(begins) for line, begins in zip(said, ("Foundry failed", "no status.", "reset."), strict=True)
    )


def test_the_first_good_check_after_reported_failures_says_so_and_starts_counting_again() -> None:
    watch, log, _ = health()
    watch.answered()
    watch.failed(gone())
    watch.answered()
    watch.answered()
    watch.failed(busy())
    assert [level for level, _ in log.lines] == ["error", "info"]
    assert log.lines[1][1] == "Watching dataset d branch 'master': checks succeed again after 1 failed."
    assert watch.failures == 1
