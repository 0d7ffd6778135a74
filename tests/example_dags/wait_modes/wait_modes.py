"""Test DAGs: the operator waiting in the worker, and the sensor in poke and reschedule mode."""

from datetime import datetime

from airflow.sdk import dag, task

from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor

STUDIO = "ri.models.main.model-studio.demo"


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def wait_in_worker():
    train = LaunchModelStudioOperator(task_id="train", model_studio_rid=STUDIO, deferrable=False, poll_interval=0.1)

    @task
    def handed_on(result: dict) -> str:
        return result["model_version_rid"]

    handed_on(train.output)


def _sensed(mode: str):
    @dag(dag_id=f"sense_by_{mode}", schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
    def sense():
        launch = LaunchModelStudioOperator(task_id="launch", model_studio_rid=STUDIO, wait_for_completion=False)
        ModelStudioRunSensor(task_id="wait", run=launch.output, mode=mode, poke_interval=0.2, deferrable=False)

    return sense()


wait_in_worker()
_sensed("poke")
_sensed("reschedule")
