from airflow_provider_modelstudio.foundry.shapes import read_run, run_of
from airflow_provider_modelstudio.runs.result import build_result, xcom_entries

RUN = {
    "runId": "a1b2c3d4e5f6",
    "buildRid": "ri.foundry-build.main.build.b1",
    "jobRid": "ri.foundry-build.main.job.j1",
    "configVersion": 3,
    "startedBy": "user-1",
    "startedTime": "2003-05-06T12:34:56.789Z",
    "buildStatus": "RUNNING",
    "futureField": {"ignored": True},
    "resolvedOutputs": {
        "model": {
            "type": "model",
            "modelRid": "ri.models.main.model.m1",
            "modelVersionRid": "ri.models.main.model-version.v1",
        }
    },
}


def result_of(run, status="SUCCEEDED"):
    return build_result(
        read_run(run, what="the test"),
        build_status=status,
        build_url="https://x/b",
        model_studio_rid="ri.models.main.model-studio.s",
    )


def test_a_single_model_output_gives_plain_rids():
    result = result_of(RUN)
    assert result["model_version_rid"] == "ri.models.main.model-version.v1"
    assert result["model_rid"] == "ri.models.main.model.m1"
    assert result["build_status"] == "SUCCEEDED"
    assert result["run_id"] == "a1b2c3d4e5f6"
    assert result["config_version"] == 3
    assert result["resolved_outputs"] == RUN["resolvedOutputs"]


def test_several_model_outputs_give_rids_by_alias():
    run = dict(RUN)
    run["resolvedOutputs"] = {
        "model": RUN["resolvedOutputs"]["model"],
        "baseline": {
            "type": "model",
            "modelRid": "ri.models.main.model.m2",
            "modelVersionRid": "ri.models.main.model-version.v2",
        },
    }
    result = result_of(run)
    assert result["model_version_rid"] == {
        "model": "ri.models.main.model-version.v1",
        "baseline": "ri.models.main.model-version.v2",
    }
    assert set(result["model_outputs"]) == {"model", "baseline"}


def test_missing_resolved_outputs_read_as_none():
    run = {k: v for k, v in RUN.items() if k != "resolvedOutputs"}
    result = result_of(run)
    assert result["resolved_outputs"] == {}
    assert result["model_version_rid"] is None
    assert result["model_outputs"] == {}


def test_an_output_of_an_unknown_type_is_kept_raw_but_not_read_as_a_model():
    run = dict(RUN)
    run["resolvedOutputs"] = {"report": {"type": "dataset", "datasetRid": "ri.foundry.main.dataset.d"}}
    result = result_of(run)
    assert result["model_version_rid"] is None
    assert result["resolved_outputs"] == run["resolvedOutputs"]


def test_xcom_entries_hold_the_launch_keys():
    entries = xcom_entries(result_of(RUN, "RUNNING"))
    assert set(entries) == {"run_id", "build_rid", "job_rid", "config_version", "model_version_rid", "build_url"}


def test_the_run_inside_a_result_gives_back_the_same_result():
    result = result_of(RUN)
    back = run_of(result)
    assert back is not None
    assert (
        build_result(
            back, build_status="SUCCEEDED", build_url="https://x/b", model_studio_rid=result["model_studio_rid"]
        )
        == result
    )
