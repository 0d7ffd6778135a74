"""Re-check mutmut's survivors by hand: apply each named mutant to a scratch copy of HEAD and run the given tests.

mutmut picks the tests of a mutant from the calls it recorded, and misses calls made from asyncio tasks (the
poller, the trigger loop); it also keeps results from before tests were added. This applies each mutant (its diff
from ``mutmut show``) to a fresh copy of the committed tree and runs the tests named, so a survivor is checked
against today's tests. Run it from the checkout that holds ``mutants/``:

    .venv/bin/mutmut results | grep survived | cut -d: -f1 | .venv/bin/python scripts/recheck_mutants.py tests/foundry

It prints ``killed``, ``SURVIVED`` or ``unapplied`` (the mutated lines are not found once, e.g. code changed since)
for each mutant, and a count at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

MUTMUT = str(Path(sys.executable).with_name("mutmut"))


def mutated_source(source: str, diff: str) -> str | None:
    """``source`` with the diff's removed lines replaced by its added ones; None unless they occur exactly once."""
    minus = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    plus = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    lines = source.split("\n")
    wanted = [line.strip() for line in minus]
    found = [i for i in range(len(lines)) if [line.strip() for line in lines[i : i + len(minus)]] == wanted]
    if not minus or len(found) != 1:
        return None
    start = found[0]
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    base = len(minus[0]) - len(minus[0].lstrip())
    added = [indent + line[base:] if line.strip() else line for line in plus]
    return "\n".join([*lines[:start], *added, *lines[start + len(minus) :]])


def recheck(name: str, scratch: Path, tests: list[str]) -> str:
    diff = subprocess.run([MUTMUT, "show", name], capture_output=True, text=True, check=False).stdout
    path = next((line[4:] for line in diff.splitlines() if line.startswith("+++ ")), None)
    if path is None:
        return "unapplied"
    target = scratch / path
    original = target.read_text()
    mutated = mutated_source(original, diff)
    if mutated is None:
        return "unapplied"
    target.write_text(mutated)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *tests],
            cwd=scratch,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(scratch)},
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "killed"
    finally:
        target.write_text(original)
    return "killed" if run.returncode != 0 else "SURVIVED"


def main(tests: list[str]) -> int:
    names = [line.strip() for line in sys.stdin if line.strip()]
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        archive = subprocess.run(["git", "archive", "HEAD"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
        for name in names:
            outcome = recheck(name, scratch, tests)
            outcomes[outcome] += 1
            print(outcome, name, flush=True)
    print(", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
