"""Captured transactions: what reaches the outbox, what is refused, and what is rolled back."""

from __future__ import annotations

import contextlib
import random
import uuid
from datetime import UTC

import apsw
import pytest

from sync import errors
from sync.store import TabletStore
from tests.sync.conftest import FakeClock, Seed, changes, insert_retiree


def _contact(conn: apsw.Connection, store: TabletStore, seed: Seed, notes: str = "电话问候") -> str:
    cid = store.new_id()
    conn.execute(
        "INSERT INTO contacts (id, unit_id, retiree_id, staff_id, contacted_on, channel, with_whom, reached, notes)"
        " VALUES (?, ?, ?, ?, '2024-05-01', 'phone', 'self', 1, ?)",
        (cid, seed.unit_id, seed.retiree_id, seed.staff_id, notes),
    )
    return cid


def test_capture_puts_one_changeset_in_the_outbox(store: TabletStore, seeded: Seed, clock: FakeClock) -> None:
    clock.advance(60)
    with store.capture(seeded.staff_id) as conn:
        cid = _contact(conn, store, seeded)
    pending = store.pending()
    assert [e.seq for e in pending] == [2]
    entry = pending[0]
    assert entry.captured_at == "2024-05-01 08:01:00"
    assert entry.envelope is None and entry.status == "pending"
    [(table, op, old, new)] = changes(entry.changeset)
    assert (table, op, old) == ("contacts", "INSERT", None)
    assert new[0] == cid and "电话问候" in new


def test_update_and_delete_are_captured_with_old_values(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        cid = _contact(conn, store, seeded)
    with store.capture() as conn:
        conn.execute("UPDATE contacts SET notes = '已更新' WHERE id = ?", (cid,))
    with store.capture() as conn:
        conn.execute("DELETE FROM contacts WHERE id = ?", (cid,))
    ops = [changes(e.changeset) for e in store.pending()]
    assert [[(t, op) for t, op, _, _ in c] for c in ops] == [
        [("contacts", "INSERT")], [("contacts", "UPDATE")], [("contacts", "DELETE")],
    ]
    _, _, old, new = ops[1][0]
    assert old[0] == cid and "电话问候" in old and "已更新" in new
    _, _, old, _ = ops[2][0]
    assert old[0] == cid and "已更新" in old


def test_exception_rolls_back_data_and_outbox(store: TabletStore, seeded: Seed) -> None:
    before = store.outbox()
    with pytest.raises(RuntimeError), store.capture() as conn:
        _contact(conn, store, seeded)
        raise RuntimeError("boom")
    assert store.outbox() == before
    assert store.conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    assert store.conn.getautocommit()


def test_constraint_failure_rolls_back_everything(store: TabletStore, seeded: Seed) -> None:
    with pytest.raises(apsw.ConstraintError), store.capture() as conn:
        _contact(conn, store, seeded)
        conn.execute("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
                     " VALUES ('not-a-uuid', ?, ?, '2024-05-01', 'phone', 'self')",
                     (seeded.unit_id, seeded.retiree_id))
    assert store.pending() == []
    assert store.conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


def test_a_capture_without_changes_adds_nothing(store: TabletStore, seeded: Seed) -> None:
    n = len(store.outbox())
    with store.capture() as conn:
        assert conn.execute("SELECT count(*) FROM retirees").fetchone()[0] == 1
    with store.capture() as conn:  # changed and changed back: no net change
        conn.execute("UPDATE retirees SET phone = '1' WHERE id = ?", (seeded.retiree_id,))
        conn.execute("UPDATE retirees SET phone = NULL WHERE id = ?", (seeded.retiree_id,))
    assert len(store.outbox()) == n
    assert store.conn.execute("SELECT count(*) FROM roster_history").fetchone()[0] == 0


def test_sequence_numbers_are_contiguous_from_one(store: TabletStore, seeded: Seed) -> None:
    for i in range(5):
        with store.capture() as conn:
            _contact(conn, store, seeded, notes=f"第{i}次")
        with pytest.raises(RuntimeError), store.capture() as conn:  # rolled back: takes no number
            _contact(conn, store, seeded)
            raise RuntimeError
    assert [e.seq for e in store.outbox()] == list(range(1, 7))
    assert [e.seq for e in store.pending()] == list(range(2, 7))


def test_roster_history_rows_are_created_and_captured(store: TabletStore, seeded: Seed, clock: FakeClock) -> None:
    clock.advance(3600)
    with store.capture(seeded.staff_id) as conn:
        conn.execute("UPDATE retirees SET marital_status = 'widowed', living_alone = 1, phone = '13800000000'"
                     " WHERE id = ?", (seeded.retiree_id,))
    rows = store.conn.execute(
        "SELECT unit_id, retiree_id, field, old_value, new_value, changed_at, changed_by FROM roster_history"
        " ORDER BY field").fetchall()
    assert rows == [
        (seeded.unit_id, seeded.retiree_id, "living_alone", "0", "1", "2024-05-01 09:00:00", seeded.staff_id),
        (seeded.unit_id, seeded.retiree_id, "marital_status", "married", "widowed", "2024-05-01 09:00:00",
         seeded.staff_id),
        (seeded.unit_id, seeded.retiree_id, "phone", None, "13800000000", "2024-05-01 09:00:00", seeded.staff_id),
    ]
    [entry] = store.pending()
    got = changes(entry.changeset)
    assert sorted(t for t, _, _, _ in got) == ["retirees"] + ["roster_history"] * 3
    history_ids = {new[0] for t, op, _, new in got if t == "roster_history" and op == "INSERT"}
    assert history_ids == {r[0] for r in store.conn.execute("SELECT id FROM roster_history")}


def test_family_contact_edits_are_history_too(store: TabletStore, seeded: Seed) -> None:
    fid = store.new_id()
    with store.capture() as conn:
        conn.execute("INSERT INTO family_contacts (id, unit_id, retiree_id, name, relation, phone)"
                     " VALUES (?, ?, ?, '张小三', 'son', '1')", (fid, seeded.unit_id, seeded.retiree_id))
    assert store.conn.execute("SELECT count(*) FROM roster_history").fetchone()[0] == 0  # new row: no history
    with store.capture() as conn:
        conn.execute("UPDATE family_contacts SET phone = '2' WHERE id = ?", (fid,))
    assert store.conn.execute(
        "SELECT retiree_id, field, old_value, new_value, changed_by FROM roster_history").fetchall() == [
        (seeded.retiree_id, "family_contacts.phone", "1", "2", None)]


def test_history_is_rolled_back_with_its_capture(store: TabletStore, seeded: Seed) -> None:
    with pytest.raises(RuntimeError), store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = '9' WHERE id = ?", (seeded.retiree_id,))
        raise RuntimeError
    assert store.conn.execute("SELECT count(*) FROM roster_history").fetchone()[0] == 0


@pytest.mark.parametrize("sql", [
    "UPDATE units SET name = '改名'",
    "INSERT INTO staff (id, unit_id, name, role) VALUES ('{id}', '{unit}', '王五', 'part_time')",
    "DELETE FROM service_menu",
    "DELETE FROM outbox",
    "UPDATE sync_state SET value = '0'",
])
def test_writes_to_tables_the_tablet_does_not_own_are_refused(store: TabletStore, seeded: Seed, sql: str) -> None:
    n = len(store.outbox())
    units = store.conn.execute("SELECT * FROM units").fetchall()
    with pytest.raises(errors.ReadOnlyTable) as info, store.capture() as conn:
        _contact(conn, store, seeded)
        conn.execute(sql.format(id=store.new_id(), unit=seeded.unit_id))
    assert info.value.code == "read_only_table"
    assert len(store.outbox()) == n
    assert store.conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    assert store.conn.execute("SELECT * FROM units").fetchall() == units


def test_refused_write_stays_refused_even_if_the_error_is_swallowed(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        with contextlib.suppress(errors.ReadOnlyTable):
            conn.execute("UPDATE units SET name = '改名'")
        _contact(conn, store, seeded)
    assert store.conn.execute("SELECT name FROM units").fetchone()[0] == "城关镇"
    [entry] = store.pending()
    assert {t for t, _, _, _ in changes(entry.changeset)} == {"contacts"}


def test_a_row_that_cannot_be_recorded_refuses_the_capture(store: TabletStore, seeded: Seed) -> None:
    """TEXT that is not UTF-8 cannot be read back for the changeset: even if the block swallows the error
    of a later statement, the capture is refused whole and nothing reaches the database or the outbox."""
    n = len(store.outbox())
    phone = store.conn.execute("SELECT phone FROM retirees WHERE id = ?", (seeded.retiree_id,)).fetchone()[0]
    with pytest.raises(errors.RecordingFailed) as info, store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = CAST(x'ff' AS TEXT) WHERE id = ?", (seeded.retiree_id,))
        with contextlib.suppress(Exception):
            conn.execute("UPDATE retirees SET name = '改' WHERE id = ?", (seeded.retiree_id,))
    assert info.value.code == "recording_failed"
    assert len(store.outbox()) == n
    assert store.conn.execute("SELECT phone FROM retirees WHERE id = ?", (seeded.retiree_id,)).fetchone()[0] == phone


def test_a_delete_of_every_row_is_recorded_even_if_first_run_outside_a_capture(
        store: TabletStore, seeded: Seed) -> None:
    """Prepared with no capture running, ``DELETE FROM t`` compiles to SQLite's truncate optimisation,
    which skips the recorder's hook; the guard has the next capture prepare it again."""
    def contact(conn: apsw.Connection) -> str:
        cid = store.new_id()
        conn.execute("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached)"
                     " VALUES (?, ?, ?, '2024-05-01', 'phone', 'self', 1)", (cid, seeded.unit_id, seeded.retiree_id))
        return cid

    with store.capture() as conn:
        contact(conn)
    store.conn.execute("DELETE FROM contacts")  # outside a capture (as a reset would): not uploaded
    with store.capture() as conn:
        kept = contact(conn)
    with store.capture() as conn:
        conn.execute("DELETE FROM contacts")
    assert [(t, op, old[0]) for t, op, old, _ in changes(store.pending()[-1].changeset)] == [
        ("contacts", "DELETE", kept)]


def test_units_can_still_be_written_outside_a_capture(store: TabletStore, seeded: Seed) -> None:
    store.conn.execute("UPDATE units SET name = '新名' WHERE id = ?", (seeded.unit_id,))  # as a pull does
    assert store.pending() == []


@pytest.mark.parametrize("sql", [
    "UPDATE roster_history SET new_value = 'x'",
    "DELETE FROM roster_history",
])
def test_roster_history_is_append_only(store: TabletStore, seeded: Seed, sql: str) -> None:
    with pytest.raises(errors.AppendOnlyTable), store.capture() as conn:
        conn.execute(sql)


@pytest.mark.parametrize("sql", [
    "COMMIT", "ROLLBACK", "BEGIN", "CREATE TABLE x (a)", "DROP TABLE contacts",
    "ALTER TABLE contacts ADD COLUMN y", "ATTACH ':memory:' AS other", "PRAGMA user_version = 9",
    "PRAGMA journal_mode = DELETE", "CREATE INDEX ix ON contacts (notes)",
])
def test_statements_that_would_escape_the_capture_are_refused(store: TabletStore, seeded: Seed, sql: str) -> None:
    version = store.schema_version()
    with pytest.raises(errors.StatementNotAllowed), store.capture() as conn:
        conn.execute(sql)
    assert store.conn.getautocommit()
    assert store.schema_version() == version
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_temp_tables_savepoints_and_introspection_are_allowed(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        conn.execute("CREATE TEMP TABLE scratch (a)")
        conn.execute("INSERT INTO scratch VALUES (1)")
        conn.execute("SAVEPOINT s1")
        _contact(conn, store, seeded)
        conn.execute("RELEASE s1")
        assert conn.execute("PRAGMA table_info(contacts)").fetchall()
    [entry] = store.pending()
    assert [t for t, _, _, _ in changes(entry.changeset)] == ["contacts"]


def test_nested_capture_is_refused(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        _contact(conn, store, seeded)
        with pytest.raises(errors.CaptureActive), store.capture():
            pass  # pragma: no cover
    assert len(store.pending()) == 1


def test_bad_staff_id_is_refused_before_anything_runs(store: TabletStore) -> None:
    with pytest.raises(errors.BadStaffId), store.capture("staff-7"):
        pass  # pragma: no cover
    assert store.conn.getautocommit()


def test_new_id_is_a_time_ordered_uuid_from_the_injected_clock_and_rng(tmp_path: object, store: TabletStore) -> None:
    clock = FakeClock()
    a = TabletStore(store.conn, now=clock, rng=random.Random(1)).new_id()
    b = TabletStore(store.conn, now=clock, rng=random.Random(1)).new_id()
    assert a == b == a.lower()
    u = uuid.UUID(a)
    assert u.version == 7 and str(u) == a
    assert u.int >> 80 == int(clock().replace(tzinfo=UTC).timestamp() * 1000)  # the clock's milliseconds


def test_outbox_survives_reopen(tmp_path: object, store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        insert_retiree(conn, store.new_id(), seeded.unit_id, id_number="2")
    path = store.conn.filename
    before = store.outbox()
    store.close()
    reopened = TabletStore.open(path, now=FakeClock(), rng=random.Random(0))
    try:
        assert reopened.outbox() == before
    finally:
        reopened.close()


def test_status_reports_outbox_and_cursor(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        _contact(conn, store, seeded)
    s = store.status()
    assert (s.pending, s.sent, s.cursor, s.device_id, s.last_sync_at) == (1, 1, 0, None, None)
