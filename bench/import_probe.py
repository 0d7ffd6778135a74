"""DAG-parse-cost samples of import sets: ``import airflow.sdk`` once, then each set in forked children.

Started by :mod:`parse_cost` as a fresh process:
``python bench/import_probe.py SETS_JSON [--hide-openlineage] [--repeat K]`` (``SETS_JSON``:
``{"name": ["module", ...], ...}``). The process imports ``airflow.sdk`` (timed: the baseline every DAG
file pays), then forks one child per set, K times over (all sets, then all sets again: a burst of
background load then spoils one sample of several sets rather than all samples of one). Each child first
makes every private writable page of its memory its own (``madvise(MADV_POPULATE_WRITE)``), so that the
copy-on-write faults a forked child would otherwise take during the import are not counted, then times the
set's imports with ``time.perf_counter`` and notes which modules they newly loaded. So each sample starts
from the state of a fresh process that has just imported ``airflow.sdk``, without paying that 1 to 2 s
import again. Prints one ``BENCH-RESULT`` JSON line. Linux only (``fork``, ``/proc/self/maps``, ``madvise``).

``--hide-openlineage`` makes the process behave as if ``apache-airflow-providers-openlineage`` and the
OpenLineage client libraries were not installed: before anything is imported, a finder first on
``sys.meta_path`` refuses their modules, and ``importlib.metadata`` and its backport ``importlib_metadata``
(which Airflow's provider discovery reads) stop listing their distributions, so Airflow does not see the
provider either. It does not remove any file.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

HIDDEN_MODULES = ("openlineage", "openlineage_sql", "airflow.providers.openlineage")
"""Module names (with their submodules) that ``--hide-openlineage`` makes unimportable."""
HIDDEN_DISTRIBUTION_PART = "openlineage"
"""Distributions whose name contains this are not listed under ``--hide-openlineage``."""
PROVIDER_PACKAGE = "airflow_provider_modelstudio"
_SPECIAL_MAPPINGS = ("[vvar]", "[vdso]", "[vsyscall]")
_MADV_POPULATE_WRITE = 23


def is_hidden_module(name: str) -> bool:
    return any(name == hidden or name.startswith(f"{hidden}.") for hidden in HIDDEN_MODULES)


def is_openlineage_module(name: str) -> bool:
    """A module of the OpenLineage provider or client, or Airflow's compatibility layer for it."""
    return is_hidden_module(name) or name.startswith("airflow.providers.common.compat.openlineage")


class _OpenLineageBlocker:
    """First on ``sys.meta_path``: the OpenLineage modules are not found, whatever is on disk."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> None:
        if is_hidden_module(fullname):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def _hide_distributions(distribution_class: Any) -> None:
    """Make ``distribution_class.discover`` (behind ``distributions()`` and ``entry_points()``) skip them."""
    discover = distribution_class.discover

    def discover_visible(**kwargs: Any) -> Iterator[Any]:
        for distribution in discover(**kwargs):
            name = (distribution.metadata["Name"] or "").lower().replace("_", "-")
            if HIDDEN_DISTRIBUTION_PART not in name:
                yield distribution

    distribution_class.discover = staticmethod(discover_visible)


def hide_openlineage() -> None:
    """Refuse the modules and hide the distributions; must run before anything imports OpenLineage."""
    loaded = [name for name in sys.modules if is_hidden_module(name)]
    if loaded:
        raise RuntimeError(f"OpenLineage modules are already imported, too late to hide them: {loaded[:5]}")
    sys.meta_path.insert(0, _OpenLineageBlocker())
    import importlib.metadata

    _hide_distributions(importlib.metadata.Distribution)
    try:
        import importlib_metadata
    except ModuleNotFoundError:
        return
    _hide_distributions(importlib_metadata.Distribution)


def _is_own_memory(fields: list[str]) -> bool:
    """A private writable mapping that is anonymous, the heap or stack, or a program's or library's data."""
    if fields[1] != "rw-p":
        return False
    path = fields[5] if len(fields) > 5 else ""
    if path in _SPECIAL_MAPPINGS:
        return False
    is_code = ".so" in os.path.basename(path) or path == os.path.realpath(sys.executable)
    return not path or path.startswith("[") or is_code


def _own_every_page() -> None:
    """Break copy-on-write for every page a fresh process would own, without touching what is in them.

    ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14+) faults each page in as if written to, so a private page
    shared with the parent is copied now rather than during the timed import. Writing to the pages from
    Python instead would race with the allocator's own bookkeeping in them. Regions it refuses are left.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        if _is_own_memory(fields):
            start, end = (int(part, 16) for part in fields[0].split("-"))
            libc.madvise(start, end - start, _MADV_POPULATE_WRITE)


def _measure_in_child(modules: list[str]) -> dict[str, Any]:
    _own_every_page()
    before = set(sys.modules)
    started = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    elapsed = time.perf_counter() - started
    new = set(sys.modules) - before
    return {
        "ms": elapsed * 1000,
        "new_modules": len(new),
        "requests": "requests" in new,
        "openlineage": sorted(name for name in new if is_openlineage_module(name)),
        "provider_modules": sorted(name for name in new if name.startswith(f"{PROVIDER_PACKAGE}.")),
    }


def _fork_and_measure(modules: list[str]) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without running any exit handler
        os.close(read_end)
        try:
            payload = json.dumps(_measure_in_child(modules))
        except BaseException as exc:
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    if not answer:
        raise RuntimeError(f"the child measuring {modules} died without an answer")
    result: dict[str, Any] = json.loads(answer)
    if "error" in result:
        raise RuntimeError(f"importing {modules} failed: {result['error']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", help='JSON: {"name": ["module", ...], ...}')
    parser.add_argument("--hide-openlineage", action="store_true", help="as if the OpenLineage provider were absent")
    parser.add_argument("--repeat", type=int, default=1, help="samples per set (default: %(default)s)")
    args = parser.parse_args()
    sets: dict[str, list[str]] = json.loads(args.sets)
    if args.hide_openlineage:
        hide_openlineage()
    started = time.perf_counter()
    importlib.import_module("airflow.sdk")
    sdk_ms = (time.perf_counter() - started) * 1000
    openlineage_after_sdk = sorted(name for name in sys.modules if is_openlineage_module(name))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in sets}
    for _ in range(args.repeat):
        for name, modules in sets.items():
            results[name].append(_fork_and_measure(modules))
    answer = {"sdk_ms": sdk_ms, "openlineage_after_sdk": openlineage_after_sdk, "sets": results}
    print("BENCH-RESULT " + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
