"""Per-device rate limiting: a token bucket per device id.

A request is *checked* against its claimed device before any work, but only *charged* once the
device's signature has verified — so a stranger who puts another tablet's id on junk cannot use up
that tablet's allowance. Time is a parameter (seconds as a float).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``rate`` requests per second on average, bursts up to ``burst``; thread-safe."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def _refill(self, key: str, now: float) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()  # bounded memory; forgetting only ever grants more
            b = self._buckets[key] = _Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + max(0.0, now - b.at) * self.rate)
        b.at = now
        return b

    def check(self, key: str, now: float) -> float:
        """0 if a request may proceed, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            b = self._refill(key, now)
            return 0.0 if b.tokens >= 1.0 else (1.0 - b.tokens) / self.rate

    def charge(self, key: str, now: float) -> None:
        if self.rate <= 0:
            return
        with self._lock:
            b = self._refill(key, now)
            b.tokens -= 1.0
