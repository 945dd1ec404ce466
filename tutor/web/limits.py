"""Sign-in attempts, rate-limited per client address."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SignInLimiter:
    """At most ``failures`` wrong tokens per ``window`` seconds from one address.

    A token has 256 bits, so guessing is hopeless anyway; the limit keeps a script from
    hammering the server (each attempt reads the token file) and makes the attempts
    visible as refusals. A right token clears the address's record.
    """

    failures: int = 5
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 if it may now."""
        now = self.clock()
        times = self._seen.get(address)
        if times is None:
            return 0.0
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._seen[address]
            return 0.0
        if len(times) < self.failures:
            return 0.0
        return self.window - (now - times[0])

    def failed(self, address: str) -> None:
        self._seen.setdefault(address, deque()).append(self.clock())
        if len(self._seen) > 10_000:  # a flood of addresses: keep memory bounded
            oldest = next(iter(self._seen))
            del self._seen[oldest]

    def succeeded(self, address: str) -> None:
        self._seen.pop(address, None)
