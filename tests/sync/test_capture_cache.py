"""The guard stays installed between captures and prepared statements are reused; neither may let a
refused statement through, and the split capture sessions must give the one-session changeset.

The guard is an authorizer, which SQLite consults only while preparing a statement; apsw keeps
prepared statements in a cache keyed by their text. These tests pin down that a statement prepared
outside a capture (where everything is allowed) is checked again before a capture runs it.
"""

from __future__ import annotations

import collections
import contextlib
import random
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import apsw
import pytest

from schema.tables import uploadable_tables
from sync import errors
from sync.clock import iso
from sync.guard import CaptureGuard
from sync.store import TabletStore, _stamp
from tests.sync.changeset_factory import changes_by_table, record
from tests.sync.conftest import FakeClock, Seed, insert_retiree, make_store

_CONTACT = ("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
            " VALUES (?, ?, ?, '2024-05-01', 'phone', 'self')")


def _contact(conn: apsw.Connection, store: TabletStore, seed: Seed) -> None:
    conn.execute(_CONTACT, (store.new_id(), seed.unit_id, seed.retiree_id))


@pytest.mark.parametrize("sql", [
    "UPDATE units SET name = name",
    "DELETE FROM outbox WHERE seq < 0",
    "UPDATE roster_history SET new_value = 'x' WHERE id = 'none'",
    "PRAGMA user_version = 1",
])
def test_statement_cached_outside_a_capture_is_checked_inside(store: TabletStore, seeded: Seed, sql: str) -> None:
    with store.capture() as conn:  # the guard is installed from here on
        _contact(conn, store, seeded)
    version = store.conn.execute("PRAGMA user_version").fetchone()[0]
    store.conn.execute(sql)  # prepared and cached while no capture is open: allowed
    if sql.startswith("PRAGMA"):
        store.conn.execute(f"PRAGMA user_version = {version}")
    n = len(store.outbox())
    with pytest.raises(errors.CaptureError), store.capture() as conn:
        _contact(conn, store, seeded)
        conn.execute(sql)  # the same text: must be prepared again, through the guard
    assert len(store.outbox()) == n


def test_cached_refused_statement_stays_refused_in_later_captures(store: TabletStore, seeded: Seed) -> None:
    store.conn.execute("UPDATE units SET name = '城关镇'")
    for _ in range(3):
        with store.capture() as conn:
            with contextlib.suppress(errors.ReadOnlyTable):
                conn.execute("UPDATE units SET name = '改名'")
            _contact(conn, store, seeded)
        store.conn.execute("UPDATE units SET name = '城关镇'")
    assert store.conn.execute("SELECT count(*) FROM units WHERE name = '改名'").fetchone()[0] == 0


def test_the_stores_own_statements_cannot_be_run_inside_a_capture(store: TabletStore, seeded: Seed) -> None:
    for sql in ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
        with pytest.raises(errors.StatementNotAllowed), store.capture() as conn:
            conn.execute(sql)
    with pytest.raises(errors.ReadOnlyTable), store.capture() as conn:
        conn.execute("INSERT INTO outbox (seq, captured_at, changeset, status)"
                     " VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?, ?, 'pending')",
                     ("2024-05-01 08:00:00", b"T"))
    assert [e.seq for e in store.outbox()] == [1]
    assert store.conn.getautocommit()


def test_another_authorizer_is_replaced_by_the_guard(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        _contact(conn, store, seeded)
    store.conn.authorizer = None  # someone removes the guard: the next capture puts it back
    with pytest.raises(errors.ReadOnlyTable), store.capture() as conn:
        conn.execute("UPDATE units SET name = 'x'")
    assert isinstance(store.conn.authorizer, CaptureGuard)


def test_two_stores_on_one_connection_each_guard_their_captures(store: TabletStore, seeded: Seed) -> None:
    other = TabletStore(store.conn, now=FakeClock(), rng=random.Random(3))
    for s in (store, other, store, other):
        with pytest.raises(errors.ReadOnlyTable), s.capture() as conn:
            conn.execute("UPDATE staff SET name = 'x'")
        with s.capture() as conn:
            _contact(conn, s, seeded)
    assert [e.seq for e in store.pending()] == [2, 3, 4, 5]


def test_statements_are_prepared_once_not_per_capture(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        _contact(conn, store, seeded)
    guard = store.conn.authorizer
    assert isinstance(guard, CaptureGuard)
    seen: collections.Counter[tuple[int, str | None]] = collections.Counter()

    def spy(op: int, p1: str | None, p2: str | None, db: str | None, trigger: str | None) -> int:
        seen[(op, p1)] += 1
        return CaptureGuard.__call__(guard, op, p1, p2, db, trigger)

    # Wrap the installed guard without re-installing it (that would expire every statement).
    guard.__class__ = type("SpyGuard", (CaptureGuard,), {"__call__": lambda self, *a: spy(*a)})
    try:
        for _ in range(5):
            with store.capture() as conn:
                _contact(conn, store, seeded)
                conn.execute("UPDATE retirees SET phone = ? WHERE id = ?", (store.new_id(), seeded.retiree_id))
    finally:
        guard.__class__ = CaptureGuard
    assert seen[(apsw.SQLITE_INSERT, "contacts")] <= 1
    assert seen[(apsw.SQLITE_UPDATE, "retirees")] <= 1
    assert seen[(apsw.SQLITE_INSERT, "roster_history")] <= 1
    assert seen[(apsw.SQLITE_INSERT, "outbox")] == 0


def test_a_capture_gives_the_one_session_changeset(tmp_path: Path, store: TabletStore, seeded: Seed) -> None:
    """Replay a capture that touches tables before, in and after roster_history under one session
    attached to every uploadable table, on a copy of the database: the same changes, table by table in
    the same order, the same bytes for each change (a session orders the rows of one table by its own
    hash, the recorder by first touch) and so the same length."""
    fid = store.new_id()
    with store.capture() as conn:
        conn.execute("INSERT INTO family_contacts (id, unit_id, retiree_id, name, relation, phone)"
                     " VALUES (?, ?, ?, '张小三', 'son', '1')", (fid, seeded.unit_id, seeded.retiree_id))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy.db"
    shutil.copyfile(store.conn.filename, copy)
    before_history = {r[0] for r in store.conn.execute("SELECT id FROM roster_history")}

    branch, other, contact, manual = store.new_id(), store.new_id(), store.new_id(), store.new_id()
    statements: list[tuple[str, tuple[object, ...]]] = [
        ("INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?, ?, '第一支部', 'regular')",
         (branch, seeded.unit_id)),
        ("UPDATE retirees SET phone = '139', marital_status = 'widowed' WHERE id = ?", (seeded.retiree_id,)),
        ("UPDATE family_contacts SET phone = '2' WHERE id = ?", (fid,)),
        (_CONTACT, (contact, seeded.unit_id, seeded.retiree_id)),
        ("INSERT INTO roster_history (id, unit_id, retiree_id, field, new_value, changed_at)"
         " VALUES (?, ?, ?, 'note', 'x', '2024-05-01 08:00:00')", (manual, seeded.unit_id, seeded.retiree_id)),
    ]
    with store.capture(seeded.staff_id) as conn:
        insert_retiree(conn, other, seeded.unit_id, id_number="2")
        for sql, args in statements:
            conn.execute(sql, args)
    entry = store.pending()[-1]
    derived = store.conn.execute(
        "SELECT id, unit_id, retiree_id, field, old_value, new_value, changed_at, changed_by FROM roster_history"
        " WHERE id != ? ORDER BY rowid", (manual,)).fetchall()
    derived = [r for r in derived if r[0] not in before_history]
    assert {r[3] for r in derived} == {"phone", "marital_status", "family_contacts.phone"}

    def replay(c: apsw.Connection) -> None:
        insert_retiree(c, other, seeded.unit_id, id_number="2")
        for sql, args in statements:
            c.execute(sql, args)
        c.executemany("INSERT INTO roster_history (id, unit_id, retiree_id, field, old_value, new_value,"
                      " changed_at, changed_by) VALUES (?,?,?,?,?,?,?,?)", derived)

    ref = apsw.Connection(str(copy))
    try:
        ref.execute("BEGIN")
        expected = record(ref, [t.name for t in uploadable_tables()], replay)
        ref.execute("ROLLBACK")
    finally:
        ref.close()
    assert changes_by_table(entry.changeset) == changes_by_table(expected)
    assert len(entry.changeset) == len(expected)


def test_reopened_store_guards_its_first_capture(tmp_path: Path) -> None:
    store = make_store(tmp_path / "t.db")
    try:
        store.conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, 'T01', '城关镇', 'township')",
                           (store.new_id(),))
        with pytest.raises(errors.ReadOnlyTable), store.capture() as conn:
            conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, 'T02', '乙', 'township')",
                         (store.new_id(),))
        assert store.conn.execute("SELECT count(*) FROM units").fetchone()[0] == 1
    finally:
        store.close()


@pytest.mark.parametrize("ts", [
    datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2024, 1, 1, 7, 30, 5, 123, tzinfo=timezone(timedelta(hours=8))),
    datetime(2024, 3, 1, 1, 2, 3),
    datetime(1000, 1, 1, 0, 0, 0, tzinfo=UTC),
    datetime(999, 12, 31, 23, 0, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
])
def test_capture_timestamps_are_the_clock_format(ts: datetime) -> None:
    assert _stamp(ts) == iso(ts)
