"""The quality gate: a candidate model version's metrics against thresholds and, optionally, a champion.

Specs, as the operator takes them (checked when the DAG is parsed, except templated entries):

- ``thresholds``: metric -> comparison, e.g. ``{"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"}``; the
  operators are ``>=``, ``>``, ``<=``, ``<``, ``==``.
- ``compare``: metric -> ``"higher"`` or ``"lower"`` (which way is better), optionally ``"higher by 0.01"``;
  entries without ``by`` take the gate's ``margin`` (default 0). The candidate passes when it beats the
  champion by at least the margin: ``higher`` means candidate >= champion + margin, ``lower`` means
  candidate <= champion - margin. A margin of 0 lets a candidate that matches the champion pass; a negative
  margin tolerates a candidate that much worse.
- the champion: the version a live deployment serves today, or the newest version on a branch of a model.
  When there is none yet (the deployment serves nothing, the branch is empty) every ``compare`` row passes
  with a note saying so: a first deployment has nothing to beat.

Boundaries are compared with a relative tolerance of 1e-9, so that ``0.1 + 0.2`` meets ``>= 0.3``.
Metrics come from the experiment linked from each version, following promoted copies back (:mod:`.lineage`).
A missing experiment or metric, for the candidate or the champion, is an error, never a pass.

This module judges and reports; it does not decide what Airflow does with a failed gate (the operator
fails or skips) and it promotes and deploys nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_modelstudio.deploys.lineage import (
    Lineage,
    VersionReader,
    VersionRef,
    find_experiment,
    latest_version,
)
from airflow_provider_modelstudio.deploys.metrics import Metric, metric_value, parse_metric, summary_metrics
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import LIVE_DEPLOYMENT, MODEL, MODEL_VERSION, validate_rid

THRESHOLDS_EXAMPLE = """thresholds={"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"}"""
COMPARE_EXAMPLE = """compare={"val_auc": "higher", "val_loss:MIN": "lower by 0.01"}"""
ON_FAILURE = ("fail", "skip")
GATE_XCOM_KEY = "gate"
"""XCom key of the gate's table rows."""

_COMPARISON = re.compile(r"^\s*(>=|<=|==|>|<)\s*(\S+)\s*$")
_DIRECTION = re.compile(r"^\s*(higher|lower)(?:\s+by\s+(\S+))?\s*$", re.IGNORECASE)
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


class ModelReader(VersionReader, Protocol):
    """What the gate reads from Foundry (``ModelStudioHook`` has it)."""

    def get_experiment(self, model_rid: str, experiment_rid: str) -> dict[str, Any]: ...

    def get_live_deployment(self, live_deployment_rid: str) -> dict[str, Any]: ...

    def list_model_versions(self, model_rid: str, branch: str | None = None) -> list[dict[str, Any]]: ...


def _number(value: float) -> str:
    return format(value, ".10g")


def _at_least(value: float, bound: float) -> bool:
    return value >= bound or math.isclose(value, bound, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _finite(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# Specs ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """``metric <operator> bound``."""

    metric: Metric
    operator: str
    bound: float

    @property
    def requirement(self) -> str:
        return f"{self.operator} {_number(self.bound)}"

    def passes(self, value: float) -> bool:
        close = math.isclose(value, self.bound, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
        return {
            ">=": _at_least(value, self.bound),
            "<=": _at_least(self.bound, value),
            ">": value > self.bound and not close,
            "<": value < self.bound and not close,
            "==": close,
        }[self.operator]


@dataclass(frozen=True)
class Comparison:
    """The candidate's ``metric`` must beat the champion's by ``margin`` in ``direction``."""

    metric: Metric
    direction: str
    margin: float

    @property
    def requirement(self) -> str:
        operator, sign = (">=", 1.0) if self.direction == "higher" else ("<=", -1.0)
        shift = sign * self.margin
        offset = f" {'+' if shift > 0 else '-'} {_number(abs(shift))}" if shift else ""
        return f"{operator} champion{offset}"

    def passes(self, candidate: float, champion: float) -> bool:
        gain = candidate - champion if self.direction == "higher" else champion - candidate
        return _at_least(gain, self.margin)


@dataclass(frozen=True)
class ChampionSpec:
    """Where the champion is: a live deployment's served version, or the newest version on a model's branch."""

    live_deployment_rid: str | None = None
    model_rid: str | None = None
    branch: str | None = None

    def describe(self) -> str:
        if self.live_deployment_rid:
            return f"live deployment {self.live_deployment_rid}"
        return f"branch {self.branch!r} of model {self.model_rid}"


@dataclass(frozen=True)
class GateSpec:
    """Everything the gate checks."""

    thresholds: tuple[Threshold, ...]
    comparisons: tuple[Comparison, ...]
    champion: ChampionSpec | None


def _entries(field: str, value: Any, example: str, *, rendered: bool) -> dict[Any, Any] | None:
    """A spec argument as a dict; None while it is an unrendered template. A rendered string must be JSON."""
    if value is None:
        return {}
    if isinstance(value, str) and not rendered and _is_template(value):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise FoundryConfigError(
                f"{field} rendered to a string that is not a JSON object. Render it as JSON (the `tojson` filter) "
                f"or pass a dict, e.g. {example}."
            )
    if not isinstance(value, Mapping):
        raise FoundryConfigError(f"{field}={value!r:.200} must be a dict of metric -> check, e.g. {example}.")
    return dict(value)


def parse_thresholds(value: Any, *, rendered: bool) -> tuple[Threshold, ...] | None:
    """The thresholds of ``value``. Before rendering, the literal entries are checked and None is returned when
    any entry (or the whole argument) is a template."""
    entries = _entries("thresholds", value, THRESHOLDS_EXAMPLE, rendered=rendered)
    if entries is None:
        return None
    found, pending = [], False
    for key, spec in entries.items():
        metric = parse_metric(key, field="thresholds", example=THRESHOLDS_EXAMPLE)
        if not rendered and _is_template(spec):
            pending = True
            continue
        match = _COMPARISON.match(spec) if isinstance(spec, str) else None
        bound = _finite(match.group(2)) if match else None
        if match is None or bound is None:
            raise FoundryConfigError(
                f"thresholds[{key!r}]={spec!r} is not a comparison: write an operator (>=, >, <=, <, ==) and a "
                f"finite number, e.g. {THRESHOLDS_EXAMPLE}."
            )
        found.append(Threshold(metric, match.group(1), bound))
    return None if pending else tuple(found)


def check_margin(value: Any) -> float:
    """The default margin of ``compare`` entries: a finite number (negative tolerates a worse candidate)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FoundryConfigError(
            f"margin={value!r} must be a finite number, the least the candidate must beat the champion by, "
            "e.g. margin=0.01 (0 lets a candidate that matches the champion pass)."
        )
    return float(value)


def parse_comparisons(value: Any, margin: float, *, rendered: bool) -> tuple[Comparison, ...] | None:
    """The comparisons of ``value``, entries without ``by`` taking ``margin``. Before rendering, the literal
    entries are checked and None is returned when any entry (or the whole argument) is a template."""
    entries = _entries("compare", value, COMPARE_EXAMPLE, rendered=rendered)
    if entries is None:
        return None
    found, pending = [], False
    for key, spec in entries.items():
        metric = parse_metric(key, field="compare", example=COMPARE_EXAMPLE)
        if not rendered and _is_template(spec):
            pending = True
            continue
        match = _DIRECTION.match(spec) if isinstance(spec, str) else None
        own_margin = match.group(2) if match else None
        entry_margin = margin if own_margin is None else _finite(own_margin)
        if match is None or entry_margin is None:
            raise FoundryConfigError(
                f"compare[{key!r}]={spec!r} must say which way is better, 'higher' or 'lower', optionally with "
                f"a margin ('higher by 0.01'), e.g. {COMPARE_EXAMPLE}."
            )
        found.append(Comparison(metric, match.group(1).lower(), entry_margin))
    return None if pending else tuple(found)


def champion_spec(live_deployment_rid: Any, model_rid: Any, branch: Any, *, rendered: bool) -> ChampionSpec | None:
    """Where the champion is, from the operator's ``champion_*`` arguments; None when none was given."""
    if live_deployment_rid is None and model_rid is None and branch is None:
        return None
    if live_deployment_rid is not None and (model_rid is not None or branch is not None):
        raise FoundryConfigError(
            f"champion_live_deployment_rid={live_deployment_rid!r} and champion_model_rid={model_rid!r} / "
            f"champion_branch={branch!r} name two champions: pass either the live deployment whose served version "
            "is the champion, or a model and branch whose newest version is."
        )
    if live_deployment_rid is not None:
        if rendered or not _is_template(live_deployment_rid):
            validate_rid(live_deployment_rid, LIVE_DEPLOYMENT, field="champion_live_deployment_rid")
        return ChampionSpec(live_deployment_rid=live_deployment_rid.strip())
    if model_rid is None or not isinstance(branch, str) or not branch.strip():
        raise FoundryConfigError(
            f"champion_model_rid={model_rid!r} and champion_branch={branch!r}: a branch champion needs both, e.g. "
            "champion_model_rid='ri.models.main.model.1a2b...', champion_branch='master'."
        )
    if rendered or not _is_template(model_rid):
        validate_rid(model_rid, MODEL, field="champion_model_rid")
    return ChampionSpec(model_rid=model_rid.strip(), branch=branch.strip())


def gate_spec(
    *,
    thresholds: Any,
    compare: Any,
    margin: float,
    champion_live_deployment_rid: Any = None,
    champion_model_rid: Any = None,
    champion_branch: Any = None,
    rendered: bool,
) -> GateSpec:
    """The gate's checks from the operator's arguments, refused with the entry, the value and an example when
    malformed. Before rendering it is only a check: templated entries make their argument's checks empty.

    :param rendered: the arguments went through Jinja (execute time); before that templates are not checked
    """
    found_thresholds = parse_thresholds(thresholds, rendered=rendered)
    comparisons = parse_comparisons(compare, check_margin(margin), rendered=rendered)
    champion = champion_spec(champion_live_deployment_rid, champion_model_rid, champion_branch, rendered=rendered)
    if champion is None and comparisons != ():
        raise FoundryConfigError(
            f"compare={compare!r:.200} needs a champion to compare with: pass champion_live_deployment_rid=... (the "
            "version a deployment serves) or champion_model_rid=... and champion_branch=... (the newest version there)."
        )
    if champion is not None and comparisons == ():
        raise FoundryConfigError(
            f"The champion ({champion.describe()}) is compared on nothing: pass which metrics to compare, e.g. "
            f"{COMPARE_EXAMPLE}, or leave the champion out."
        )
    if found_thresholds == () and comparisons == ():
        raise FoundryConfigError(
            f"The gate checks nothing: pass thresholds (e.g. {THRESHOLDS_EXAMPLE}) and/or a champion with compare "
            f"(e.g. {COMPARE_EXAMPLE})."
        )
    return GateSpec(found_thresholds or (), comparisons or (), champion)


def candidate_version(model_rid: Any, model_version_rid: Any, candidate: Any, *, rendered: bool) -> VersionRef | None:
    """The version to gate: ``model_rid`` and ``model_version_rid``, or ``candidate``, a launch result (any
    mapping with ``model_rid`` and ``model_version_rid``). Before rendering it is only a check, and a
    ``candidate`` (a template, an ``XComArg``) gives None.

    A launch result of a studio with several model outputs names one version per output alias: pass the
    output's ``model_rid`` and ``model_version_rid`` explicitly instead.
    """
    if candidate is not None and (model_rid is not None or model_version_rid is not None):
        raise FoundryConfigError(
            "Pass either candidate=<a launch result> or model_rid=... and model_version_rid=..., not both: "
            f"candidate={candidate!r:.100}, model_rid={model_rid!r}, model_version_rid={model_version_rid!r}."
        )
    if candidate is None:
        if model_rid is None or model_version_rid is None:
            raise FoundryConfigError(
                f"model_rid={model_rid!r}, model_version_rid={model_version_rid!r}: the gate needs both, e.g. "
                "model_rid=\"{{ ti.xcom_pull('train')['model_rid'] }}\", model_version_rid=\"{{ "
                "ti.xcom_pull('train')['model_version_rid'] }}\", or candidate=train.output."
            )
        return _version(model_rid, model_version_rid, "model_rid", "model_version_rid", rendered=rendered)
    if not rendered:
        if isinstance(candidate, str) and not _is_template(candidate):
            raise _not_a_result(candidate)
        return None
    if not isinstance(candidate, Mapping):
        raise _not_a_result(candidate)
    model, version = candidate.get("model_rid"), candidate.get("model_version_rid")
    if isinstance(model, Mapping) or isinstance(version, Mapping):
        aliases = sorted(model if isinstance(model, Mapping) else version)  # type: ignore[arg-type]
        raise FoundryConfigError(
            f"candidate is a run with several model outputs ({', '.join(map(str, aliases))}): pass the one to gate as "
            "model_rid=\"{{ ti.xcom_pull('train')['model_outputs']['<alias>']['model_rid'] }}\" and "
            "model_version_rid=\"{{ ti.xcom_pull('train')['model_outputs']['<alias>']['model_version_rid'] }}\"."
        )
    return _version(model, version, "candidate['model_rid']", "candidate['model_version_rid']", rendered=True)


def _version(model_rid: Any, version_rid: Any, model_field: str, version_field: str, *, rendered: bool) -> VersionRef:
    if rendered or not _is_template(model_rid):
        validate_rid(model_rid, MODEL, field=model_field)
    if rendered or not _is_template(version_rid):
        validate_rid(version_rid, MODEL_VERSION, field=version_field)
    return VersionRef(str(model_rid).strip(), str(version_rid).strip())


def _not_a_result(candidate: Any) -> FoundryConfigError:
    return FoundryConfigError(
        f"candidate={candidate!r:.200} is not a launch result (a dict with model_rid and model_version_rid). Pass "
        "the launch task's output, candidate=train.output, or set render_template_as_native_obj=True on the DAG "
        "when it is a template."
    )


def check_on_failure(value: Any) -> str:
    if value not in ON_FAILURE:
        raise FoundryConfigError(
            f"on_failure={value!r} must be 'fail' (the task fails, no Airflow retries) or 'skip' (the task and its "
            "downstream tasks are skipped)."
        )
    return str(value)


# Judging --------------------------------------------------------------------------------------------------


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

    def value(self, metric: Metric) -> float:
        return metric_value(self.metrics, metric, whose=self.whose)


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
    candidate: float
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
        value = candidate.value(threshold.metric)
        rows.append(
            Row(str(threshold.metric), "threshold", value, None, threshold.requirement, threshold.passes(value))
        )
    for comparison in spec.comparisons:
        metric, value = str(comparison.metric), candidate.value(comparison.metric)
        if champion is None or champion.evidence is None:
            note = champion.note if champion is not None else "no champion"
            rows.append(Row(metric, "champion", value, None, comparison.requirement, True, note))
            continue
        best = champion.evidence.value(comparison.metric)
        same = champion.evidence.lineage.experiment_rid == candidate.lineage.experiment_rid
        note = "the champion is this same model (same experiment)" if same else ""
        rows.append(Row(metric, "champion", value, best, comparison.requirement, comparison.passes(value, best), note))
    return tuple(rows)


def read_evidence(reader: ModelReader, version: VersionRef, role: str) -> Evidence:
    """A version's experiment metrics, following promoted copies back to the version that links them."""
    lineage = find_experiment(reader, version)
    experiment = reader.get_experiment(lineage.holder.model_rid, lineage.experiment_rid)
    status = experiment.get("status")
    return Evidence(role, version, lineage, status if isinstance(status, str) else None, summary_metrics(experiment))


def find_champion(reader: ModelReader, spec: ChampionSpec) -> Champion:
    """The version the champion spec points at today, with its metrics; a note instead when there is none."""
    if spec.live_deployment_rid:
        served = reader.get_live_deployment(spec.live_deployment_rid).get("modelVersion")
        if not isinstance(served, dict):
            served = {}
        model, version = served.get("modelRid"), served.get("modelVersionRid")
        if not isinstance(model, str) or not isinstance(version, str) or not model or not version:
            return Champion(spec, None, f"no champion: {spec.describe()} serves no model version yet")
        return Champion(spec, read_evidence(reader, VersionRef(model, version), "champion"))
    assert spec.model_rid is not None
    newest = latest_version(reader.list_model_versions(spec.model_rid, spec.branch))
    rid = newest.get("rid") if newest is not None else None
    if not isinstance(rid, str) or not rid:
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
                _number(row.candidate),
                "-" if row.champion is None else _number(row.champion),
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
        """One sentence on the outcome, then the table."""
        failed = [row for row in self.rows if not row.passed]
        if not failed:
            head = f"The gate passed {self.candidate.version}: {len(self.rows)} checks passed."
        else:
            which = ", ".join(f"{row.metric} {row.threshold}" for row in failed)
            head = (
                f"The gate stopped {self.candidate.version}: {len(failed)} of {len(self.rows)} checks failed ({which})."
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


def run_gate(reader: ModelReader, candidate: VersionRef, spec: GateSpec) -> GateResult:
    """Read the candidate's and the champion's metrics and judge them (a failed gate is a result, not an error).

    :raises MissingExperimentError: a version has no experiment to read metrics from
    :raises MissingMetricError: an experiment lacks a checked metric
    """
    evidence = read_evidence(reader, candidate, "candidate")
    champion = find_champion(reader, spec.champion) if spec.champion is not None else None
    return GateResult(evidence, champion, evaluate(spec, evidence, champion))
