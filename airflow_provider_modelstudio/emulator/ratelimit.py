"""The build read rate limit: at most N requests in any one-second window and M in flight.

Counted in real (monotonic) time, because it limits request traffic, not emulated work; all callers
share one budget. Not thread-safe by itself: the state's lock guards it.
"""

from __future__ import annotations

import time
from collections import deque

from airflow_provider_modelstudio.emulator.scenario import RateLimitSettings


class RateLimiter:
    """Admits or refuses requests.

    :param settings: the limits.
    """

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._admitted: deque[float] = deque()
        self._in_flight = 0

    def try_acquire(self) -> bool:
        """Admit one request if both limits allow it; the caller must :meth:`release` an admitted one."""
        now = time.monotonic()
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= self.settings.per_second or self._in_flight >= self.settings.concurrent:
            return False
        self._admitted.append(now)
        self._in_flight += 1
        return True

    def release(self) -> None:
        """Mark an admitted request as finished (a no-op on a limiter replaced meanwhile by a new scenario)."""
        self._in_flight = max(0, self._in_flight - 1)
