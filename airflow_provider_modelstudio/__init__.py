"""Apache Airflow provider for Palantir Foundry Model Studio."""

from __future__ import annotations

__version__ = "0.1.0"
