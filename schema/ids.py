"""Row ids: UUIDs in the registry's lower-case 8-4-4-4-12 form, made by whoever creates the row.

New rows get a **time-ordered** UUID (version 7, RFC 9562): 48 bits of unix milliseconds, then 74
random bits. Rows created around the same time sort together, so the central database inserts a
new row's key at the end of its primary-key index (and of ``change_log``'s row index) instead of at a
random place: measured, half the pages a 20-row upload writes to the WAL (docs/benchmarks.md). The
random bits keep ids from different tablets apart. The creation time in the id is no secret beyond
what the row records anyway (capture time). Older ids (version 4) stay valid: only the form is checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

_RAND_A = (1 << 12) - 1
_RAND_B = (1 << 62) - 1


def time_ordered_id(now: datetime, getrandbits: Callable[[int], int]) -> str:
    """A version-7 UUID for a row created at ``now`` (aware or UTC), random bits from ``getrandbits``."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    ms = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | (((rand >> 62) & _RAND_A) << 64) | (0b10 << 62) | (rand & _RAND_B)
    return str(uuid.UUID(int=value))
