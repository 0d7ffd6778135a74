from datetime import datetime

from airflow.sdk import dag, task

from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def modelstudio_quickstart():
    train = LaunchModelStudioOperator(
        task_id="train",
        model_studio_rid="ri.models.main.model-studio.demo",  # your studio's RID
        foundry_conn_id="foundry_default",
        deferrable=True,  # wait in the triggerer: no worker slot is held while the model trains
    )

    @task
    def use_new_version(result: dict) -> str:
        print(f"Run {result['run_id']} {result['build_status']}: model version {result['model_version_rid']}")
        return result["model_version_rid"]

    use_new_version(train.output)


modelstudio_quickstart()
