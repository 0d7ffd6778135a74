"""The deployment test (``make e2e``): a real Airflow deployment against the Foundry emulator."""
