"""scripts/recheck_mutants.py applies a mutant's diff (as ``mutmut show`` prints it, without indentation) to the
file it came from, once, keeping the file's indentation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "recheck_mutants.py"
_spec = importlib.util.spec_from_file_location("recheck_mutants", SCRIPT)
assert _spec is not None and _spec.loader is not None
recheck_mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recheck_mutants)

SOURCE = """class Poller:
    def interval(self) -> float:
        return min(self.asked, default=30.0)

    def other(self) -> float:
        return 1.0
"""

DIFF = """--- pkg/poller.py
+++ pkg/poller.py
@@ -1,2 +1,2 @@
 def interval(self) -> float:
-    return min(self.asked, default=30.0)
+    return min(self.asked, default=31.0)
"""


def test_a_mutant_replaces_its_lines_with_the_files_indentation() -> None:
    assert recheck_mutants.mutated_source(SOURCE, DIFF) == SOURCE.replace("default=30.0", "default=31.0")


def test_lines_that_occur_twice_or_not_at_all_are_not_guessed() -> None:
    assert recheck_mutants.mutated_source(SOURCE + SOURCE, DIFF) is None
    assert recheck_mutants.mutated_source(SOURCE.replace("30.0", "20.0"), DIFF) is None
    assert recheck_mutants.mutated_source(SOURCE, "--- a\n+++ a\n") is None
