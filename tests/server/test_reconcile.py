"""The merge rules, quarantine and sequencing, on the engine (no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from server import devices
from server.errors import Forbidden, SequenceConflict
from tests.conftest import uid
from tests.server.harness import Harness, retiree_sql


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def _seed_retiree(h: Harness, n: int = 1) -> str:
    rid = uid(1000 + n)
    sql, args = retiree_sql(h.unit_id, rid, n)
    h.both_exec(sql, args)
    return rid


def test_insert_applies_and_counts(h: Harness) -> None:
    rid = uid(77)
    sql, args = retiree_sql(h.unit_id, rid)
    r = h.upload(h.capture(lambda c: c.execute(sql, args)))
    assert (r.status, r.seq, r.conflicts) == ("applied", 1, 0)
    assert r.counts["retirees"].insert == 1
    assert h.one("SELECT name FROM retirees WHERE id = ?", (rid,)) == ("王0",)


def test_different_columns_merge_without_conflict(h: Harness) -> None:
    rid = _seed_retiree(h)
    h.server_exec("UPDATE retirees SET phone = '13900000000' WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute("UPDATE retirees SET address = '新地址' WHERE id = ?", (rid,)))
    r = h.upload(cs)
    assert r.status == "applied" and r.conflicts == 0  # old values of the changed column still match
    assert h.one("SELECT phone, address FROM retirees WHERE id = ?", (rid,)) == ("13900000000", "新地址")


def test_data_conflict_on_other_column_still_merges(h: Harness) -> None:
    rid = _seed_retiree(h)
    h.server_exec("UPDATE retirees SET phone = '13900000000' WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute(
        "UPDATE retirees SET address = '新地址', living_alone = 1 WHERE id = ?", (rid,)))
    h.server_exec("UPDATE retirees SET living_alone = 1 WHERE id = ?", (rid,))
    r = h.upload(cs)
    assert r.conflicts == 0 and r.status == "merged"
    assert h.one("SELECT phone, address, living_alone FROM retirees WHERE id = ?", (rid,)) == (
        "13900000000", "新地址", 1)


def test_same_column_conflict_is_queued_later_capture_wins(h: Harness) -> None:
    rid = _seed_retiree(h)
    h.server_exec("UPDATE retirees SET phone = '13900000001' WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute("UPDATE retirees SET phone = '13700000002' WHERE id = ?", (rid,)))
    r = h.upload(cs)  # captured after the server's edit
    assert (r.status, r.conflicts) == ("conflicted", 1)
    row = h.one("SELECT tbl, row_id, column_name, kind, base_value, server_value, tablet_value, provisional,"
                " status FROM conflicts")
    assert row == ("retirees", rid, "phone", "field", '"13800000000"', '"13900000001"', '"13700000002"',
                   "tablet", "open")
    assert h.one("SELECT phone FROM retirees WHERE id = ?", (rid,)) == ("13700000002",)


def test_same_column_conflict_earlier_capture_keeps_server(h: Harness) -> None:
    rid = _seed_retiree(h)
    early = h.now
    h.server_exec("UPDATE retirees SET phone = '13900000001' WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute("UPDATE retirees SET phone = '13700000002' WHERE id = ?", (rid,)))
    r = h.upload(cs, captured=early)
    assert r.conflicts == 1
    assert h.one("SELECT provisional FROM conflicts") == ("server",)
    assert h.one("SELECT phone FROM retirees WHERE id = ?", (rid,)) == ("13900000001",)


def test_server_wins_policy_for_administrative_columns(h: Harness) -> None:
    rid = _seed_retiree(h)
    h.server_exec("UPDATE retirees SET category = 'section_level' WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute("UPDATE retirees SET category = 'county_level' WHERE id = ?", (rid,)))
    r = h.upload(cs)
    assert r.conflicts == 1
    assert h.one("SELECT provisional FROM conflicts") == ("server",)
    assert h.one("SELECT category FROM retirees WHERE id = ?", (rid,)) == ("section_level",)


def test_update_of_deleted_row_is_conflict(h: Harness) -> None:
    rid = _seed_retiree(h)
    h.server_exec("DELETE FROM retirees WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute("UPDATE retirees SET phone = '1' WHERE id = ?", (rid,)))
    r = h.upload(cs)
    assert r.conflicts == 1
    assert h.one("SELECT kind, tablet_value FROM conflicts") == ("edited_after_delete", '{"phone": "1"}')
    assert h.one("SELECT count(*) FROM retirees WHERE id = ?", (rid,)) == (0,)


def test_delete_of_changed_row_is_conflict_and_row_kept(h: Harness) -> None:
    rid = _seed_retiree(h)
    h.server_exec("UPDATE retirees SET phone = '13900000001' WHERE id = ?", (rid,))
    cs = h.capture(lambda c: c.execute("DELETE FROM retirees WHERE id = ?", (rid,)))
    r = h.upload(cs)
    assert r.conflicts == 1
    assert h.one("SELECT kind FROM conflicts") == ("deleted_after_edit",)
    assert h.one("SELECT phone FROM retirees WHERE id = ?", (rid,)) == ("13900000001",)


def test_delete_of_unchanged_row_applies(h: Harness) -> None:
    rid = _seed_retiree(h)
    r = h.upload(h.capture(lambda c: c.execute("DELETE FROM retirees WHERE id = ?", (rid,))))
    assert (r.status, r.conflicts) == ("applied", 0)
    assert h.one("SELECT count(*) FROM retirees") == (0,)


def test_insert_of_existing_key(h: Harness) -> None:
    rid = uid(55)
    sql, args = retiree_sql(h.unit_id, rid, 5)
    h.server_exec(sql, args)
    same = h.upload(h.capture(lambda c: c.execute(sql, args)))
    assert (same.status, same.conflicts) == ("applied", 0)
    h.tablet.execute("DELETE FROM retirees")
    other = list(args)
    other[2] = "王五五"
    r = h.upload(h.capture(lambda c: c.execute(sql, tuple(other))))
    assert r.conflicts == 1
    assert h.one("SELECT kind, column_name FROM conflicts") == ("insert_exists", "name")


def test_foreign_key_failure_quarantines_whole_changeset(h: Harness) -> None:
    rid = uid(66)
    sql, args = retiree_sql(h.unit_id, rid, 6)

    def work(c: apsw.Connection) -> None:
        c.execute(sql, args)
        c.execute("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
                  " VALUES (?,?,?,?,?,?)", (uid(67), h.unit_id, uid(999), "2026-10-01", "phone", "self"))

    r = h.upload(h.capture(work))
    assert r.status == "quarantined" and r.reason and r.reason.startswith("foreign_key")
    assert h.one("SELECT count(*) FROM retirees WHERE id = ?", (rid,)) == (0,)
    assert h.one("SELECT reason_code, status FROM quarantine") == ("foreign_key", "held")
    assert h.one("SELECT next_seq FROM devices WHERE id = ?", (h.device_id,)) == (2,)


def test_scope_violation_applies_nothing_and_names_row(h: Harness) -> None:
    rid = uid(88)
    sql, args = retiree_sql(h.org.town_b, rid, 8)
    r = h.upload(h.capture(lambda c: c.execute(sql, args)))
    assert r.status == "quarantined"
    assert r.reason is not None and "scope_violation" in r.reason and rid in r.reason and "retirees" in r.reason
    assert h.one("SELECT count(*) FROM retirees") == (0,)


def test_update_moving_row_out_of_scope_refused(h: Harness) -> None:
    rid = _seed_retiree(h)
    cs = h.capture(lambda c: c.execute("UPDATE retirees SET unit_id = ? WHERE id = ?", (h.org.town_b, rid)))
    r = h.upload(cs)
    assert r.status == "quarantined" and r.reason and "scope_violation" in r.reason


def test_tablet_may_not_write_units(h: Harness) -> None:
    session = apsw.Session(h.tablet, "main")
    session.attach("units")
    h.tablet.execute("INSERT INTO units (id, code, name, level) VALUES (?, 'x', 'x', 'township')", (uid(90),))
    r = h.upload(session.changeset())
    assert r.status == "quarantined" and r.reason and r.reason.startswith("read_only_table")


def test_unknown_table_quarantined(h: Harness) -> None:
    h.tablet.execute("CREATE TABLE shoes (id TEXT PRIMARY KEY, size INT)")
    session = apsw.Session(h.tablet, "main")
    session.attach("shoes")
    h.tablet.execute("INSERT INTO shoes VALUES ('a', 42)")
    r = h.upload(session.changeset())
    assert r.status == "quarantined" and r.reason and r.reason.startswith("unknown_table")


def test_newer_schema_quarantined(h: Harness) -> None:
    rid = uid(91)
    sql, args = retiree_sql(h.unit_id, rid, 9)
    r = h.upload(h.capture(lambda c: c.execute(sql, args)), schema_version=99)
    assert r.status == "quarantined" and r.reason and r.reason.startswith("schema_newer")


def test_duplicate_same_bytes_gives_same_receipt(h: Harness) -> None:
    sql, args = retiree_sql(h.unit_id, uid(92), 2)
    data = h.seal(h.capture(lambda c: c.execute(sql, args)))
    first = h.receive(data)
    again = h.receive(data)
    assert first == again
    assert h.one("SELECT count(*) FROM uploads") == (1,)
    assert h.one("SELECT count(*) FROM retirees") == (1,)


def test_same_seq_other_bytes_is_409_and_kept(h: Harness) -> None:
    sql, args = retiree_sql(h.unit_id, uid(93), 3)
    cs = h.capture(lambda c: c.execute(sql, args))
    h.receive(h.seal(cs, seq=1))
    with pytest.raises(SequenceConflict) as e:
        h.receive(h.seal(cs, seq=1))  # sealing again gives other bytes
    assert e.value.code == "sequence_reused" and e.value.expected_seq == 2
    assert h.one("SELECT reason_code FROM quarantine") == ("sequence_reused",)


def test_gap_is_409_with_expected(h: Harness) -> None:
    sql, args = retiree_sql(h.unit_id, uid(94), 4)
    with pytest.raises(SequenceConflict) as e:
        h.receive(h.seal(h.capture(lambda c: c.execute(sql, args)), seq=5))
    assert e.value.code == "sequence_gap" and e.value.expected_seq == 1
    assert h.one("SELECT count(*) FROM retirees") == (0,)
    assert h.one("SELECT status FROM uploads") == ("rejected",)


def test_revoked_device_403_and_kept(h: Harness) -> None:
    devices.revoke(h.conn, h.device_id, now=h.tick())
    sql, args = retiree_sql(h.unit_id, uid(95), 5)
    with pytest.raises(Forbidden):
        h.upload(h.capture(lambda c: c.execute(sql, args)))
    assert h.one("SELECT reason_code FROM quarantine") == ("device_revoked",)
    assert h.one("SELECT count(*) FROM retirees") == (0,)


def test_every_upload_is_ledgered(h: Harness) -> None:
    before = h.one("SELECT count(*) FROM ledger")
    sql, args = retiree_sql(h.unit_id, uid(96), 6)
    h.upload(h.capture(lambda c: c.execute(sql, args)))
    after = h.one("SELECT count(*) FROM ledger")
    assert before is not None and after is not None and after[0] == before[0] + 1  # type: ignore[operator]
    assert h.one("SELECT kind, device_id FROM ledger ORDER BY id DESC LIMIT 1") == ("upload", h.device_id)


def test_tablet_one_schema_version_behind_still_syncs(h: Harness) -> None:
    """A changeset from a table missing the newest column applies; the column gets its default."""
    from schema.ddl import create_table_sql
    from schema.model import Table
    from schema.tables import table as registry_table

    full = registry_table("retirees")
    older = Table(full.name, full.zh, full.en, full.description, full.columns[:-1], full.sync, full.scope)
    old_db = apsw.Connection(":memory:")
    old_db.execute(create_table_sql(older, "tablet", 1))
    session = apsw.Session(old_db, "main")
    session.attach("retirees")
    rid = uid(97)
    sql, args = retiree_sql(h.unit_id, rid, 7)
    old_db.execute(sql, args)
    r = h.upload(session.changeset())
    assert r.status == "applied", r.reason
    assert h.one(f"SELECT name, {full.columns[-1].name} FROM retirees WHERE id = ?", (rid,)) == ("王7", None)
