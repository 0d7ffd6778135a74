"""Extra links on tasks: the Foundry build of a run, the model version a task made, the live deployment it
deployed to.

Computed on the worker when the task ends (as Airflow 3 does): from the task's own attribute when the task
ran in this process (empty when it failed before knowing), else from the value it pushed to XCom. No call to
Foundry is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

BUILD_URL_XCOM_KEY = "build_url"
MODEL_VERSION_URL_XCOM_KEY = "model_version_url"
LIVE_DEPLOYMENT_URL_XCOM_KEY = "live_deployment_url"


class _FoundryLink(BaseOperatorLink):
    """A link whose URL the task keeps in ``attribute`` and pushes to XCom under ``xcom_key``."""

    attribute: ClassVar[str]
    xcom_key: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        known = getattr(operator, self.attribute, None)
        if isinstance(known, str):
            return known
        url = XCom.get_value(ti_key=ti_key, key=self.xcom_key)
        return url if isinstance(url, str) else ""


class FoundryBuildLink(_FoundryLink):
    """Links to the Foundry build of the task's run."""

    name = "Foundry build"
    attribute = "foundry_build_url"
    xcom_key = BUILD_URL_XCOM_KEY


class FoundryModelVersionLink(_FoundryLink):
    """Links to the model version the task promoted or deployed."""

    name = "Foundry model version"
    attribute = "foundry_model_version_url"
    xcom_key = MODEL_VERSION_URL_XCOM_KEY


class FoundryLiveDeploymentLink(_FoundryLink):
    """Links to the live deployment the task deployed to."""

    name = "Foundry live deployment"
    attribute = "foundry_live_deployment_url"
    xcom_key = LIVE_DEPLOYMENT_URL_XCOM_KEY
