"""An in-memory stand-in for the Variables and task states the deploy lock reads (unit tests have no task runner)."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.deploys.deploy_lock import Holder


class MemoryLockStore:
    """Locks in a dict shared by every instance; task states as a test sets them (unknown tasks: not known)."""

    variables: dict[str, Any] = {}
    states: dict[tuple[str, str, str, int], str | None] = {}

    def get(self, key: str) -> Any:
        return self.variables.get(key)

    def set(self, key: str, value: dict[str, Any]) -> None:
        self.variables[key] = value

    def delete(self, key: str) -> None:
        self.variables.pop(key, None)

    def state_of(self, holder: Holder) -> tuple[bool, str | None]:
        key = (holder.dag_id, holder.run_id, holder.task_id, holder.map_index)
        return key in self.states, self.states.get(key)
