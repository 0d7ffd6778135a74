"""The emulator is an optional part of the distribution: its dependencies are declared in the ``emulator``
extra, no runtime module imports it, and its pytest plugin is loaded only where a user names it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib.metadata import entry_points, requires
from pathlib import Path

import airflow_provider_modelstudio.emulator

DIST = "airflow-provider-modelstudio"
EMULATOR_DIR = Path(airflow_provider_modelstudio.emulator.__file__).parent
PROVIDED_BY_THE_USERS_TEST_RUN = frozenset({"pytest"})
"""Imported by the pytest plugin only, which runs inside the user's own pytest."""
PROVIDED_BY_THE_PROVIDER = frozenset({"airflow"})
"""A dependency of the provider itself (the pytest plugin's dag.test() fixtures use it)."""

IMPORT_EVERY_RUNTIME_MODULE = """
import importlib, pathlib, sys
import airflow_provider_modelstudio as package

root = pathlib.Path(package.__file__).parent
for path in sorted(root.rglob("*.py")):
    parts = path.relative_to(root.parent).with_suffix("").parts
    if parts[1:2] != ("emulator",):
        importlib.import_module(".".join(parts).removesuffix(".__init__"))
loaded = [name for name in sys.modules if name.split(".")[0] in ("fastapi", "uvicorn") or ".emulator" in name]
print(sorted(loaded))
"""


def imported_top_level_names(source: Path) -> set[str]:
    """Top-level names of every absolute import in a file, wherever it stands (functions, TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def emulator_extra() -> set[str]:
    marker = re.compile(r"""extra\s*==\s*["']emulator["']""")
    return {
        re.split(r"[\s;<>=!~\[]", requirement)[0] for requirement in requires(DIST) or [] if marker.search(requirement)
    }


def test_no_runtime_module_imports_the_emulator_fastapi_or_uvicorn() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_RUNTIME_MODULE], capture_output=True, text=True, check=False, timeout=120
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


def test_the_emulator_extra_declares_every_third_party_module_the_emulator_imports() -> None:
    imported = set().union(*(imported_top_level_names(source) for source in EMULATOR_DIR.glob("*.py")))
    third_party = imported - set(sys.stdlib_module_names) - {"airflow_provider_modelstudio"}

    assert third_party - PROVIDED_BY_THE_USERS_TEST_RUN - PROVIDED_BY_THE_PROVIDER == emulator_extra()


def test_the_distribution_registers_no_pytest_plugin() -> None:
    assert [entry.name for entry in entry_points(group="pytest11") if entry.dist and entry.dist.name == DIST] == []
