"""The quality gate's arguments: what to check and which version, parsed and checked before anything is read.

Specs, as :class:`~airflow_provider_modelstudio.operators.model_versions.ModelVersionGateOperator` takes them (checked
when the DAG is parsed, except templated entries, which are checked when the task runs):

- ``thresholds``: metric -> comparison, e.g. ``{"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"}``; the
  operators are ``>=``, ``>``, ``<=``, ``<``, ``==``. Metric names are read by :mod:`.metrics`.
- ``compare``: metric -> ``"higher"`` or ``"lower"`` (which way is better), optionally ``"higher by 0.01"``;
  entries without ``by`` take the gate's ``margin`` (default 0). The candidate passes when it beats the
  champion by at least the margin: ``higher`` means candidate >= champion + margin, ``lower`` means
  candidate <= champion - margin. A margin of 0 lets a candidate that matches the champion pass; a negative
  margin tolerates a candidate that much worse.
- the champion: the version a live deployment serves today, or the newest version on a branch of a model.
- the candidate: a model and a version RID, or a launch result holding both; or ``candidates``, several launch
  results (a mapped launch's output), ranked by ``best_by``: metric -> ``"higher"`` or ``"lower"``, in order of
  precedence (the next entry breaks a tie of the one before), e.g. ``{"val_auc": "higher", "val_loss": "lower"}``.

Boundaries are compared with a relative tolerance of 1e-9, so that ``0.1 + 0.2`` meets ``>= 0.3``. Kept
apart from :mod:`.gate` so that parsing a DAG imports only this (its value types are named tuples, which
Python builds faster than dataclasses); it reads nothing from Foundry.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from airflow_provider_modelstudio.deploys.metrics import Metric, parse_metric
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import LIVE_DEPLOYMENT, MODEL, MODEL_VERSION, validate_rid
from airflow_provider_modelstudio.runs.arguments import is_template

THRESHOLDS_EXAMPLE = """thresholds={"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"}"""
COMPARE_EXAMPLE = """compare={"val_auc": "higher", "val_loss:MIN": "lower by 0.01"}"""
BEST_BY_EXAMPLE = """best_by={"val_auc": "higher", "val_loss": "lower"}"""
ON_FAILURE = ("fail", "skip")

_COMPARISON = re.compile(r"^\s*(>=|<=|==|>|<)\s*(\S+)\s*$")
_DIRECTION = re.compile(r"^\s*(higher|lower)(?:\s+by\s+(\S+))?\s*$", re.IGNORECASE)
_BEST = re.compile(r"^\s*(higher|lower)\s*$", re.IGNORECASE)
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


def number_text(value: float) -> str:
    """A metric value or bound as the table shows it (up to 10 significant digits, no trailing zeros)."""
    return format(value, ".10g")


def _at_least(value: float, bound: float) -> bool:
    return value >= bound or math.isclose(value, bound, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)


def _finite(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Threshold(NamedTuple):
    """``metric <operator> bound``."""

    metric: Metric
    operator: str
    bound: float

    @property
    def requirement(self) -> str:
        return f"{self.operator} {number_text(self.bound)}"

    def passes(self, value: float) -> bool:
        close = math.isclose(value, self.bound, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
        return {
            ">=": _at_least(value, self.bound),
            "<=": _at_least(self.bound, value),
            ">": value > self.bound and not close,
            "<": value < self.bound and not close,
            "==": close,
        }[self.operator]


class Comparison(NamedTuple):
    """The candidate's ``metric`` must beat the champion's by ``margin`` in ``direction``."""

    metric: Metric
    direction: str
    margin: float

    @property
    def requirement(self) -> str:
        operator, sign = (">=", 1.0) if self.direction == "higher" else ("<=", -1.0)
        shift = sign * self.margin
        offset = f" {'+' if shift > 0 else '-'} {number_text(abs(shift))}" if shift else ""
        return f"{operator} champion{offset}"

    def passes(self, candidate: float, champion: float) -> bool:
        gain = candidate - champion if self.direction == "higher" else champion - candidate
        return _at_least(gain, self.margin)


class RankBy(NamedTuple):
    """One ``best_by`` entry: candidates with a ``direction`` (``"higher"`` or ``"lower"``) ``metric`` rank first."""

    metric: Metric
    direction: str

    def key(self, value: float) -> float:
        """What sorts first for the better value: the value as the table shows it, negated for ``higher``."""
        shown = float(number_text(value))
        return -shown if self.direction == "higher" else shown


class Candidate(NamedTuple):
    """One of several candidates: its place in the list, its version, and the config version that trained it."""

    position: int
    model_rid: str
    model_version_rid: str
    config_version: Any = None


class ChampionSpec(NamedTuple):
    """Where the champion is: a live deployment's served version, or the newest version on a model's branch."""

    live_deployment_rid: str | None = None
    model_rid: str | None = None
    branch: str | None = None

    def describe(self) -> str:
        if self.live_deployment_rid:
            return f"live deployment {self.live_deployment_rid}"
        return f"branch {self.branch!r} of model {self.model_rid}"


class GateSpec(NamedTuple):
    """Everything the gate checks."""

    thresholds: tuple[Threshold, ...]
    comparisons: tuple[Comparison, ...]
    champion: ChampionSpec | None


def _entries(field: str, value: Any, example: str, *, rendered: bool) -> dict[Any, Any] | None:
    """A spec argument as a dict; None while it is an unrendered template. A rendered string must be JSON."""
    if value is None:
        return {}
    if isinstance(value, str) and not rendered and is_template(value):
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise FoundryConfigError(
                f"{field}={value!r:.200} is a string but not a JSON object. Pass a dict, e.g. {example}, or render "
                "a template as JSON (the `tojson` filter)."
            )
        value = parsed
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
        if not rendered and is_template(spec):
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
        if not rendered and is_template(spec):
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
        if rendered or not is_template(live_deployment_rid):
            validate_rid(live_deployment_rid, LIVE_DEPLOYMENT, field="champion_live_deployment_rid")
        return ChampionSpec(live_deployment_rid=live_deployment_rid.strip())
    if model_rid is None or not isinstance(branch, str) or not branch.strip():
        raise FoundryConfigError(
            f"champion_model_rid={model_rid!r} and champion_branch={branch!r}: a branch champion needs both, e.g. "
            "champion_model_rid='ri.models.main.model.1a2b...', champion_branch='master'."
        )
    if rendered or not is_template(model_rid):
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


def candidate_version(
    model_rid: Any, model_version_rid: Any, candidate: Any, *, rendered: bool
) -> tuple[str, str] | None:
    """The version to gate, ``(model_rid, model_version_rid)``: from those two arguments, or from ``candidate``,
    a launch result (any
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
        if isinstance(candidate, str) and not is_template(candidate):
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


def _version(
    model_rid: Any, version_rid: Any, model_field: str, version_field: str, *, rendered: bool
) -> tuple[str, str]:
    if rendered or not is_template(model_rid):
        validate_rid(model_rid, MODEL, field=model_field)
    if rendered or not is_template(version_rid):
        validate_rid(version_rid, MODEL_VERSION, field=version_field)
    return str(model_rid).strip(), str(version_rid).strip()


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


def parse_best_by(value: Any) -> tuple[RankBy, ...]:
    """The ranking of ``best_by``: a dict of metric -> ``"higher"`` or ``"lower"``, first entry first."""
    if not isinstance(value, Mapping) or not value:
        raise FoundryConfigError(
            f"best_by={value!r:.200} must be a non-empty dict of metric -> 'higher' or 'lower' (which way is "
            f"better), in order of precedence, e.g. {BEST_BY_EXAMPLE}."
        )
    found = []
    for key, spec in value.items():
        metric = parse_metric(key, field="best_by", example=BEST_BY_EXAMPLE)
        match = _BEST.match(spec) if isinstance(spec, str) else None
        if match is None:
            raise FoundryConfigError(
                f"best_by[{key!r}]={spec!r} must be 'higher' or 'lower', which way is better (no margin: the "
                f"ranking only orders the candidates), e.g. {BEST_BY_EXAMPLE}."
            )
        found.append(RankBy(metric, match.group(1).lower()))
    return tuple(found)


def check_sweep(candidate: Any, model_rid: Any, model_version_rid: Any, candidates: Any, best_by: Any) -> None:
    """Refuse ``candidates`` and ``best_by`` without each other, or next to a single candidate."""
    if candidates is None:
        if best_by is not None:
            raise FoundryConfigError(
                f"best_by={best_by!r:.200} ranks several candidates, but no candidates were given: pass "
                "candidates=train.output (the results of a mapped launch), or leave best_by out to gate one candidate."
            )
        return
    if candidate is not None or model_rid is not None or model_version_rid is not None:
        raise FoundryConfigError(
            f"Pass either candidates=<several launch results> or one candidate (candidate=... or model_rid=... and "
            f"model_version_rid=...), not both: candidates={candidates!r:.100}, candidate={candidate!r:.100}, "
            f"model_rid={model_rid!r}, model_version_rid={model_version_rid!r}."
        )
    if best_by is None:
        raise FoundryConfigError(
            f"candidates={candidates!r:.100} needs best_by to choose one: which metric is better which way, e.g. "
            f"{BEST_BY_EXAMPLE}."
        )
    parse_best_by(best_by)


def candidate_versions(candidates: Any, *, rendered: bool) -> tuple[Candidate, ...] | None:
    """The versions to rank, in list order, from ``candidates``: a list of launch results (a mapped launch's
    ``.output``, which Airflow resolves to a sequence when the task runs). Before rendering it is only a check and
    gives None.
    """
    if not rendered:
        items = candidates if isinstance(candidates, list | tuple) else [candidates]
        if isinstance(candidates, list | tuple) and not candidates:
            raise _no_candidates(candidates)
        for item in items:
            if isinstance(item, str) and not is_template(item):
                raise _not_results(candidates)
        return None
    if isinstance(candidates, str | bytes | Mapping) or not isinstance(candidates, Sequence):
        raise _not_results(candidates)
    if not candidates:
        raise _no_candidates(candidates)
    found = []
    for index, item in enumerate(candidates):
        try:
            if not isinstance(item, Mapping):
                raise _not_a_result(item)
            version = candidate_version(None, None, item, rendered=True)
        except FoundryConfigError as exc:
            raise FoundryConfigError(f"candidates[{index}]: {exc}") from None
        assert version is not None
        found.append(Candidate(index, *version, config_version=item.get("config_version")))
    return tuple(found)


def _no_candidates(candidates: Any) -> FoundryConfigError:
    return FoundryConfigError(
        f"candidates={candidates!r:.100} is empty: there is nothing to choose from. Pass the results of the "
        "launches to rank, e.g. candidates=train.output of a mapped launch."
    )


def _not_results(candidates: Any) -> FoundryConfigError:
    return FoundryConfigError(
        f"candidates={candidates!r:.200} is not a list of launch results (dicts with model_rid and "
        "model_version_rid). Pass a mapped launch's output, candidates=train.output, or set "
        "render_template_as_native_obj=True on the DAG when it is a template."
    )
