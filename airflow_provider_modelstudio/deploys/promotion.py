"""Task-level idempotent promotion: a retried task finds its promotion instead of promoting again.

The hook's ``promote_model_version`` never makes two copies from one call. Across tries of a task, this
module keeps it that way: when the latest version on the target branch is already a copy promoted from the
candidate, that copy is adopted. It also says which version the branch had before, the rollback point. It
does not wait for deployments (see :mod:`.serving`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.deploys.lineage import latest_version

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook


@dataclass(frozen=True)
class Promotion:
    """The outcome of promoting a candidate onto a branch.

    :param model_rid: the target model
    :param branch: the target branch
    :param candidate_version_rid: the version promoted
    :param promoted_version_rid: its copy, now the latest on the branch
    :param previous_version_rid: the branch's latest version before (the rollback point); None for a new branch
    :param adopted: the copy existed already (an earlier try promoted it)
    """

    model_rid: str
    branch: str | None
    candidate_version_rid: str
    promoted_version_rid: str
    previous_version_rid: str | None
    adopted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_rid": self.model_rid,
            "branch": self.branch,
            "candidate_version_rid": self.candidate_version_rid,
            "promoted_version_rid": self.promoted_version_rid,
            "previous_version_rid": self.previous_version_rid,
            "adopted": self.adopted,
        }


def promote(
    hook: ModelStudioHook,
    model_rid: str,
    candidate_version_rid: str,
    branch: str | None,
    log: Any,
    *,
    served_version_rid: str | None = None,
) -> Promotion:
    """Make ``candidate_version_rid`` the latest version of ``branch`` of ``model_rid``, once.

    :param log: where to say what happened
    :param served_version_rid: what the live deployment following the branch serves now: the rollback point
    """
    versions = hook.list_model_versions(model_rid, branch)
    latest = latest_version(versions)
    if latest is not None and latest.rid is not None and latest.promoted_from(candidate_version_rid):
        before = latest_version([v for v in versions if v is not latest])
        log.warning(
            "Version %s, promoted from %s, is already the latest on %s; adopting it instead of promoting again.",
            latest.rid,
            candidate_version_rid,
            _where(model_rid, branch),
        )
        previous = served_version_rid if served_version_rid not in (None, latest.rid) else None
        return Promotion(
            model_rid,
            branch,
            candidate_version_rid,
            latest.rid,
            previous or (before.rid if before else None),
            adopted=True,
        )
    copy = hook.promote_model_version(model_rid, candidate_version_rid, branch)
    previous = served_version_rid or (latest.rid if latest else None)
    log.info(
        "Promoted %s to %s as version %s (before: %s).",
        candidate_version_rid,
        _where(model_rid, branch),
        copy.rid,
        previous or "none",
    )
    return Promotion(model_rid, branch, candidate_version_rid, str(copy.rid), previous, adopted=False)


def _where(model_rid: str, branch: str | None) -> str:
    return f"{model_rid} branch {branch}" if branch else model_rid
