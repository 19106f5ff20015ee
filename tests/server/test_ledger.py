"""The ledger: chained, signed, tamper-evident, and enough to rebuild the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from server.ledger_audit import checkpoint, rebuild, table_checksums, verify
from tests.conftest import uid
from tests.server.harness import Harness, retiree_sql


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def _busy_month(h: Harness) -> None:
    for n in range(6):
        sql, args = retiree_sql(h.unit_id, uid(2000 + n), n)
        h.both_exec(sql, args)
    h.server_exec("UPDATE retirees SET phone = '13900000001' WHERE id = ?", (uid(2000),))
    h.upload(h.capture(lambda c: c.execute("UPDATE retirees SET phone = '1370' WHERE id = ?", (uid(2000),))))
    h.upload(h.capture(lambda c: c.execute("UPDATE retirees SET address = 'x' WHERE id = ?", (uid(2001),))))
    h.upload(h.capture(lambda c: c.execute(
        "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached)"
        " VALUES (?,?,?,?,?,?,1)", (uid(3000), h.unit_id, uid(2002), "2026-10-03", "phone", "family"))))
    h.upload(h.capture(lambda c: c.execute(  # unknown retiree: quarantined
        "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
        " VALUES (?,?,?,?,?,?)", (uid(3001), h.unit_id, uid(9999), "2026-10-04", "phone", "self"))))
    h.upload(h.capture(lambda c: c.execute("DELETE FROM retirees WHERE id = ?", (uid(2005),))))
    checkpoint(h.conn, h.server_keys.sign_key, h.tick())


def test_verify_intact_and_checkpoint_signed(h: Harness) -> None:
    _busy_month(h)
    v = verify(h.conn, h.server_keys.sign_public)
    assert v.ok and v.entries > 10 and v.checkpoints == 1
    assert v.head_hash == h.one("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1")[0]  # type: ignore[index]


def test_wrong_public_key_fails_checkpoint(h: Harness) -> None:
    _busy_month(h)
    v = verify(h.conn, h.device_keys.sign_public)
    assert not v.ok and "signature" in v.reason


COLUMNS = ("at", "kind", "actor", "device_id", "summary", "effect", "effect_sha256", "prev_hash", "hash")


@pytest.mark.parametrize("column", COLUMNS)
def test_tampering_any_field_of_any_entry_is_detected(h: Harness, column: str) -> None:
    _busy_month(h)
    h.conn.execute("PRAGMA ignore_check_constraints = ON")  # a forger edits the file, not through laogan
    ids = [r[0] for r in h.conn.execute("SELECT id FROM ledger ORDER BY id")]
    for target in (ids[0], ids[len(ids) // 2], ids[-1]):
        row = h.conn.execute(f"SELECT {column} FROM ledger WHERE id = ?", (target,)).fetchone()
        assert row is not None
        value = row[0]
        if value is None:
            continue
        if isinstance(value, bytes):
            forged: object = bytes([value[0] ^ 1]) + value[1:]
        else:
            text = str(value)
            forged = ("1" if text[0] != "1" else "2") + text[1:]
        h.conn.execute(f"UPDATE ledger SET {column} = ? WHERE id = ?", (forged, target))
        v = verify(h.conn, h.server_keys.sign_public)
        assert not v.ok and v.first_bad == target, (column, target, v)
        h.conn.execute(f"UPDATE ledger SET {column} = ? WHERE id = ?", (value, target))
    assert verify(h.conn, h.server_keys.sign_public).ok


def test_deleting_an_entry_is_detected(h: Harness) -> None:
    _busy_month(h)
    h.conn.execute("DELETE FROM ledger WHERE id = 3")
    v = verify(h.conn, h.server_keys.sign_public)
    assert not v.ok and v.first_bad == 4


def test_rebuild_equals_live(h: Harness, tmp_path: Path) -> None:
    _busy_month(h)
    out = tmp_path / "rebuilt.db"
    n = rebuild(h.conn, out)
    assert n == h.one("SELECT count(*) FROM ledger")[0]  # type: ignore[index]
    rebuilt = apsw.Connection(str(out))
    live_sums = table_checksums(h.conn)
    assert table_checksums(rebuilt) == live_sums
    assert h.one("SELECT count(*) FROM conflicts")[0] >= 1  # type: ignore[index,operator]
    assert h.one("SELECT count(*) FROM quarantine")[0] == 1  # type: ignore[index]


def test_provenance_of_a_row(h: Harness) -> None:
    _busy_month(h)
    row = h.one(
        "SELECT l.kind, l.device_id FROM change_log c JOIN ledger l ON l.id = c.ledger_id"
        " WHERE c.tbl = 'retirees' AND c.row_id = ? ORDER BY c.seq DESC LIMIT 1", (uid(2001),))
    assert row == ("upload", h.device_id)
