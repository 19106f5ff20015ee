"""A DELETE from a tablet one schema version behind (a changeset narrower than the table): a row whose
newer columns the server set is a ``deleted_after_edit`` conflict with the row kept, as a full-width
DELETE of a row changed on the server is; otherwise it applies as before (server/narrow_delete.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from schema.migrations import migrate
from server import conflicts, narrow_delete, reconcile
from tests.bench.test_fast_paths import Twins, dump
from tests.conftest import uid
from tests.server.harness import Harness, retiree_sql

BRANCH, GROUP, RETIREE, MEMBER = uid(9001), uid(9010), uid(9100), uid(9101)
MEMBER_SQL = "INSERT INTO party_members (id, unit_id, retiree_id, branch_id, role) VALUES (?, ?, ?, ?, 'member')"
MUST_SQL = ("INSERT INTO three_musts (id, unit_id, retiree_id, kind, item, delivered_on, method)"
            " VALUES (?, ?, ?, 'document', '文件', '2026-10-01', 'in_person')")


def on_v3(h: Harness, tmp: Path) -> Harness:
    """The harness's tablet replaced by one at schema version 3: its changesets are narrower."""
    h.tablet.close()
    h.tablet = apsw.Connection(str(tmp / "tablet3.db"))
    migrate(h.tablet, "tablet", target=3)
    return h


def seed_member(h: Harness) -> None:
    h.both_exec("INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?, ?, '支部', 'regular')",
                (BRANCH, h.unit_id))
    h.server_exec("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, '小组', 'other')",
                  (GROUP, h.unit_id, BRANCH))
    sql, args = retiree_sql(h.unit_id, RETIREE, 1)
    h.both_exec(sql, args)
    h.both_exec(MEMBER_SQL, (MEMBER, h.unit_id, RETIREE, BRANCH))


@pytest.fixture
def v3(tmp_path: Path) -> Iterator[Harness]:
    h = on_v3(Harness(tmp_path), tmp_path)
    seed_member(h)
    yield h
    h.close()


@pytest.fixture
def v4(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    seed_member(h)
    yield h
    h.close()


def delete_member(h: Harness, version: int = 3) -> tuple[str, int]:
    cs = h.capture(lambda c: c.execute("DELETE FROM party_members WHERE id = ?", (MEMBER,)))
    assert {ch.column_count for ch in apsw.Changeset.iter(cs)} == ({6} if version == 3 else {8})
    r = h.upload(cs, schema_version=version)
    return r.status, r.conflicts


def members(h: Harness) -> list[tuple[object, ...]]:
    return [tuple(r) for r in h.conn.execute("SELECT role, relation, group_id FROM party_members WHERE id = ?",
                                             (MEMBER,))]


@pytest.mark.parametrize(("edit", "args", "kept"), [
    ("group_id = ?", (GROUP,), ("member", "formal", GROUP)),
    ("relation = 'dual'", (), ("member", "dual", None)),
])
def test_v3_delete_after_a_server_edit_of_a_newer_column_is_a_conflict(
        v3: Harness, edit: str, args: tuple[object, ...], kept: tuple[object, ...]) -> None:
    v3.server_exec(f"UPDATE party_members SET {edit} WHERE id = ?", (*args, MEMBER))
    assert delete_member(v3) == ("conflicted", 1)
    assert members(v3) == [kept]
    row = v3.one("SELECT tbl, row_id, unit_id, column_name, kind, base_value, server_value, tablet_value,"
                 " provisional, status FROM conflicts")
    assert row is not None and row[:5] == ("party_members", MEMBER, v3.unit_id, None, "deleted_after_edit")
    base, server = json.loads(str(row[5])), json.loads(str(row[6]))
    assert (base["relation"], base["group_id"], base["role"]) == ("formal", None, "member")  # the defaults
    assert (server["role"], server["relation"], server["group_id"]) == kept  # the whole server row
    assert row[7:] == ("null", "server", "open")


def test_v3_delete_of_an_unedited_row_applies(v3: Harness) -> None:
    assert delete_member(v3) == ("applied", 0)
    assert members(v3) == [] and v3.one("SELECT count(*) FROM conflicts") == (0,)


def test_v3_delete_after_a_server_edit_of_a_known_column_is_still_a_conflict(v3: Harness) -> None:
    v3.server_exec("UPDATE party_members SET role = 'committee', group_id = ? WHERE id = ?", (GROUP, MEMBER))
    assert delete_member(v3) == ("conflicted", 1)
    assert members(v3) == [("committee", "formal", GROUP)]


def test_v3_delete_of_a_row_gone_from_the_server_is_nothing(v3: Harness) -> None:
    v3.server_exec("DELETE FROM party_members WHERE id = ?", (MEMBER,))
    assert delete_member(v3) == ("applied", 0)


def test_v3_delete_of_a_delivery_of_a_notice_set_on_the_server(v3: Harness) -> None:
    notice, must, other = uid(9200), uid(9201), uid(9202)
    v3.server_exec("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by) VALUES"
                   " (?, ?, 'document', '通知', '2026-10-01', '2026-10-31')", (notice, v3.unit_id))
    for m in (must, other):
        v3.both_exec(MUST_SQL, (m, v3.unit_id, RETIREE))
    v3.server_exec("UPDATE three_musts SET notice_id = ? WHERE id = ?", (notice, must))
    r = v3.upload(v3.capture(lambda c: c.execute("DELETE FROM three_musts")), schema_version=3)
    assert (r.status, r.conflicts) == ("conflicted", 1)
    assert v3.conn.execute("SELECT id, notice_id FROM three_musts").fetchall() == [(must, notice)]
    assert v3.one("SELECT tbl, row_id, kind FROM conflicts") == ("three_musts", must, "deleted_after_edit")


def test_full_width_deletes_are_unchanged(v4: Harness) -> None:
    """A v4 tablet saw group_id: deleting the row as it saw it applies; after the server changed it,
    SQLite's own DATA conflict (full-width values, as before)."""
    v4.server_exec("UPDATE party_members SET group_id = ? WHERE id = ?", (GROUP, MEMBER))
    v4.tablet.execute("UPDATE party_members SET group_id = ? WHERE id = ?", (GROUP, MEMBER))
    assert delete_member(v4, 4) == ("applied", 0)
    assert members(v4) == []
    v4.both_exec(MEMBER_SQL, (MEMBER, v4.unit_id, RETIREE, BRANCH))
    v4.server_exec("UPDATE party_members SET group_id = ? WHERE id = ?", (GROUP, MEMBER))
    assert delete_member(v4, 4) == ("conflicted", 1)
    assert members(v4) == [("member", "formal", GROUP)]


def test_full_width_changesets_never_reach_the_guard(v4: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> object:
        raise AssertionError("the narrow-delete guard ran for a full-width changeset")

    monkeypatch.setattr(narrow_delete, "guard", boom)
    monkeypatch.setattr(narrow_delete, "edited_beyond", boom)
    v4.server_exec("UPDATE party_members SET role = 'committee' WHERE id = ?", (MEMBER,))
    assert delete_member(v4, 4) == ("conflicted", 1)


@pytest.mark.parametrize("choice", ["tablet", "server"])
def test_the_conflict_resolves_as_other_delete_conflicts(tmp_path: Path, choice: str) -> None:
    """The same choice on a narrow conflict (v3, server set group_id) and a full-width one (v4, server
    changed role): the tablet's choice deletes the row, the server's keeps it as the server had it."""
    got = []
    for version in (3, 4):
        d = tmp_path / f"v{version}"
        d.mkdir()
        h = Harness(d)
        if version == 3:
            on_v3(h, d)
        seed_member(h)
        h.server_exec("UPDATE party_members SET group_id = ?, role = ? WHERE id = ?",
                      (GROUP, "member" if version == 3 else "committee", MEMBER))
        if version == 4:
            h.tablet.execute("UPDATE party_members SET group_id = ? WHERE id = ?", (GROUP, MEMBER))
        assert delete_member(h, version) == ("conflicted", 1)
        c = conflicts.list_conflicts(h.conn)[0]
        assert c.kind == "deleted_after_edit" and c.server_value["group_id"] == GROUP
        done = conflicts.resolve(h.conn, c.id, choice=choice, actor="supervisor:test", now=h.tick())
        got.append((done.status, done.resolution, done.resolved_value, len(members(h)),
                    [r[0] for r in h.conn.execute("SELECT kind FROM ledger ORDER BY id DESC LIMIT 1")]))
        h.close()
    want = ("resolved", choice, None, 0 if choice == "tablet" else 1, ["resolution"])
    assert got == [want, want]


def test_the_ordinary_path_without_a_plan_finds_narrow_deletes_itself(v3: Harness) -> None:
    """``apply_changeset`` called without a plan (as after a fast path stepped aside, or a retry) reads
    the changeset once for its widths."""
    v3.server_exec("UPDATE party_members SET group_id = ? WHERE id = ?", (GROUP, MEMBER))
    cs = v3.capture(lambda c: c.execute("DELETE FROM party_members WHERE id = ?", (MEMBER,)))
    assert narrow_delete.may_narrow_delete(cs)
    with v3.conn:
        out = reconcile.apply_changeset(v3.conn, cs, captured_at="2026-11-01 08:00:00", counts={})
        assert [(c.kind, c.row_id, c.provisional) for c in out.conflicts] == [("deleted_after_edit", MEMBER, "server")]
        assert members(v3) == [("member", "formal", GROUP)]


def test_the_bulk_fast_path_steps_aside_for_narrow_deletes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``three_musts`` may take the bulk path (no second UNIQUE key): a narrow DELETE there gives the
    same tables, receipts and ledger as the ordinary path — a conflict for the row whose notice the
    server set, the other row deleted."""
    t = Twins(tmp_path, monkeypatch, "bulk")
    try:
        on_v3(t.fast, tmp_path / "fast")
        unit = t.fast.org.town_a
        notice, rid, musts = uid(9300), uid(9301), [uid(9310 + i) for i in range(3)]
        t.server_exec("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by) VALUES"
                      " (?, ?, 'document', '通知', '2026-10-01', '2026-10-31')", (notice, unit))
        sql, args = retiree_sql(unit, rid, 1)
        t.both_exec(sql, args)
        for m in musts:
            t.both_exec(MUST_SQL, (m, unit, rid))
        t.server_exec("UPDATE three_musts SET notice_id = ? WHERE id = ?", (notice, musts[0]))
        r = t.upload(lambda c: c.execute("DELETE FROM three_musts WHERE id IN (?, ?)", tuple(musts[:2])))
        assert (r.status, r.conflicts) == ("conflicted", 1)
        assert t.fast.conn.execute("SELECT id FROM three_musts ORDER BY id").fetchall() == [(musts[0],), (musts[2],)]
        assert dump(t.fast.conn) == dump(t.slow.conn)
        assert t.taken == []  # narrow with deletes: not tried
        r = t.upload(lambda c: c.execute("DELETE FROM three_musts WHERE id = ?", (musts[2],)))
        assert (r.status, r.conflicts) == ("applied", 0)
    finally:
        t.close()
