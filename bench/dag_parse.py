"""How long Airflow takes to parse each example DAG file, the way its DAG processor does.

Run by ``bench/run.py`` (section ``parse``) with the Foundry emulator's connection in
``AIRFLOW_CONN_FOUNDRY_DEFAULT``, ``AIRFLOW_HOME`` at a scratch directory and ``TMPDIR`` at another, where
``training_data()`` keeps its answer. Every sample is a fresh Python process (``python -c``) that times, in
turn, ``import airflow.sdk`` (the baseline every DAG file pays); what a DAG processor has loaded before it parses
any file (``airflow.models.DagBag`` and ``airflow.dag_processing.processor``, which loads the task supervisor a
connection lookup would otherwise import); and, after ``gc.freeze()`` (the DAG processor's manager freezes its
objects before it forks a parsing process, so a garbage collection in the child does not scan them),
``DagBag(dag_folder=FILE)``: the fill, what the file adds on top. A warm-up round first parses every file once,
which writes the bytecode (``run.py`` unsets ``PYTHONDONTWRITEBYTECODE``) and keeps the Foundry answer of
``retrain_on_new_data.py`` in its file cache; the emulator's request counters, read around the measured rounds,
show whether the measured parses asked Foundry at all. The order of the files rotates from round to round; a
file defining one empty DAG is measured alongside as a reference. Writes JSON to ``--result-file``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "example_dags"
REFERENCE = "(reference) one empty DAG"
REFERENCE_SOURCE = 'from airflow.sdk import DAG\n\ndag = DAG("reference_empty", schedule=None)\n'
TARGET_MS = 500.0
"""Each example DAG file's median fill, over ``import airflow.sdk``."""
STEPS = ("sdk", "machinery", "fill")
_RESULT = "BENCH-RESULT "


_CHILD = """
import json, sys, time
started = time.perf_counter()
import airflow.sdk
sdk = time.perf_counter()
from airflow.models import DagBag
import airflow.dag_processing.processor
import gc, inspect  # already loaded by Airflow
machinery = time.perf_counter()
gc.freeze()
if "include_examples" in inspect.signature(DagBag).parameters:  # Airflow < 3.3
    bag = DagBag(dag_folder={path!r}, include_examples=False)
else:
    bag = DagBag(dag_folder={path!r})
filled = time.perf_counter()
if bag.import_errors:
    sys.exit(f"import errors: {{bag.import_errors}}")
ms = {{"sdk": sdk - started, "machinery": machinery - sdk, "fill": filled - machinery}}
print("BENCH-RESULT " + json.dumps({{"ms": {{k: v * 1000 for k, v in ms.items()}}, "dags": sorted(bag.dag_ids)}}))
"""
"""A fresh process: ``import airflow.sdk``, what a DAG processor loads before it parses a file, then the fill of
one file with the objects loaded so far frozen out of the garbage collector's reach, each timed."""


def _sample(path: Path, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-c", _CHILD.format(path=str(path))]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(_RESULT):
            sample: dict[str, Any] = json.loads(line.removeprefix(_RESULT))
            return sample
    raise RuntimeError(f"parsing {path.name} failed (exit {done.returncode}): {(done.stdout + done.stderr)[-2000:]}")


def _requests(admin_url: str) -> int:
    """Every request the emulator has answered so far."""
    from airflow_provider_modelstudio.emulator import ADMIN_HEADERS

    request = urllib.request.Request(f"{admin_url}/_emulator/counters", headers=dict(ADMIN_HEADERS))
    with urllib.request.urlopen(request, timeout=30) as answer:
        counters = json.loads(answer.read())
    return sum(sum(by_status.values()) for by_status in counters["requests"].values())


def _summary(name: str, samples: list[dict[str, Any]]) -> dict[str, Any]:
    ms = {step: [s["ms"][step] for s in samples] for step in STEPS}
    return {
        "file": name,
        "dags": samples[0]["dags"],
        "samples_ms": ms,
        "median_ms": {step: statistics.median(values) for step, values in ms.items()},
        "min_ms": {step: min(values) for step, values in ms.items()},
        "whole_median_ms": statistics.median(sum(s["ms"].values()) for s in samples),
    }


def measure(rounds: int, admin_url: str, scratch: Path) -> dict[str, Any]:
    """Each example DAG file (and the reference file) parsed once to warm up, then ``rounds`` times."""
    load_at_start = os.getloadavg()[0]
    reference = scratch / "reference_empty.py"
    reference.write_text(REFERENCE_SOURCE)
    files = {path.name: path for path in sorted(EXAMPLE_DAGS.glob("*.py"))} | {REFERENCE: reference}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    for path in files.values():
        _sample(path, env)
    before = _requests(admin_url)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in files}
    names = list(files)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_sample(files[name], env))
        print(f"  example DAG files: round {round_number + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {
        "rounds": rounds,
        "files": [_summary(name, found) for name, found in samples.items()],
        "warm_up_requests": before,
        "measured_requests": _requests(admin_url) - before,
        "load_average": [load_at_start, os.getloadavg()[0]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--admin-url", required=True, help="the Foundry emulator's URL (its request counters)")
    parser.add_argument("--scratch", type=Path, required=True, help="a directory for the reference DAG file")
    parser.add_argument("--result-file", type=Path, required=True)
    args = parser.parse_args()
    args.result_file.write_text(json.dumps(measure(args.rounds, args.admin_url, args.scratch)))


if __name__ == "__main__":
    main()
