"""Names that moved between Airflow 3.1 and 3.3, imported from wherever this Airflow has them."""

from __future__ import annotations

try:
    from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import (  # type: ignore[attr-defined,no-redef]
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` setting."""
    try:
        from airflow.sdk import conf
    except ImportError:  # Airflow < 3.2
        from airflow.configuration import conf  # type: ignore[assignment]
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


__all__ = ["AirflowFailException", "AirflowSensorTimeout", "AirflowSkipException", "default_deferrable"]
