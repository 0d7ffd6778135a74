import pytest

from airflow_provider_modelstudio.runs.status import Verdict, is_unknown, judge


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("RUNNING", Verdict.WAIT),
        ("SUCCEEDED", Verdict.SUCCEEDED),
        ("FAILED", Verdict.FAILED),
        ("CANCELED", Verdict.FAILED),
    ],
)
def test_known_statuses_are_judged(status, verdict):
    assert judge(status) is verdict


@pytest.mark.parametrize("status", ["QUEUED", "CANCELLED", "succeeded", "", None, 3])
def test_an_unknown_status_means_keep_waiting(status):
    assert judge(status) is Verdict.WAIT
    assert is_unknown(status)


def test_known_statuses_are_not_unknown():
    assert not any(is_unknown(s) for s in ("RUNNING", "SUCCEEDED", "FAILED", "CANCELED"))
