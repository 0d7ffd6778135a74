"""The emulator's clock and Foundry's timestamp format.

Emulator time is ``start + (monotonic elapsed) * time_scale + manual offset``, in UNIX seconds, so it
starts at the real wall time, can run faster than real time, and can be pushed forward by tests. It never
goes backwards. Builds finish and tokens expire on this clock. Not thread-safe by itself: the state's lock
guards it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Emulator time.

    :param time_scale: emulator seconds per real second (> 0).
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale}")
        self.time_scale = time_scale
        self._wall_start = time.time()
        self._mono_start = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """Current emulator time, UNIX seconds."""
        return self._wall_start + (time.monotonic() - self._mono_start) * self.time_scale + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        :param seconds: emulator seconds, >= 0.
        """
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; got {seconds} seconds")
        self._offset += seconds


def iso(timestamp: float) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as Foundry writes times: ``2003-05-06T12:34:56.789Z``.

    :param timestamp: UNIX seconds.
    """
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
