"""Where a dataset watcher remembers the last transaction it announced: an Airflow Variable per watcher.

The Variable ``modelstudio_dataset_watermark.<datasetRid>.<digest>`` holds the watermark with the dataset,
branch and connection it belongs to, so a person can read it in the UI (and delete it to make the watcher start
again from the branch's head). ``<digest>`` is derived from every argument of the watcher, as Airflow tells
triggers apart: two watchers of one branch that differ in any argument each announce every commit to their own
assets, and neither hides a commit from the other. Variables outlive the triggerer that wrote them and are
read by whichever triggerer runs the watcher next; Airflow 3.1 to 3.3 give triggers access to them. Why not
Airflow 3.3's asset state store: it is kept per asset, while a watcher may feed several assets, and 3.1 and 3.2
do not have it (``docs/dataset-watcher.md``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from airflow_provider_modelstudio.datasets.news import Watermark

PREFIX = "modelstudio_dataset_watermark."


def watermark_key(dataset_rid: str, watcher_arguments: dict[str, Any]) -> str:
    """The Variable key of one watcher's watermark.

    :param dataset_rid: the dataset watched (for a person reading the Variables list)
    :param watcher_arguments: every argument of the watcher, as it is serialized (JSON values)
    """
    digest = hashlib.sha256(json.dumps(watcher_arguments, sort_keys=True).encode()).hexdigest()
    return f"{PREFIX}{dataset_rid}.{digest[:16]}"


class WatermarkStore(Protocol):
    """Keeps watermarks (:class:`VariableWatermarks` in the triggerer)."""

    async def load(self, key: str) -> Watermark | None:
        """The saved watermark; None when there is none."""
        ...

    async def save(self, key: str, mark: Watermark, about: dict[str, Any]) -> None:
        """Save ``mark`` with ``about`` (what it is the watermark of) beside it."""
        ...


class VariableWatermarks:
    """Watermarks in Airflow Variables, read and written through the triggerer's channel to Airflow."""

    async def load(self, key: str) -> Watermark | None:
        from airflow.sdk import Variable
        from asgiref.sync import sync_to_async

        value = await sync_to_async(Variable.get)(key, default=None, deserialize_json=True)
        return Watermark.from_json(value)

    async def save(self, key: str, mark: Watermark, about: dict[str, Any]) -> None:
        from airflow.sdk import Variable
        from asgiref.sync import sync_to_async

        await sync_to_async(Variable.set)(
            key,
            {**about, **mark.to_json()},
            description="The last Foundry dataset transaction a dataset watcher announced (airflow-provider-"
            "modelstudio). Delete it to make the watcher start again from the branch's newest transaction.",
            serialize_json=True,
        )
