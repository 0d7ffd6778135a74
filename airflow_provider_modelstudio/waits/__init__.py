"""One way to wait on any Foundry resource: a :class:`~.waitable.Waitable` describes a kind of resource once
(:mod:`.kinds`), and the same code waits on every kind, in the worker (:mod:`.worker`), in a sensor's poke, and
in the triggerer (:mod:`airflow_provider_modelstudio.triggers.poller` and
:mod:`airflow_provider_modelstudio.triggers.resource_wait`)."""
