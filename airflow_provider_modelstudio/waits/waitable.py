"""What a kind of waitable Foundry resource is, described once, and how one wait watches its states.

A :class:`Waitable` says how to read one resource in the worker, how to read many at once in the triggerer, how
to describe a state in a log line, and how to judge a state against what a wait wants (its goal). A
:class:`Watch` is one wait's view of the states it is shown: it logs them and judges them.
:class:`ChangeWatch` is the watch any kind gets for free (a line per change of state). It sends no request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.status import Verdict

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

S = TypeVar("S")
"""A resource's state as a wait sees it (a build status, a live deployment's :class:`LiveDeployment` shape)."""
G = TypeVar("G")
"""What one wait wants of the resource (None for a build, the version to serve for a live deployment)."""
S_contra = TypeVar("S_contra", contravariant=True)


@dataclass(frozen=True)
class Waitable(Generic[S, G]):
    """A kind of Foundry resource a task can wait on.

    :param name: what one such resource is called in messages (``"build"``); also part of the poller's key
    :param read: one resource's state, read synchronously through the hook (in the worker or a sensor's poke);
        raises :class:`FoundryError` when the check failed
    :param read_many: the states of many resources at once, through the hook's async client (in the triggerer):
        a mapping from each RID to its state, or to the exception of that resource's check. A RID left out is
        a failed check; raising fails the check of every RID asked about
    :param describe: a state in a few words, for log lines
    :param judge: whether a state ends a wait with this goal, and how (``Verdict.WAIT`` waits on)
    :param trigger: dotted path of the trigger class a deferred wait of this kind runs in
    """

    name: str
    read: Callable[[ModelStudioHook, str], S]
    read_many: Callable[[ModelStudioHook, list[str]], Awaitable[Mapping[str, S | BaseException]]]
    describe: Callable[[S], str]
    judge: Callable[[S, G], Verdict]
    trigger: str

    @property
    def title(self) -> str:
        """The name at the start of a sentence."""
        return self.name[:1].upper() + self.name[1:]


class Watch(Protocol[S_contra]):
    """One wait's view of its resource: logs each state and failed check, judges each state."""

    @property
    def rid(self) -> str:
        """The resource watched."""
        ...

    def observe(self, state: S_contra) -> Verdict:
        """Log the state when worth a line; judge it."""
        ...

    def check_failed(self, count: int, problem: FoundryError) -> None:
        """Log the ``count``-th failed check in a row (the wait goes on)."""
        ...

    def timed_out(self) -> FoundryError:
        """The error that ends a wait in the worker at its deadline."""
        ...


class ChangeWatch(Generic[S, G]):
    """Logs a line each time the resource's state reads differently, and judges each state against ``goal``.

    :param waitable: the kind of resource
    :param rid: the resource
    :param goal: what the wait wants of it
    :param log: where to log
    """

    def __init__(self, waitable: Waitable[S, G], rid: str, goal: G, log: Any) -> None:
        self.waitable = waitable
        self._rid = rid
        self.goal = goal
        self.log = log
        self.last = ""
        """The last state seen, described; empty before the first."""

    @property
    def rid(self) -> str:
        return self._rid

    def observe(self, state: S) -> Verdict:
        described = self.waitable.describe(state)
        if described != self.last:
            self.last = described
            self.log.info("%s %s is %s.", self.waitable.title, self.rid, described)
        return self.waitable.judge(state, self.goal)

    def check_failed(self, count: int, problem: FoundryError) -> None:
        self.log.warning(
            "Check %d of %s %s failed (%s); will check again.", count, self.waitable.name, self.rid, problem
        )

    def timed_out(self) -> FoundryError:
        return FoundryError(
            f"{self.waitable.title} {self.rid} was not done within the wait's timeout; it is {self.last or 'unknown'}."
        )
