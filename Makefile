# The two commands a new machine needs: `make demo` and `make test`. Everything is installed here.
PYTHON ?= python3
AIRFLOW_NEWEST := 3.3.2
AIRFLOW_LOWEST := 3.1.8
VENV := .venv
VENV_LOWEST := .venv-af31
PIP_QUIET := --quiet --disable-pip-version-check
# pytest-xdist workers per Airflow version: the tests mostly wait on the emulator, so more workers than cores pay.
PYTEST_WORKERS ?= 4

.PHONY: install test lint typecheck pytest pytest-lowest e2e e2e-shared e2e-standalone e2e-production demo airflow bench soak mutation clean

$(VENV)/.installed: pyproject.toml Makefile
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) -e ".[dev]" "apache-airflow==$(AIRFLOW_NEWEST)"
	@touch $@

# Airflow 3.1's Fernet wrapper sets an attribute on cryptography's MultiFernet, which cryptography 51 no longer
# allows (deferring a task then fails with "Database error occurred"): the lowest Airflow is tested as it runs.
$(VENV_LOWEST)/.installed: pyproject.toml Makefile
	@test -x $(VENV_LOWEST)/bin/python || $(PYTHON) -m venv $(VENV_LOWEST)
	$(VENV_LOWEST)/bin/pip install $(PIP_QUIET) -e ".[test]" "apache-airflow==$(AIRFLOW_LOWEST)" "cryptography<51"
	@touch $@

install: $(VENV)/.installed

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed
	@echo "== tests on Airflow $(AIRFLOW_NEWEST)"
	$(VENV)/bin/python -m pytest -q -n $(PYTEST_WORKERS)

pytest-lowest: $(VENV_LOWEST)/.installed
	@echo "== tests on Airflow $(AIRFLOW_LOWEST)"
	$(VENV_LOWEST)/bin/python -m pytest -q -n $(PYTEST_WORKERS)

# The two Airflow versions' suites run side by side (mostly waiting on the emulator); -O keeps each one's
# output together.
test:
	$(MAKE) --no-print-directory -j2 $(VENV)/.installed $(VENV_LOWEST)/.installed
	$(MAKE) --no-print-directory lint typecheck
	$(MAKE) --no-print-directory -j2 -O pytest pytest-lowest

# Real deployments against the emulator, in three pytest runs side by side (each mostly waits on its deployment;
# about 4 minutes in all): one deployment on SQLite with the LocalExecutor shared by most tests; the tests that
# start deployments of their own (`make airflow` as a person runs it, and the Model releases page on a deployment
# with logins, driven in Debian's chromium, installed here when missing: CI is a clean Debian machine running as
# root; screenshots go to .airflow-test/screenshots/); and the shape platform teams run (PostgreSQL, the
# CeleryExecutor with Redis, two triggerers). -O keeps each run's output together.
CHROMIUM := /usr/bin/chromium
E2E_STANDALONE := e2e/test_make_airflow.py e2e/test_releases_page.py

$(CHROMIUM):
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver

e2e: $(VENV)/.installed
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory -j3 -O e2e-shared e2e-standalone e2e-production || status=$$?; \
	echo "== make e2e took $$(( $$(date +%s) - start )) s"; exit $$status

e2e-shared: $(VENV)/.installed
	@echo "== e2e: one deployment on SQLite with the LocalExecutor"
	$(VENV)/bin/python -m pytest -q e2e --ignore=e2e/production $(addprefix --ignore=,$(E2E_STANDALONE))

e2e-standalone: $(VENV)/.installed $(CHROMIUM)
	@echo "== e2e: make airflow, and the Model releases page in chromium"
	$(VENV)/bin/python -m pytest -q $(E2E_STANDALONE)

e2e-production: $(VENV)/.installed
	@echo "== e2e: the production shape (PostgreSQL, Celery and Redis, two triggerers)"
	$(VENV)/bin/python -m pytest -q e2e/production

# The example DAG retrain_then_deploy against the emulator; SCENARIO=worse, rollback or failure for the others;
# SCENARIO=new-data runs retrain_on_new_data in a real deployment, started by a commit to its training data.
demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py $(if $(SCENARIO),--scenario $(SCENARIO))

# Airflow's four services on loopback with the emulator, the example DAGs and a foundry_default connection, until
# Ctrl-C. PORT=8081 picks another port for the UI (default 8080).
airflow: $(VENV)/.installed
	$(VENV)/bin/python scripts/airflow_deployment.py $(if $(PORT),--port $(PORT))

bench: $(VENV)/.installed
	$(VENV)/bin/pip install $(PIP_QUIET) -e ".[bench]"
	nice -n 10 $(VENV)/bin/python bench/run.py

soak: $(VENV)/.installed
	MODELSTUDIO_SOAK=1 $(VENV)/bin/python -m pytest -q tests/reliability

# Mutation testing of foundry/, runs/, triggers/, hooks/, waits/ and datasets/ (config in pyproject.toml; about
# 1.5 h on 2 cores, results kept in mutants/ so a second run only tries what changed). The tests mostly wait on
# the emulator, so six mutants run at once; mypy (type_check_command) must be on PATH.
mutation: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" nice -n 10 $(VENV)/bin/mutmut run --max-children 6
	$(VENV)/bin/python scripts/mutation_score.py

clean:
	rm -rf $(VENV) $(VENV_LOWEST) .airflow-demo .airflow-test mutants
