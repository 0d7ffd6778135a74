"""The build read rate limit: get_build and get_builds_batch share N per second and M in flight."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from airflow_provider_modelstudio.emulator import DEMO_STUDIO, FoundryEmulator, ratelimit
from tests.emulator.helpers import BUILDS, PREVIEW, STUDIOS, api_client, launch


def limit(emu: FoundryEmulator, per_second: int, concurrent: int = 25) -> None:
    emu.set_scenario({"build_rate_limit": {"enabled": True, "per_second": per_second, "concurrent": concurrent}})


def test_build_reads_beyond_the_per_second_limit_get_429(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    limit(emu, per_second=4)

    statuses = [client.get(f"{BUILDS}/{build_rid}").status_code for _ in range(10)]

    assert statuses == [200] * 4 + [429] * 6
    assert emu.counters()["requests"]["get_build"] == {"200": 4, "429": 6}


def test_get_build_and_get_builds_batch_share_the_limit(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    limit(emu, per_second=2)

    first = client.get(f"{BUILDS}/{build_rid}").status_code
    second = client.post(f"{BUILDS}/getBatch", json=[{"buildRid": build_rid}]).status_code
    third = client.post(f"{BUILDS}/getBatch", json=[{"buildRid": build_rid}]).status_code

    assert (first, second, third) == (200, 200, 429)


class LimiterClock:
    """Stands in for ``time`` in the (in-process) emulator's rate limiter: stands still until ``sleep`` moves it."""

    def __init__(self) -> None:
        self.now = 500.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_build_reads_are_admitted_again_after_a_second(
    emu: FoundryEmulator, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = LimiterClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    build_rid = launch(client)["buildRid"]
    limit(emu, per_second=2)
    [client.get(f"{BUILDS}/{build_rid}") for _ in range(3)]

    clock.sleep(1.05)

    assert client.get(f"{BUILDS}/{build_rid}").status_code == 200


def test_build_reads_beyond_the_concurrency_limit_get_429(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    limit(emu, per_second=100, concurrent=2)
    emu.set_faults("get_build", latency_seconds=0.4)

    def read(_: int) -> int:
        with api_client(emu) as own:
            return own.get(f"{BUILDS}/{build_rid}").status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(read, range(5)))

    assert statuses == [200, 200, 429, 429, 429]


def test_rate_limit_is_off_by_default(client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]

    assert {client.get(f"{BUILDS}/{build_rid}").status_code for _ in range(20)} == {200}


def test_rate_limit_spares_the_other_endpoints(emu: FoundryEmulator, client: httpx.Client) -> None:
    limit(emu, per_second=1)

    assert {client.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW).status_code for _ in range(5)} == {200}
