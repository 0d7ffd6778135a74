"""The best of several candidates: rank launch results by ``best_by`` metrics, then gate the best one.

For a sweep (a mapped launch trained several configurations), the gate is given every result and chooses:

- **Eligible**: a candidate whose experiment holds a finite number for every ``best_by`` metric. A candidate
  without an experiment, without one of those metrics, or with a value that is not a finite number (NaN, an
  infinity, a string) is left out, with a row saying why. When none is eligible the gate fails, naming each
  candidate and why it was left out.
- **Order**: by the first ``best_by`` metric in its direction; values equal as the table shows them (10
  significant digits) tie, and the next ``best_by`` metric breaks the tie; candidates equal on every one keep
  their list order (a mapped launch's output is in map index order, the order of the configurations given).
  A row that won or lost by a tie-break says so.
- **Then**: the best one, and only it, is gated exactly as a single candidate is (:func:`.gate.judge`:
  thresholds, champion). When it fails the gate, the gate fails: it does not fall back to the runner-up.

It reads metrics only (one experiment per candidate, and the champion's); it deploys nothing. Network errors are
not verdicts: they propagate, as for a single candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from airflow_provider_modelstudio.deploys.gate import Evidence, GateResult, ModelReader, judge, read_evidence
from airflow_provider_modelstudio.deploys.gate_arguments import Candidate, GateSpec, RankBy, number_text
from airflow_provider_modelstudio.deploys.lineage import MissingExperimentError, VersionRef
from airflow_provider_modelstudio.deploys.metrics import finite_number
from airflow_provider_modelstudio.foundry.errors import FoundryError

RANKING_XCOM_KEY = "ranking"
"""XCom key of the ranking's rows."""


class NoEligibleCandidateError(FoundryError):
    """No candidate has a finite value of every ``best_by`` metric, so none can be chosen."""


@dataclass(frozen=True)
class Standing:
    """One candidate's row of the ranking: its values, its rank, or why it was left out."""

    candidate: Candidate
    values: tuple[float | None, ...]
    rank: int | None = None
    excluded: str = ""
    note: str = ""
    evidence: Evidence | None = None

    @property
    def name(self) -> str:
        return f"candidates[{self.candidate.position}]"

    def describe(self) -> str:
        config = (
            f", config version {self.candidate.config_version}" if self.candidate.config_version is not None else ""
        )
        return f"{self.name} (model version {self.candidate.model_version_rid}{config})"

    def as_dict(self, by: Sequence[RankBy]) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "candidate": self.candidate.position,
            "model_rid": self.candidate.model_rid,
            "model_version_rid": self.candidate.model_version_rid,
            "config_version": self.candidate.config_version,
            "metrics": {str(rank_by.metric): value for rank_by, value in zip(by, self.values, strict=True)},
            "rank": self.rank,
            "excluded": self.excluded or None,
            "note": self.note,
        }


@dataclass(frozen=True)
class Ranking:
    """Every candidate's standing, in list order, and the best one."""

    by: tuple[RankBy, ...]
    standings: tuple[Standing, ...]

    @property
    def best(self) -> Standing:
        return next(s for s in self.standings if s.rank == 1)

    def rows(self) -> list[dict[str, Any]]:
        return [standing.as_dict(self.by) for standing in self.standings]

    def order(self) -> str:
        return ", then ".join(f"{rank_by.metric} ({rank_by.direction})" for rank_by in self.by)

    def table(self) -> str:
        """One line per candidate, in list order, as fixed-width text with a header."""
        header = ("CANDIDATE", "MODEL VERSION", "CONFIG", *(str(r.metric) for r in self.by), "RANK", "NOTE")
        cells = [header] + [
            (
                s.name,
                s.candidate.model_version_rid,
                "-" if s.candidate.config_version is None else str(s.candidate.config_version),
                *("-" if v is None else number_text(v) for v in s.values),
                "-" if s.rank is None else str(s.rank),
                f"left out: {s.excluded}" if s.excluded else s.note,
            )
            for s in self.standings
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in cells
        )

    def summary(self) -> str:
        left_out = sum(1 for s in self.standings if s.excluded)
        return (
            f"Ranked {len(self.standings) - left_out} of {len(self.standings)} candidates by {self.order()}: the "
            f"best is {self.best.describe()}; {left_out} left out.\n{self.table()}"
        )


def standing(reader: ModelReader, candidate: Candidate, by: Sequence[RankBy]) -> Standing:
    """A candidate's values of the ``best_by`` metrics, or why it cannot be ranked."""
    version = VersionRef(candidate.model_rid, candidate.model_version_rid)
    nothing = (None,) * len(by)
    try:
        evidence = read_evidence(reader, version, "candidate")
    except MissingExperimentError as exc:
        return Standing(candidate, nothing, excluded=f"no experiment to read metrics from ({exc})")
    values = tuple(finite_number(evidence.metrics.get(rank_by.metric)) for rank_by in by)
    missing = [str(r.metric) for r in by if r.metric not in evidence.metrics]
    if missing:
        available = ", ".join(sorted(str(m) for m in evidence.metrics)) or "none"
        why = (
            f"its experiment {evidence.lineage.experiment_rid} has no {' and no '.join(missing)} (it has: {available})"
        )
        return Standing(candidate, values, excluded=why, evidence=evidence)
    unusable = [evidence.unusable(r.metric) for r, value in zip(by, values, strict=True) if value is None]
    if unusable:
        return Standing(candidate, values, excluded="; ".join(unusable), evidence=evidence)
    return Standing(candidate, values, evidence=evidence)


def rank(standings: Sequence[Standing], by: Sequence[RankBy]) -> Ranking:
    """Number the eligible standings 1, 2, ... by ``by`` then list order, noting ties; the rest keep no rank.

    :raises NoEligibleCandidateError: none is eligible
    """
    eligible = [s for s in standings if not s.excluded]
    if not eligible:
        reasons = "; ".join(f"{s.describe()}: {s.excluded}" for s in standings)
        raise NoEligibleCandidateError(
            f"No candidate can be ranked by {', then '.join(str(r.metric) for r in by)}: every one was left out. "
            f"{reasons}. Check that the runs succeeded and log these metrics, or rank by metrics they have."
        )

    ordered = sorted(eligible, key=lambda s: (_keys(s, by), s.candidate.position))
    ranked: dict[int, Standing] = {}
    for place, current in enumerate(ordered, start=1):
        notes = []
        if place > 1:
            notes.append(_tie(current, ordered[place - 2], by, ahead=False))
        if place < len(ordered):
            notes.append(_tie(current, ordered[place], by, ahead=True))
        note = "; ".join(n for n in notes if n)
        ranked[current.candidate.position] = Standing(
            current.candidate, current.values, place, "", note, current.evidence
        )
    return Ranking(tuple(by), tuple(ranked.get(s.candidate.position, s) for s in standings))


def _keys(standing: Standing, by: Sequence[RankBy]) -> tuple[float, ...]:
    """An eligible standing's sort key: its values as shown, better first (every one is a finite number)."""
    return tuple(rank_by.key(cast(float, value)) for rank_by, value in zip(by, standing.values, strict=True))


def _tie(current: Standing, other: Standing, by: Sequence[RankBy], *, ahead: bool) -> str:
    """The note on ``current`` when it has the same first metric as ``other``, its neighbour in the order."""
    mine, theirs = _keys(current, by), _keys(other, by)
    same = 0
    while same < len(by) and mine[same] == theirs[same]:
        same += 1
    if same == 0:
        return ""
    tied = ", ".join(str(r.metric) for r in by[:same])
    decided = f"{by[same].metric} decides" if same < len(by) else "the earlier in the list goes first"
    return f"{'ahead of' if ahead else 'behind'} {other.name}: the same {tied}, {decided}"


@dataclass(frozen=True)
class BestResult:
    """The ranking and the gate of its best candidate: passes exactly when that gate does."""

    ranking: Ranking
    gate: GateResult

    @property
    def passed(self) -> bool:
        return self.gate.passed

    def summary(self) -> str:
        return f"{self.ranking.summary()}\n{self.gate.summary()}"

    def as_dict(self) -> dict[str, Any]:
        """The gate's result for the best candidate (``model_rid``, ``model_version_rid``, ...) and ``ranking``."""
        return {
            **self.gate.as_dict(),
            "config_version": self.ranking.best.candidate.config_version,
            "ranking": self.ranking.rows(),
        }


def run_best_gate(
    reader: ModelReader, candidates: Sequence[Candidate], by: Sequence[RankBy], spec: GateSpec
) -> BestResult:
    """Rank the candidates by ``by`` and gate the best (a failed gate is a result, not an error).

    :param reader: reads versions, experiments and the champion
    :param candidates: the launch results' versions, in list order
    :param by: the ``best_by`` metrics, in order of precedence
    :param spec: the gate's checks, applied to the best candidate only
    :raises NoEligibleCandidateError: no candidate has a finite value of every ``best_by`` metric
    :raises MissingExperimentError: the champion has no experiment to read metrics from
    :raises MissingMetricError: the best candidate or the champion lacks a checked metric
    """
    ranking = rank([standing(reader, candidate, by) for candidate in candidates], by)
    best = ranking.best.evidence
    assert best is not None
    return BestResult(ranking, judge(reader, best, spec))
