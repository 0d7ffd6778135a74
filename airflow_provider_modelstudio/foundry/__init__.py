"""The Foundry API contract, in one place.

Endpoints, request preparation, response parsing, error mapping, retry decisions, authentication and
connection settings live here. The sync (``requests``) and async (``httpx``) clients are thin transports
over this contract; nothing in this package knows about Airflow operators or DAGs.
"""
