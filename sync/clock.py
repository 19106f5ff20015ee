"""Time as the tablet stores it: the clock is always injected, these only format and parse.

Timestamps in the tablet database are ``YYYY-MM-DD HH:MM:SS`` in UTC (as SQLite's ``datetime()``
writes them, and as the server stores them); envelopes carry unix seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns "now"; naive results are taken to be UTC."""

_FORMAT = "%Y-%m-%d %H:%M:%S"


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso(ts: datetime) -> str:
    """``ts`` as stored: ``YYYY-MM-DD HH:MM:SS`` UTC, whole seconds."""
    return _utc(ts).strftime(_FORMAT)


def unix(ts: datetime) -> int:
    """``ts`` as whole unix seconds."""
    return int(_utc(ts).timestamp())


def parse_iso(text: str) -> datetime:
    """The aware UTC datetime of a stored timestamp (any ISO form ``fromisoformat`` reads)."""
    return _utc(datetime.fromisoformat(text))
