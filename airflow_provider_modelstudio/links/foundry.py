"""The "Foundry build" button on tasks, linking to the build page of the run they launched or watched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

BUILD_URL_XCOM_KEY = "build_url"


class FoundryBuildLink(BaseOperatorLink):
    """Links to the Foundry build of the task's run.

    Computed on the worker when the task ends (as Airflow 3 does): from the task's ``foundry_build_url``
    when the task ran in this process (empty when it failed before launching), else from the ``build_url``
    it pushed to XCom. No call to Foundry is made.
    """

    name = "Foundry build"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        known = getattr(operator, "foundry_build_url", None)
        if isinstance(known, str):
            return known

        url = XCom.get_value(ti_key=ti_key, key=BUILD_URL_XCOM_KEY)
        return url if isinstance(url, str) else ""
