"""Runs and builds created by launches, and their JSON as served at a given moment.

A build's status is computed from the emulator time when it is read (nothing ticks in the background):
it is ``running_status`` (normally RUNNING) until it ends, then its outcome, or CANCELED when a cancel
took effect first. The JSON follows ``foundry_sdk``'s ``Build``, ``Job`` and ``ModelStudioRun``. Not
thread-safe by itself: the state's lock guards it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from airflow_provider_modelstudio.emulator.clock import iso

RUNNING = "RUNNING"
CANCELED = "CANCELED"
FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", CANCELED})
NEVER = math.inf


@dataclass
class BuildRecord:
    """One build (with its single job).

    :param rid: the build RID.
    :param job_rid: the RID of its one job.
    :param studio_rid: the studio whose run it belongs to.
    :param created_at: emulator time of the launch.
    :param created_by: the launching user's id.
    :param outcome: the final status it reaches at ``ends_at`` unless cancelled first.
    :param ends_at: emulator time it ends by itself (``NEVER``: runs until cancelled or forced).
    :param running_status: what it reports before it ends (RUNNING, or any string a test forced).
    :param cancel_at: emulator time a requested cancel takes effect, if one was requested.
    """

    rid: str
    job_rid: str
    studio_rid: str
    created_at: float
    created_by: str
    outcome: str
    ends_at: float
    running_status: str = RUNNING
    cancel_at: float | None = None

    def final(self) -> tuple[str, float]:
        """The final status and the emulator time it is (or will be) reached."""
        if self.cancel_at is not None and self.cancel_at < self.ends_at:
            return CANCELED, self.cancel_at
        return self.outcome, self.ends_at

    def status_at(self, now: float) -> tuple[str, float | None]:
        """Status and finish time (None while not finished) at emulator time ``now``.

        :param now: emulator time.
        """
        status, finished_at = self.final()
        if now >= finished_at:
            return status, finished_at
        return self.running_status, None

    def force(self, status: str, now: float) -> None:
        """Make the build report ``status`` from now on.

        A final status finishes it now; any other string keeps it unfinished (until cancelled).

        :param status: the status to report.
        :param now: emulator time.
        """
        self.cancel_at = None
        if status in FINAL_STATUSES:
            self.outcome, self.ends_at, self.running_status = status, now, RUNNING
        else:
            self.ends_at, self.running_status = NEVER, status

    def to_json(self, now: float) -> dict[str, Any]:
        """The ``Build`` JSON at emulator time ``now``.

        :param now: emulator time.
        """
        status, finished_at = self.status_at(now)
        build: dict[str, Any] = {
            "rid": self.rid,
            "branchName": "master",
            "createdTime": iso(self.created_at),
            "createdBy": self.created_by,
            "fallbackBranches": [],
            "jobRids": [self.job_rid],
            "retryCount": 0,
            "retryBackoffDuration": {"value": 1, "unit": "SECONDS"},
            "abortOnFailure": False,
            "status": status,
        }
        if finished_at is not None:
            build["finishedTime"] = iso(finished_at)
        return build


@dataclass(frozen=True)
class RunOutput:
    """One resolved model output of a run.

    :param alias: the output alias.
    :param model_rid: the model.
    :param model_version_rid: the model version the run made.
    """

    alias: str
    model_rid: str
    model_version_rid: str


@dataclass(frozen=True)
class RunRecord:
    """One Model Studio run.

    :param run_id: 12 hex characters.
    :param studio_rid: the studio.
    :param config_version: the config version it used.
    :param build: its build.
    :param outputs: its resolved outputs.
    :param omit_resolved_outputs: leave ``resolvedOutputs`` out of its JSON.
    :param omit_build_status: leave ``buildStatus`` out of its JSON.
    """

    run_id: str
    studio_rid: str
    config_version: int
    build: BuildRecord
    outputs: tuple[RunOutput, ...]
    omit_resolved_outputs: bool = False
    omit_build_status: bool = False

    def to_json(self, now: float) -> dict[str, Any]:
        """The ``ModelStudioRun`` JSON at emulator time ``now``.

        :param now: emulator time.
        """
        run: dict[str, Any] = {
            "runId": self.run_id,
            "buildRid": self.build.rid,
            "jobRid": self.build.job_rid,
            "configVersion": self.config_version,
            "startedBy": self.build.created_by,
            "startedTime": iso(self.build.created_at),
        }
        if not self.omit_build_status:
            run["buildStatus"] = self.build.status_at(now)[0]
        if not self.omit_resolved_outputs:
            run["resolvedOutputs"] = {
                output.alias: {
                    "type": "model",
                    "modelRid": output.model_rid,
                    "modelVersionRid": output.model_version_rid,
                }
                for output in self.outputs
            }
        return run
