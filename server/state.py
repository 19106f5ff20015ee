"""What the running app holds: settings, keys, the writer and readers, the clock and randomness.

One object on ``app.state.laogan``; handlers receive it, never module-level state.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from schema.keys import KeyPair
from server.ratelimit import RateLimiter
from server.settings import Settings
from server.writer import Readers, Writer


def utc_now() -> datetime:
    """The real clock; the one place the server reads it (passed in everywhere else)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    settings: Settings
    keys: KeyPair
    writer: Writer
    readers: Readers
    clock: Callable[[], datetime]
    rng: random.Random
    limiter: RateLimiter

    def close(self) -> None:
        self.readers.close()
        self.writer.close()
