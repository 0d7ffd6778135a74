"""Mutation score per package from mutmut's results in ``mutants/`` (run ``make mutation`` first).

Prints, for each mutated package, how many mutants tests killed, mypy rejected, timed out, survived or were
reached by no test, and two scores: all caught over all mutants, and killed by a test over the mutants that
type-check (the stricter figure: it leaves out what mypy alone catches).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 37: "type"}
TIMEOUTS = {36, -24, 24, 152, 255}
PACKAGE = "airflow_provider_modelstudio"


def status(exit_code: int | None) -> str:
    if exit_code is None:
        return "not run"
    return "timeout" if exit_code in TIMEOUTS else STATUS.get(exit_code, "other")


def counts(root: Path) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for meta in sorted((root / "mutants" / PACKAGE).rglob("*.py.meta")):
        package = meta.relative_to(root / "mutants" / PACKAGE).parts[0]
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        found.setdefault(package, Counter()).update(status(code) for code in exit_codes)
    return found


def main(root: Path) -> int:
    found = counts(root)
    if not found:
        print(f"No mutmut results under {root / 'mutants'}: run `make mutation` first.", file=sys.stderr)
        return 1
    columns = ["killed", "type", "timeout", "survived", "no tests", "not run"]
    print(f"{'package':10} {'mutants':>7} " + " ".join(f"{c:>8}" for c in columns) + "   caught  by tests")
    total: Counter[str] = Counter()
    for package, counter in [*found.items(), ("all", total)]:
        if package != "all":
            total.update(counter)
        mutants = sum(counter.values())
        caught = counter["killed"] + counter["type"] + counter["timeout"]
        typed = mutants - counter["type"]
        by_tests = (counter["killed"] + counter["timeout"]) / typed if typed else 0.0
        cells = " ".join(f"{counter[c]:8d}" for c in columns)
        print(f"{package:10} {mutants:7d} {cells}   {caught / mutants:6.1%}  {by_tests:8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
