"""The deploy half: from a trained model version to a live deployment that serves it.

The logic behind the deploy operators and sensor lives here, apart from Airflow: the quality gate
(:mod:`.gate_arguments`, :mod:`.gate`, :mod:`.metrics`, :mod:`.lineage`), promotion, serving and the smoke
test. These modules reach Foundry only through the hook's methods, handed to them; none imports the hook,
``requests`` or ``httpx`` at run time, so operators can import them while a DAG is parsed.
"""
