"""The "Model releases" page: an Airflow UI view of what the provider's tasks recorded about each release.

- :mod:`.records` reads the XCom the launch, gate, promote and deploy tasks pushed (and their task instances'
  states) from Airflow's metadata database, for the DAGs a user may read; nothing else is stored.
- :mod:`.timeline` turns those records into releases (one per retrain's candidate version), grouped per live
  deployment and per studio, with the gate's metric series for the trend charts.
- :mod:`.serving` reads what each live deployment serves now through the hook's async reads, cached briefly.
- :mod:`.app` is the FastAPI app (the page and its JSON API) and :mod:`.plugin` the Airflow plugin that mounts
  it in the API server and adds the menu entry.

See ``docs/releases-view.md`` for why it is built this way and what differs between Airflow 3.1 and 3.3.
"""
