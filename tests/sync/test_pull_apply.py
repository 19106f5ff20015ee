"""Applying pulled changesets, and the outbox bookkeeping calls the client relies on."""

from __future__ import annotations

import apsw
import pytest

from schema.tables import table
from sync import errors
from sync.store import TabletStore
from tests.sync.changeset_factory import loose_db, record, tablet_db
from tests.sync.conftest import FakeClock, Seed, insert_retiree

UNIT = "00000000-0000-4000-8000-000000000001"


def _row(store: TabletStore, rid: str) -> tuple[object, ...] | None:
    return store.conn.execute("SELECT name, phone FROM retirees WHERE id = ?", (rid,)).fetchone()


def _server_inserts(*rows: tuple[str, str, str]) -> bytes:
    """INSERTs of full retiree rows (id, name, id_number), as the server sends upserts."""
    def work(conn: apsw.Connection) -> None:
        for rid, name, idn in rows:
            insert_retiree(conn, rid, UNIT, name=name, id_number=idn)
            conn.execute("UPDATE retirees SET phone = 'server' WHERE id = ?", (rid,))
    return record(tablet_db(), ["retirees"], work)


def _server_deletes(table_name: str, *ids: str) -> bytes:
    """DELETEs that carry only a meaningful primary key; every other old value is NULL."""
    conn = loose_db([table_name])
    for i in ids:
        conn.execute(f'INSERT INTO "{table_name}" (id) VALUES (?)', (i,))
    return record(conn, [table_name], lambda c: c.execute(f'DELETE FROM "{table_name}"'))


def test_pull_inserts_new_rows_and_replaces_existing_ones(store: TabletStore, seeded: Seed,
                                                          clock: FakeClock) -> None:
    new_id = store.new_id()
    data = _server_inserts((seeded.retiree_id, "张三(服务器)", "110101194001010011"), (new_id, "赵六", "2"))
    clock.advance(120)
    n = store.apply_pull(data, 17)
    assert n == 2
    assert _row(store, seeded.retiree_id) == ("张三(服务器)", "server")
    assert _row(store, new_id) == ("赵六", "server")
    assert store.cursor() == 17
    assert store.status().last_sync_at == "2024-05-01 08:02:00"
    assert store.pending() == []  # pulled changes are not uploaded again
    assert store.conn.execute("SELECT count(*) FROM roster_history").fetchone()[0] == 0


def test_pull_deletes_by_key_whatever_the_old_values_say(store: TabletStore, seeded: Seed) -> None:
    missing = store.new_id()
    store.apply_pull(_server_deletes("retirees", seeded.retiree_id, missing), 3)
    assert _row(store, seeded.retiree_id) is None
    assert store.cursor() == 3


def test_pull_of_pulled_only_tables_is_applied(store: TabletStore, seeded: Seed) -> None:
    def work(conn: apsw.Connection) -> None:
        conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, 'T01', '城关镇(新)', 'township')",
                     (seeded.unit_id,))
    store.apply_pull(record(tablet_db(), ["units"], work), 1)
    assert store.conn.execute("SELECT name FROM units").fetchall() == [("城关镇(新)",)]


def test_pull_is_refused_while_local_changes_are_unsent(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = 'local' WHERE id = ?", (seeded.retiree_id,))
    with pytest.raises(errors.PendingChanges) as info:
        store.apply_pull(_server_inserts((seeded.retiree_id, "服务器", "110101194001010011")), 5)
    assert info.value.pending == 1
    assert _row(store, seeded.retiree_id) == ("张三", "local")
    assert store.cursor() == 0


def test_failed_apply_keeps_nothing_and_leaves_the_cursor(store: TabletStore, seeded: Seed) -> None:
    store.apply_pull(b"", 4)
    clash = store.new_id()  # a different row with the seeded retiree's unique ID number
    data = _server_inserts((store.new_id(), "先插入", "3"), (clash, "重复", "110101194001010011"))
    with pytest.raises(errors.PullApplyError):
        store.apply_pull(data, 9)
    assert store.conn.execute("SELECT count(*) FROM retirees").fetchone()[0] == 1
    assert store.cursor() == 4
    assert store.conn.getautocommit()


def test_pull_may_not_touch_tablet_machinery(store: TabletStore) -> None:
    conn = loose_db(["sync_state"])
    data = record(conn, ["sync_state"], lambda c: c.execute("INSERT INTO sync_state VALUES ('cursor', '999')"))
    with pytest.raises(errors.PullApplyError):
        store.apply_pull(data, 1)
    assert store.cursor() == 0


def test_pull_with_another_column_count_is_refused_not_skipped(store: TabletStore, seeded: Seed) -> None:
    conn = loose_db(["retirees"], drop_last=1)
    conn.execute("INSERT INTO retirees (id) VALUES (?)", (seeded.retiree_id,))
    data = record(conn, ["retirees"], lambda c: c.execute("DELETE FROM retirees"))
    with pytest.raises(errors.PullApplyError, match="columns"):
        store.apply_pull(data, 1)
    assert _row(store, seeded.retiree_id) is not None


def test_cursor_never_goes_back(store: TabletStore) -> None:
    store.apply_pull(b"", 10)
    with pytest.raises(errors.PullApplyError):
        store.apply_pull(b"", 9)
    assert store.cursor() == 10


def test_capture_after_pull_holds_only_the_local_change(store: TabletStore, seeded: Seed) -> None:
    store.apply_pull(_server_inserts((store.new_id(), "赵六", "2")), 2)
    with store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = 'x' WHERE id = ?", (seeded.retiree_id,))
    [entry] = store.pending()
    names = [c.name for c in apsw.Changeset.iter(entry.changeset)]
    assert names == ["retirees", "roster_history"]
    assert len(table("retirees").columns) == len(store.columns("retirees"))


def test_save_envelope_keeps_the_first_bytes(store: TabletStore, seeded: Seed) -> None:
    with store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = 'x' WHERE id = ?", (seeded.retiree_id,))
    [entry] = store.pending()
    assert store.save_envelope(entry.seq, b"first") == b"first"
    assert store.save_envelope(entry.seq, b"second") == b"first"
    assert store.pending()[0].envelope == b"first"


def test_mark_sent_takes_the_row_out_of_pending(store: TabletStore, seeded: Seed, clock: FakeClock) -> None:
    with store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = 'x' WHERE id = ?", (seeded.retiree_id,))
    [entry] = store.pending()
    store.mark_sent(entry.seq, '{"status": "applied"}', clock())
    assert store.pending() == []
    sent = store.outbox()[-1]
    assert (sent.status, sent.sent_at, sent.receipt) == ("sent", "2024-05-01 08:00:00", '{"status": "applied"}')
    with pytest.raises(errors.OutboxError):
        store.mark_sent(entry.seq, "{}", clock())
    with pytest.raises(errors.OutboxError):
        store.save_envelope(entry.seq, b"late")


def test_mark_sent_refuses_unknown_rows_and_bad_receipts(store: TabletStore, seeded: Seed) -> None:
    with pytest.raises(errors.OutboxError):
        store.mark_sent(99, "{}")
    with store.capture() as conn:
        conn.execute("UPDATE retirees SET phone = 'x' WHERE id = ?", (seeded.retiree_id,))
    [entry] = store.pending()
    with pytest.raises(errors.OutboxError):
        store.mark_sent(entry.seq, "not json")
    assert store.pending() == [entry]


def test_sync_state_refuses_unknown_keys(store: TabletStore) -> None:
    with pytest.raises(ValueError):
        store.set_state({"password": "x"})
    with pytest.raises(errors.NotEnrolled):
        store.enrolment()
