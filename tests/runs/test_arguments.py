import re
from datetime import timedelta

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.runs import arguments


@pytest.mark.parametrize("value", [0, -1, "30", True, None])
def test_seconds_must_be_positive_numbers(value):
    with pytest.raises(FoundryConfigError, match="poll_interval="):
        arguments.check_seconds("poll_interval", value)


def test_seconds_accept_timedelta():
    assert arguments.check_seconds("timeout", timedelta(minutes=2)) == 120.0


def test_optional_seconds_accept_none_and_say_so_on_error():
    assert arguments.check_optional_seconds("timeout", None) is None
    with pytest.raises(FoundryConfigError, match="None for no limit"):
        arguments.check_optional_seconds("timeout", -5)


def test_a_templated_rid_is_checked_only_once_rendered():
    arguments.check_studio_rid("{{ params.studio }}", rendered=False)
    with pytest.raises(FoundryConfigError, match=re.escape("model_studio_rid='{{ params.studio }}'")):
        arguments.check_studio_rid("{{ params.studio }}", rendered=True)


def test_a_literal_bad_rid_is_refused_at_once():
    with pytest.raises(FoundryConfigError, match=r"ri\.models\.<instance>\.model-studio\.<locator>"):
        arguments.check_studio_rid("my-studio", rendered=False)


@pytest.mark.parametrize("value", ["false", 0, 1, None])
def test_a_flag_must_be_a_bool_not_something_python_would_take_as_one(value):
    with pytest.raises(FoundryConfigError, match=r"deferrable=.* must be True or False"):
        arguments.check_flag("deferrable", value)


def test_an_optional_flag_accepts_none_for_the_default():
    assert arguments.check_optional_flag("deferrable", None) is None
    with pytest.raises(FoundryConfigError, match="Or None for the default"):
        arguments.check_optional_flag("deferrable", "yes")


def test_another_tasks_output_is_checked_only_once_resolved():
    from airflow.sdk import DAG, task

    with DAG("args", schedule=None):

        @task
        def pick() -> str:
            return "ri.models.main.model-studio.demo"

        arguments.check_studio_rid(pick(), rendered=False)


def test_a_literal_run_must_be_a_launch_result():
    with pytest.raises(FoundryConfigError, match="run=\\['x'\\] is not a LaunchModelStudioOperator result"):
        arguments.check_run(["x"], rendered=False)


@pytest.mark.parametrize("value", ["", "  ", 42])
def test_text_must_be_a_non_empty_string(value):
    with pytest.raises(FoundryConfigError, match=r"run_id=.* must be a non-empty string"):
        arguments.check_text("run_id", value)


def test_non_negative_seconds_accept_zero_to_turn_off_and_positive_numbers():
    assert arguments.check_non_negative_seconds("status_log_interval", 0) == 0.0
    assert arguments.check_non_negative_seconds("status_log_interval", 5) == 5.0
    with pytest.raises(FoundryConfigError, match="Or 0 to turn it off"):
        arguments.check_non_negative_seconds("status_log_interval", False)


def test_text_known_only_when_the_task_runs_is_checked_then():
    from airflow.sdk import DAG, task

    with DAG("text", schedule=None):

        @task
        def pick() -> str:
            return "r1"

        arguments.check_text("run_id", pick())


def test_a_flag_that_is_not_a_bool_is_refused_naming_its_type():
    with pytest.raises(FoundryConfigError) as info:
        arguments.check_flag("deferrable", "false")
    assert str(info.value) == "deferrable='false' must be True or False (a bool, not str)."


@pytest.mark.parametrize("value", [None, 5, "", "  "])
def test_a_connection_id_must_be_a_non_empty_string_naming_a_foundry_connection(value):
    with pytest.raises(FoundryConfigError) as info:
        arguments.check_conn_id(value)
    assert str(info.value) == (
        f"foundry_conn_id={value!r} must name an Airflow connection of type 'foundry', e.g. 'foundry_default'."
    )


def test_bad_retry_bounds_are_refused_with_an_example_of_good_ones():
    with pytest.raises(FoundryConfigError) as info:
        arguments.check_retry({"max_attempts": 0})
    assert str(info.value).endswith(
        '. Pass a dict such as {"max_attempts": 5, "backoff_initial": 0.5, "backoff_max": 30, "max_elapsed": 120}.'
    )


def test_a_jinja_statement_is_a_template_too():
    assert arguments.is_template("{% if params.x %}a{% endif %}")
