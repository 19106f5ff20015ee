"""``bench_canned_queries(db_path)``: p95 time of every canned query, on connections set up as Datasette's.

Each query runs ``runs`` times province-wide (no unit, default month) for both roles — ``senior`` on the
central file, ``auditor`` on the masked database with the central file attached — fetching at most
``max_rows`` rows as Datasette would; queries with a ``unit`` parameter run once more for the largest
county (``…@county``), which is how they are mostly used, and queries with a ``month`` parameter once more
for the month whose three-musts notices fall due to the most units (``…@YYYY-MM``: the notice queries'
worst month; other months cost the notice queries far less). The first result is a baseline measured in the same run (a full
scan of ``retirees``), so callers print ratios rather than absolute times. "Today" defaults to the day
of the latest contact in the database, so a generated database is measured at its own date.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from server.audit.ledgercheck import LedgerCheck
from server.audit.masking import build_masked_db, install, readonly_uri
from server.audit.names import TODAY_FN, VERIFY_FN
from server.audit.queries import canned_queries
from server.audit.sqlbits import Role
from server.db import open_sqlite3_readonly

BASELINE = "baseline: SELECT count(*) FROM retirees WHERE deceased_on IS NULL"


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _prepare(conn: sqlite3.Connection, today: str, verdict: Callable[[], str]) -> sqlite3.Connection:
    conn.create_function(TODAY_FN, 0, lambda: today, deterministic=True)
    conn.create_function(VERIFY_FN, 0, verdict)
    conn.execute("PRAGMA temp_store = MEMORY")  # as the audit app's connections
    return conn


def _timed(conn: sqlite3.Connection, sql: str, params: dict[str, str], runs: int, max_rows: int,
           timer: Callable[[], float]) -> float:
    samples = []
    for _ in range(runs):
        t0 = timer()
        conn.execute(sql, params).fetchmany(max_rows + 1)
        samples.append((timer() - t0) * 1000.0)
    return _p95(samples)


def _largest_notice(conn: sqlite3.Connection, day: str) -> str:
    """The notice (三必须事项) due by ``day`` that is due to the most units (``notice_unreached``'s worst case)."""
    row = conn.execute(
        "WITH RECURSIVE sub(notice_id, unit_id) AS (SELECT id, unit_id FROM notices WHERE due_by <= ?"
        " UNION ALL SELECT s.notice_id, u.id FROM sub s JOIN units u ON u.parent_id = s.unit_id)"
        " SELECT notice_id FROM sub GROUP BY notice_id ORDER BY count(*) DESC, notice_id LIMIT 1", (day,)).fetchone()
    return str(row[0]) if row else ""


def _busiest_month(conn: sqlite3.Connection, day: str) -> str:
    """The month up to ``day`` whose notices (三必须事项) fall due to the most units: the notice queries'
    worst month (a month where county-wide items fall due costs many times an ordinary one)."""
    row = conn.execute(
        "WITH RECURSIVE sub(month, unit_id) AS (SELECT substr(due_by, 1, 7), unit_id FROM notices WHERE due_by <= ?"
        " UNION ALL SELECT s.month, u.id FROM sub s JOIN units u ON u.parent_id = s.unit_id)"
        " SELECT month FROM sub GROUP BY month ORDER BY count(*) DESC, month LIMIT 1", (day,)).fetchone()
    return str(row[0]) if row else ""


def bench_canned_queries(db_path: Path, *, runs: int = 5, today: date | None = None, keys_dir: Path | None = None,
                         max_rows: int = 2000, timer: Callable[[], float] = time.perf_counter
                         ) -> list[tuple[str, float]]:
    """[(name, p95 milliseconds)]: the baseline first, then ``senior:<query>[@county]`` and
    ``auditor:<query>[@county]``."""
    db_path = Path(db_path)
    check = LedgerCheck(db_path, keys_dir or db_path.parent / "keys")
    with tempfile.TemporaryDirectory(prefix="laogan-bench-") as tmp:
        masked = Path(tmp) / "masked.db"
        build_masked_db(masked)
        central = _prepare(open_sqlite3_readonly(db_path), "", check.verdict_json)
        try:
            if today is None:
                row = central.execute("SELECT max(contacted_on) FROM contacts").fetchone()
                today = date.fromisoformat(row[0]) if row and row[0] else date(2026, 1, 1)
            day = today.isoformat()
            central.create_function(TODAY_FN, 0, lambda: day, deterministic=True)
            rid = central.execute("SELECT id FROM retirees LIMIT 1").fetchone()
            params = {"unit": "", "month": "", "tbl": "retirees", "row_id": rid[0] if rid else "",
                      "notice": _largest_notice(central, day)}
            county = central.execute(
                "SELECT c.code FROM units c JOIN units t ON t.parent_id = c.id JOIN retirees r ON r.unit_id = t.id"
                " WHERE c.level = 'county' GROUP BY c.id ORDER BY count(*) DESC LIMIT 1").fetchone()
            local = {**params, "unit": county[0] if county else ""}
            busiest = {**params, "month": _busiest_month(central, day)}
            out = [(BASELINE, _timed(central, BASELINE.split(": ", 1)[1], {}, runs, max_rows, timer))]
            auditor = _prepare(sqlite3.connect(readonly_uri(masked), uri=True), day, check.verdict_json)
            try:
                install(auditor, db_path)
                pairs: tuple[tuple[Role, sqlite3.Connection], ...] = (("senior", central), ("auditor", auditor))
                for role, conn in pairs:
                    for q in canned_queries(role):
                        out.append((f"{role}:{q.name}", _timed(conn, q.sql, params, runs, max_rows, timer)))
                        if "unit" in q.params:
                            out.append((f"{role}:{q.name}@county", _timed(conn, q.sql, local, runs, max_rows, timer)))
                        if "month" in q.params and busiest["month"]:
                            out.append((f"{role}:{q.name}@{busiest['month']}",
                                        _timed(conn, q.sql, busiest, runs, max_rows, timer)))
            finally:
                auditor.close()
        finally:
            central.close()
            check.close()
    return out
