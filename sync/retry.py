"""When to retry a request and how long to wait: capped exponential backoff with full jitter.

The delay before retry ``n`` (1-based) is uniform in ``[0, min(max_delay, base_delay * 2**(n-1))]``,
drawn from an injected ``random.Random``; a server's ``Retry-After`` (seconds or an HTTP date) is
used instead when present, capped at ``max_delay`` as well.  Nothing here sleeps or reads a clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

_MAX_EXPONENT = 32


@dataclass(frozen=True)
class Backoff:
    """Retry policy: at most ``max_attempts`` tries, delays capped at ``max_delay`` seconds."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("max_attempts must be >= 1 and delays non-negative")

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, _MAX_EXPONENT))
        return rng.uniform(0.0, ceiling)


def retryable(status: int, *, idempotent: bool) -> bool:
    """Whether a response status is worth retrying. A request that may have taken effect (not
    idempotent) is retried only on statuses that say the server did not process it."""
    if idempotent:
        return status == 429 or status >= 500
    return status in (429, 503)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None or now.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)
