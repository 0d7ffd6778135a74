"""The quality gate: judge a candidate model version's metrics by the checks of :mod:`.gate_arguments`.

The metrics come from the experiment linked from each version, following promoted copies back
(:mod:`.lineage`); the champion is the version a live deployment serves today, or the newest version on a
branch. When there is no champion yet (the deployment serves nothing, the branch is empty) every comparison
passes with a note saying so: a first deployment has nothing to beat. A missing experiment or metric, for
the candidate or the champion, is an error, never a pass. The outcome is a table (one row per threshold
and per comparison) as fixed-width text and as JSON rows.

This module judges and reports; it does not decide what Airflow does with a failed gate (the operator
fails or skips), and it promotes and deploys nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_modelstudio.deploys.gate_arguments import ChampionSpec, GateSpec, number_text
from airflow_provider_modelstudio.deploys.lineage import (
    Lineage,
    VersionReader,
    VersionRef,
    find_experiment,
    latest_version,
)
from airflow_provider_modelstudio.deploys.metrics import Metric, metric_value, summary_metrics
from airflow_provider_modelstudio.foundry.answers import quoted

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.shapes import Experiment, LiveDeployment, ModelVersion

GATE_XCOM_KEY = "gate"
"""XCom key of the gate's table rows."""
VERSION_XCOM_KEYS = ("model_rid", "model_version_rid")
"""Keys of the gated version pushed to XCom on their own, as the launch pushes them (``gate.output[key]``)."""
GATE_VERDICT_XCOM_KEY = "gate_verdict"
"""XCom key of the gate's verdict without its rows (:meth:`GateResult.verdict`), pushed when it passes or fails."""


class ModelReader(VersionReader, Protocol):
    """What the gate reads from Foundry (``ModelStudioHook`` has it)."""

    def get_experiment(self, model_rid: str, experiment_rid: str) -> Experiment: ...

    def get_live_deployment(self, live_deployment_rid: str) -> LiveDeployment: ...

    def list_model_versions(self, model_rid: str, branch: str | None = None) -> Sequence[ModelVersion]: ...


@dataclass(frozen=True)
class Evidence:
    """A version's metrics and where they came from."""

    role: str
    version: VersionRef
    lineage: Lineage
    experiment_status: str | None
    metrics: dict[Metric, Any]

    @property
    def whose(self) -> str:
        status = self.experiment_status
        running = f", which is {status}" if status and status != "SUCCEEDED" else ""
        return f"{self.role} {self.version} ({self.lineage.describe()}{running})"

    def value(self, metric: Metric) -> float | None:
        """The metric's finite value; None when it has another value (see :meth:`unusable`)."""
        return metric_value(self.metrics, metric, whose=self.whose)

    def unusable(self, metric: Metric) -> str:
        """The note for a metric whose value is not a finite number."""
        value = self.metrics.get(metric)
        shown = f"the text {quoted(value, limit=60)!r}" if isinstance(value, str) else quoted(value, limit=60)
        return f"the {self.role}'s {metric} is {shown}, not a finite number"


@dataclass(frozen=True)
class Champion:
    """The champion found for a :class:`ChampionSpec`: its evidence, or None with a note when there is none."""

    spec: ChampionSpec
    evidence: Evidence | None
    note: str = ""


@dataclass(frozen=True)
class Row:
    """One line of the gate's table: one threshold, or one comparison with the champion."""

    metric: str
    check: str
    candidate: float | None
    champion: float | None
    threshold: str
    passed: bool
    note: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "metric": self.metric,
            "check": self.check,
            "candidate": self.candidate,
            "champion": self.champion,
            "threshold": self.threshold,
            "verdict": self.verdict,
            "note": self.note,
        }


def evaluate(spec: GateSpec, candidate: Evidence, champion: Champion | None) -> tuple[Row, ...]:
    """The table's rows: thresholds first, then comparisons, in the order given.

    :raises MissingMetricError: the candidate, or an existing champion, lacks a checked metric
    """
    rows = []
    for threshold in spec.thresholds:
        metric, value = str(threshold.metric), candidate.value(threshold.metric)
        if value is None:
            rows.append(
                Row(metric, "threshold", None, None, threshold.requirement, False, candidate.unusable(threshold.metric))
            )
            continue
        rows.append(Row(metric, "threshold", value, None, threshold.requirement, threshold.passes(value)))
    for comparison in spec.comparisons:
        metric, value = str(comparison.metric), candidate.value(comparison.metric)
        if champion is None or champion.evidence is None:
            note = champion.note if champion is not None else "no champion"
            passed = value is not None
            note = note if passed else f"{candidate.unusable(comparison.metric)}; {note}"
            rows.append(Row(metric, "champion", value, None, comparison.requirement, passed, note))
            continue
        best = champion.evidence.value(comparison.metric)
        if value is None or best is None:
            unusable = [
                e.unusable(comparison.metric) for e, v in ((candidate, value), (champion.evidence, best)) if v is None
            ]
            rows.append(Row(metric, "champion", value, best, comparison.requirement, False, "; ".join(unusable)))
            continue
        same = champion.evidence.lineage.experiment_rid == candidate.lineage.experiment_rid
        note = "the champion is this same model (same experiment)" if same else ""
        rows.append(Row(metric, "champion", value, best, comparison.requirement, comparison.passes(value, best), note))
    return tuple(rows)


def read_evidence(reader: ModelReader, version: VersionRef, role: str) -> Evidence:
    """A version's experiment metrics, following promoted copies back to the version that links them."""
    lineage = find_experiment(reader, version)
    experiment = reader.get_experiment(lineage.holder.model_rid, lineage.experiment_rid)
    return Evidence(role, version, lineage, experiment.status, summary_metrics(experiment))


def find_champion(reader: ModelReader, spec: ChampionSpec) -> Champion:
    """The version the champion spec points at today, with its metrics; a note instead when there is none."""
    if spec.live_deployment_rid:
        served = reader.get_live_deployment(spec.live_deployment_rid)
        model, version = served.model_rid, served.version_rid
        if model is None or version is None:
            return Champion(spec, None, f"no champion: {spec.describe()} serves no model version yet")
        return Champion(spec, read_evidence(reader, VersionRef(model, version), "champion"))
    assert spec.model_rid is not None
    newest = latest_version(reader.list_model_versions(spec.model_rid, spec.branch))
    rid = newest.rid if newest is not None else None
    if rid is None:
        return Champion(spec, None, f"no champion: {spec.describe()} has no version yet")
    return Champion(spec, read_evidence(reader, VersionRef(spec.model_rid, rid), "champion"))


@dataclass(frozen=True)
class GateResult:
    """What the gate read and decided."""

    candidate: Evidence
    champion: Champion | None
    rows: tuple[Row, ...]

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    def table(self) -> str:
        """The rows as fixed-width text, with a header."""
        header = ("METRIC", "CANDIDATE", "CHAMPION", "THRESHOLD", "VERDICT", "NOTE")
        cells = [header] + [
            (
                row.metric,
                "-" if row.candidate is None else number_text(row.candidate),
                "-" if row.champion is None else number_text(row.champion),
                row.threshold,
                row.verdict,
                row.note,
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in cells
        )

    def summary(self) -> str:
        """One sentence on the outcome (and one per experiment that has not SUCCEEDED), then the table."""
        failed = [row for row in self.rows if not row.passed]
        if not failed:
            head = f"The gate passed {self.candidate.version}: {_checks(len(self.rows))} passed."
        else:
            which = ", ".join(f"{row.metric} {row.threshold}" for row in failed)
            counts = f"{len(failed)} of {_checks(len(self.rows))}"
            head = f"The gate stopped {self.candidate.version}: {counts} failed ({which})."
        read = [self.candidate] + ([self.champion.evidence] if self.champion and self.champion.evidence else [])
        for evidence in read:
            if evidence.experiment_status not in (None, "SUCCEEDED"):
                head += (
                    f" The {evidence.role}'s experiment {evidence.lineage.experiment_rid} is "
                    f"{evidence.experiment_status}: its metrics may not be final."
                )
        return f"{head}\n{self.table()}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the verdict, the candidate (usable as another task's ``candidate``), the champion and the rows."""
        champion: dict[str, Any] | None = None
        if self.champion is not None:
            found = self.champion.evidence
            champion = {
                "source": self.champion.spec.describe(),
                "model_rid": found.version.model_rid if found else None,
                "model_version_rid": found.version.model_version_rid if found else None,
                "experiment_rid": found.lineage.experiment_rid if found else None,
                "note": self.champion.note,
            }
        return {
            "passed": self.passed,
            "model_rid": self.candidate.version.model_rid,
            "model_version_rid": self.candidate.version.model_version_rid,
            "experiment_rid": self.candidate.lineage.experiment_rid,
            "experiment_status": self.candidate.experiment_status,
            "champion": champion,
            "rows": [row.as_dict() for row in self.rows],
        }

    def verdict(self, foundry_conn_id: str, model_name: str | None) -> dict[str, Any]:
        """JSON-safe, for the Model releases page: :meth:`as_dict` without the rows, with the candidate model's
        name, the champion's live deployment (None when the champion is a branch) and the gate's connection.

        :param foundry_conn_id: the gate's connection id
        :param model_name: the candidate model's name in Foundry, None when unknown
        """
        verdict = {key: value for key, value in self.as_dict().items() if key != "rows"}
        spec = self.champion.spec if self.champion is not None else None
        verdict["model_name"] = model_name
        verdict["champion_live_deployment_rid"] = spec.live_deployment_rid if spec is not None else None
        verdict["foundry_conn_id"] = foundry_conn_id
        return verdict


def _checks(count: int) -> str:
    return f"{count} check" if count == 1 else f"{count} checks"


def run_gate(reader: ModelReader, candidate: VersionRef, spec: GateSpec) -> GateResult:
    """Read the candidate's and the champion's metrics and judge them (a failed gate is a result, not an error).

    :raises MissingExperimentError: a version has no experiment to read metrics from
    :raises MissingMetricError: an experiment lacks a checked metric
    """
    return judge(reader, read_evidence(reader, candidate, "candidate"), spec)


def judge(reader: ModelReader, candidate: Evidence, spec: GateSpec) -> GateResult:
    """Judge a candidate whose metrics were read: find the champion, check the thresholds and comparisons.

    :raises MissingExperimentError: the champion has no experiment to read metrics from
    :raises MissingMetricError: an experiment lacks a checked metric
    """
    champion = find_champion(reader, spec.champion) if spec.champion is not None else None
    return GateResult(candidate, champion, evaluate(spec, candidate, champion))
