"""Many runs through the worker and the deferred path while ~10% of requests fail and tokens keep expiring.

Short form: 30 runs. ``MODELSTUDIO_SOAK=1``: 200 runs. Every run must end with the right status and model
version, with one launch per studio and no build left running without a task.
"""

from __future__ import annotations

import random

import pytest

from tests.conftest import StartEmulator
from tests.reliability.conftest import UseEmulator
from tests.reliability.support import (
    TIME_SCALE,
    TOKEN_LIFETIME,
    check,
    fault_profile,
    faults_seen,
    in_threads,
    plan_tasks,
    run_together,
    start_deferred,
)


@pytest.mark.timeout(900)
@pytest.mark.usefixtures("launch_clock")  # launches that met a fault look for a lost run on a fake clock
def test_every_run_ends_right_through_random_faults_and_expiring_tokens(
    start_emulator: StartEmulator, use_emulator: UseEmulator, soak: bool
) -> None:
    count = 200 if soak else 30
    emulator = start_emulator({"seed": 20240611, "token_lifetime_seconds": TOKEN_LIFETIME}, TIME_SCALE)
    for endpoint, settings in fault_profile().items():
        emulator.set_faults(endpoint, **settings)
    use_emulator(emulator, "oauth2", timeout=1)
    tasks = plan_tasks(emulator, count, random.Random(7))
    deferred = [t for t in tasks if t.deferrable]
    in_worker = [t for t in tasks if not t.deferrable]

    in_threads(start_deferred, deferred)
    assert all(t.trigger is not None or t.error is not None or t.result is not None for t in deferred)
    emulator.advance(TOKEN_LIFETIME + 1)  # every token issued so far is now refused by Foundry: 401, renewal
    run_together(deferred, in_worker, limit=600)

    problems = check(emulator, tasks)
    assert not problems, "\n".join(problems)
    seen = faults_seen(emulator)
    kinds = ("429", "503", "502", "504", "drop", "hang")
    # Random draws: the short form sees most kinds, the soak every kind (test_fault_kinds hits each on purpose).
    assert sum(seen.values()) >= 10, seen
    assert sum(1 for kind in kinds if seen.get(kind)) >= (len(kinds) if soak else 4), seen
    counters = emulator.counters()
    assert counters["tokens_issued"] >= 2
    assert counters["requests"]["get_builds_batch"].get("200", 0) > 0  # the deferred waits went through the poller
