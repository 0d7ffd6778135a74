"""An auth manager for the Model releases tests: Airflow's simple auth manager, except that the users named in
:data:`OUTSIDERS` may read no DAG, and a user named ``only_<prefix>`` only the DAGs whose id starts with
``<prefix>`` (the simple auth manager alone grants every role every DAG).

Configured with ``[core] auth_manager = e2e.dag_access.DagAccessAuthManager`` (the repository on
``PYTHONPATH``), by ``tests/releases`` and by the deployment of ``e2e/test_releases_page.py``.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDERS = frozenset({"outsider"})
ONLY = "only_"


class DagAccessAuthManager(SimpleAuthManager):
    """The simple auth manager, with no DAG readable by :data:`OUTSIDERS` and some by ``only_<prefix>`` users."""

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        name = user.get_name()
        if name in OUTSIDERS:
            return False
        dag_id = getattr(details, "id", None)
        if name.startswith(ONLY) and not (dag_id or "").startswith(name.removeprefix(ONLY)):
            return False
        allowed: bool = super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
        return allowed
