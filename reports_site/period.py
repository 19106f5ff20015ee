"""The report month and the windows every indicator is measured over.

Everything is derived from one month (``--as-of YYYY-MM``); no clock is read. The default month is
the latest month the data covers to its last day.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from reports_site.errors import BadAsOf

MONTHS_IN_TREND = 12
RECENT_DAYS = 90
VISIT_DAYS = 7
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ACTIVITY = (("contacts", "contacted_on"), ("visits", "visited_on"), ("service_orders", "requested_on"),
             ("three_musts", "delivered_on"), ("home_study", "delivered_on"), ("life_events", "occurred_on"))


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _add_months(d: date, n: int) -> date:
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The report month ``YYYY-MM`` and the windows derived from it."""

    month: str

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
            raise BadAsOf(f"--as-of must be a month YYYY-MM, got {text!r}")
        return cls(f"{int(m.group(1)):04d}-{int(m.group(2)):02d}")

    @property
    def start(self) -> date:
        return _month_start(int(self.month[:4]), int(self.month[5:]))

    @property
    def end(self) -> date:
        """The last day of the report month: the as-of date of every stock (who is alive, enrolled)."""
        return _add_months(self.start, 1) - timedelta(days=1)

    @property
    def months(self) -> tuple[str, ...]:
        """The trend months, oldest first, ending with the report month."""
        return tuple(_add_months(self.start, -i).strftime("%Y-%m") for i in range(MONTHS_IN_TREND - 1, -1, -1))

    @property
    def year_start(self) -> date:
        """First day of the 12-month window ending with the report month."""
        return _add_months(self.start, -(MONTHS_IN_TREND - 1))

    @property
    def recent_start(self) -> date:
        """First day of the 90-day window ending on :attr:`end`."""
        return self.end - timedelta(days=RECENT_DAYS - 1)

    @property
    def last_event_day(self) -> date:
        """Events after this day have not had their 7 days yet and are left out of timeliness."""
        return self.end - timedelta(days=VISIT_DAYS)

    @property
    def zh(self) -> str:
        return f"{int(self.month[:4])}年{int(self.month[5:])}月"

    @property
    def year_zh(self) -> str:
        first = self.months[0]
        return f"{int(first[:4])}年{int(first[5:])}月至{self.zh}"

    @property
    def epoch(self) -> int:
        """Seconds since 1970 of the report month's first day (UTC): the site's only timestamp."""
        return (self.start - date(1970, 1, 1)).days * 86400


def month_zh(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:])}月"


def default_period(conn: sqlite3.Connection) -> Period:
    """The latest month the activity data covers to its last day."""
    parts = " UNION ALL ".join(f"SELECT max({col}) FROM {tbl}" for tbl, col in _ACTIVITY)
    row = conn.execute(f"SELECT max(d) FROM (SELECT NULL AS d UNION ALL {parts})").fetchone()
    if row is None or row[0] is None:
        raise BadAsOf("the database holds no activity yet; give the report month with --as-of YYYY-MM")
    last = date.fromisoformat(str(row[0])[:10])
    p = Period(last.strftime("%Y-%m"))
    if last < p.end:
        p = Period(_add_months(p.start, -1).strftime("%Y-%m"))
    return p
