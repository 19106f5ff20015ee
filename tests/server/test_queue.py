"""Conflict resolution and quarantine retry: ledgered, reaching pulls, not coming back."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from schema.errors import SchemaError
from schema.tables import table
from server import supervisors
from server.conflicts import get_conflict, list_conflicts, resolve
from server.errors import BadRequest, Unauthorized
from server.ledger_audit import rebuild, table_checksums, verify
from server.pull import build_page
from server.retry import retry
from tests.conftest import uid
from tests.server.harness import Harness, retiree_sql


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def _phone_conflict(h: Harness) -> tuple[str, int]:
    rid = uid(4000)
    sql, args = retiree_sql(h.unit_id, rid)
    h.both_exec(sql, args)
    h.server_exec("UPDATE retirees SET phone = '13900000001' WHERE id = ?", (rid,))
    h.upload(h.capture(lambda c: c.execute("UPDATE retirees SET phone = '13700000002' WHERE id = ?", (rid,))))
    (c,) = list_conflicts(h.conn)
    return rid, c.id


@pytest.mark.parametrize(("choice", "value", "expected"), [
    ("tablet", None, "13700000002"), ("server", None, "13900000001"), ("value", "13600000003", "13600000003"),
])
def test_resolve_sets_value_and_is_ledgered(h: Harness, choice: str, value: object, expected: str) -> None:
    rid, cid = _phone_conflict(h)
    cursor_before = h.one("SELECT max(seq) FROM change_log")[0]  # type: ignore[index]
    c = resolve(h.conn, cid, choice=choice, value=value, actor="supervisor:li", now=h.tick())
    assert (c.status, c.resolution, c.resolved_value, c.resolved_by) == ("resolved", choice, expected,
                                                                          "supervisor:li")
    assert h.one("SELECT phone FROM retirees WHERE id = ?", (rid,)) == (expected,)
    assert h.one("SELECT kind, actor FROM ledger ORDER BY id DESC LIMIT 1") == ("resolution", "supervisor:li")
    page = build_page(h.conn, after=int(cursor_before), scope=(h.unit_id,), limit=100)  # type: ignore[arg-type]
    phone = table("retirees").column_names().index("phone")
    rows = [(ch.name, ch.op, ch.new[phone] if ch.new else None) for ch in apsw.Changeset.iter(page.changeset)]
    assert ("retirees", "INSERT", expected) in rows  # the resolution reaches the unit's tablets
    assert verify(h.conn, h.server_keys.sign_public).ok


def test_resolve_twice_refused_and_bad_value_refused(h: Harness) -> None:
    _, cid = _phone_conflict(h)
    with pytest.raises(BadRequest):
        resolve(h.conn, cid, choice="maybe", actor="x", now=h.tick())
    with pytest.raises((BadRequest, SchemaError)):
        resolve(h.conn, cid, choice="value", value=42, actor="x", now=h.tick())
    assert get_conflict(h.conn, cid).status == "open"
    resolve(h.conn, cid, choice="server", actor="x", now=h.tick())
    with pytest.raises(BadRequest):
        resolve(h.conn, cid, choice="tablet", actor="x", now=h.tick())


def test_same_conflict_does_not_come_back(h: Harness) -> None:
    rid, cid = _phone_conflict(h)
    resolve(h.conn, cid, choice="server", actor="x", now=h.tick())
    # another tablet made the same edit from the same base: already decided, nothing new queued
    h.tablet.execute("UPDATE retirees SET phone = '13800000000' WHERE id = ?", (rid,))
    r = h.upload(h.capture(lambda c: c.execute("UPDATE retirees SET phone = '13700000002' WHERE id = ?", (rid,))))
    assert r.conflicts == 0
    assert len(list_conflicts(h.conn, status=None)) == 1
    assert h.one("SELECT phone FROM retirees WHERE id = ?", (rid,)) == ("13900000001",)


def test_edited_after_delete_resolved_for_tablet_restores_row(h: Harness) -> None:
    rid = uid(4100)
    sql, args = retiree_sql(h.unit_id, rid, 1)
    h.both_exec(sql, args)
    h.server_exec("DELETE FROM retirees WHERE id = ?", (rid,))
    h.upload(h.capture(lambda c: c.execute("UPDATE retirees SET phone = '1' WHERE id = ?", (rid,))))
    (c,) = list_conflicts(h.conn)
    resolve(h.conn, c.id, choice="tablet", actor="x", now=h.tick())
    assert h.one("SELECT name, phone FROM retirees WHERE id = ?", (rid,)) == ("王1", "1")


def test_quarantine_retry_after_fix(h: Harness, tmp_path: Path) -> None:
    missing = uid(4200)
    h.upload(h.capture(lambda c: c.execute(
        "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom) VALUES (?,?,?,?,?,?)",
        (uid(4201), h.unit_id, missing, "2026-10-05", "phone", "self"))))
    qid = h.one("SELECT id FROM quarantine")[0]  # type: ignore[index]
    first = retry(h.conn, int(qid), keys=h.server_keys, now=h.tick(), actor="x")  # type: ignore[arg-type]
    assert not first.applied and first.reason.startswith("foreign_key")
    sql, args = retiree_sql(h.unit_id, missing, 2)
    h.server_exec(sql, args)  # the supervisor adds the missing retiree
    second = retry(h.conn, int(qid), keys=h.server_keys, now=h.tick(), actor="x")  # type: ignore[arg-type]
    assert second.applied
    assert h.one("SELECT count(*) FROM contacts WHERE retiree_id = ?", (missing,)) == (1,)
    assert h.one("SELECT status FROM quarantine WHERE id = ?", (qid,)) == ("applied",)
    with pytest.raises(BadRequest):
        retry(h.conn, int(qid), keys=h.server_keys, now=h.tick(), actor="x")  # type: ignore[arg-type]
    out = tmp_path / "rebuilt.db"
    rebuild(h.conn, out)
    assert table_checksums(apsw.Connection(str(out))) == table_checksums(h.conn)


def test_supervisor_tokens(h: Harness) -> None:
    token = supervisors.add(h.conn, "li", now=h.now, rng=random.Random(1), days=1)
    assert supervisors.authenticate(h.conn, f"Bearer {token}", now=h.now).name == "li"
    assert "secret" not in str(h.one("SELECT secret_hash FROM supervisors"))
    assert token.split(".", 1)[1] not in str(h.one("SELECT secret_hash FROM supervisors"))
    for bad in (None, "Bearer li.wrong", f"Basic {token}", "Bearer nobody.x"):
        with pytest.raises(Unauthorized):
            supervisors.authenticate(h.conn, bad, now=h.now)
    with pytest.raises(Unauthorized):  # expired
        supervisors.authenticate(h.conn, f"Bearer {token}", now=h.tick(2 * 86400))
    token2 = supervisors.add(h.conn, "wang", now=h.now, rng=random.Random(2))
    supervisors.revoke(h.conn, "wang", now=h.now)
    supervisors.revoke(h.conn, "wang", now=h.now)  # again: nothing happens, nothing is ledgered
    with pytest.raises(Unauthorized):
        supervisors.authenticate(h.conn, f"Bearer {token2}", now=h.now)
    # who was given and who lost a token is in the ledger; the token and its hash are not
    entries = h.conn.execute("SELECT summary, effect FROM ledger WHERE kind = 'admin' AND summary LIKE"
                             " '%supervisor%' ORDER BY id").fetchall()
    assert [json.loads(s)["event"] + ":" + json.loads(s)["name"] for s, _ in entries] == [
        "supervisor added:li", "supervisor added:wang", "supervisor revoked:wang"]
    hashes = [str(r[0]) for r in h.conn.execute("SELECT secret_hash FROM supervisors")]
    assert not any(x in str(e) for _, e in entries for x in (*hashes, token.split(".", 1)[1]))
    with pytest.raises(BadRequest):
        supervisors.add(h.conn, "zhao", now=h.now, rng=random.Random(3), days=0)
    with pytest.raises(BadRequest) as taken:  # a name is never reused, and the refusal leaves no entry
        supervisors.add(h.conn, "li", now=h.now, rng=random.Random(4))
    assert taken.value.code == "duplicate_name"
    assert h.conn.execute("SELECT count(*) FROM ledger WHERE summary LIKE '%supervisor%'").fetchone()[0] == 3


def test_a_cursor_beyond_the_newest_change_starts_over(tmp_path: Path) -> None:
    """A tablet that synced with this database before it was restored from an older backup asks for
    changes after a cursor the database never reached: the page starts from the beginning (start 0)."""
    h = Harness(tmp_path)
    top = int(h.conn.execute("SELECT max(seq) FROM change_log").fetchone()[0])
    fresh = build_page(h.conn, after=0, scope=(h.unit_id,), limit=100)
    ahead = build_page(h.conn, after=top + 50, scope=(h.unit_id,), limit=100)
    assert (ahead.start, ahead.rows, ahead.next_cursor, ahead.changeset) == (0, fresh.rows, top, fresh.changeset)
    assert fresh.rows > 0 and build_page(h.conn, after=top, scope=(h.unit_id,), limit=100).start == top
    h.close()
