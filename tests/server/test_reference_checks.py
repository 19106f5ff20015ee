"""Rules between rows that a foreign key cannot state (server/reference_rules.py), on the upload path.

Each bad upload is quarantined with its stable code and leaves the central tables as they were; each good
one (a group in its branch's unit, a member in a group of its own branch, a dual membership of a special
branch of the unit or a unit above, a delivery of a notice of the unit or a unit above) applies.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import apsw
import pytest

from server import changeset_plan, conflicts, reference_rules
from server.errors import BadRequest
from tests.conftest import Org, uid
from tests.server.harness import Harness, retiree_sql

TABLES = ("party_branches", "party_groups", "party_members", "three_musts")
TB, TS, SB, SS, CB, CR = (uid(n) for n in range(9001, 9007))  # town A / town B / county, regular or special
G_TB, G_TS, G_SB, G_CB = (uid(n) for n in range(9010, 9014))
N_A, N_B, N_C = (uid(n) for n in range(9020, 9023))
R = [uid(9100 + n) for n in range(12)]  # retirees of town A
M_TB, M_TS_DUAL, M_TB_NOGROUP = uid(9200), uid(9201), uid(9202)
MUST_A = uid(9300)
MEMBER = ("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, role, relation, group_id)"
          " VALUES (?,?,?,?, 'member', ?, ?)")
MUST = ("INSERT INTO three_musts (id, unit_id, retiree_id, kind, item, delivered_on, method, notice_id)"
        " VALUES (?,?,?, 'document', '文件', '2026-01-05', 'in_person', ?)")
BRANCH = "INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?,?,?,?)"
GROUP = "INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?,?,?,?, 'residence')"
NOTICE = ("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by, for_category)"
          " VALUES (?,?, 'document', ?, '2026-01-01', '2026-01-31', 'general')")


def _world(h: Harness) -> None:
    a, b, county = h.org.town_a, h.org.town_b, h.org.county
    for bid, unit, kind in ((TB, a, "regular"), (TS, a, "special"), (SB, b, "regular"), (SS, b, "special"),
                            (CB, county, "special"), (CR, county, "regular")):
        h.both_exec(BRANCH, (bid, unit, f"支部{bid[-2:]}", kind))
    for gid, unit, bid in ((G_TB, a, TB), (G_TS, a, TS), (G_SB, b, SB), (G_CB, county, CB)):
        h.both_exec(GROUP, (gid, unit, bid, f"小组{gid[-2:]}"))
    for nid, unit in ((N_A, a), (N_B, b), (N_C, county)):
        h.server_exec(NOTICE, (nid, unit, f"文件{nid[-2:]}"), kind="import")
        h.tablet.execute(NOTICE, (nid, unit, f"文件{nid[-2:]}"))
    for n, rid in enumerate(R):
        h.both_exec(*retiree_sql(a, rid, n))
    h.both_exec(MEMBER, (M_TB, a, R[0], TB, "formal", G_TB))
    h.both_exec(MEMBER, (M_TS_DUAL, a, R[0], TS, "dual", None))
    h.both_exec(MEMBER, (M_TB_NOGROUP, a, R[1], TB, "formal", None))
    h.both_exec(MUST, (MUST_A, a, R[0], N_A))


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    h = Harness(tmp_path)
    _world(h)
    return h


def _snapshot(h: Harness) -> dict[str, list[tuple[object, ...]]]:
    return {t: [tuple(r) for r in h.conn.execute(f"SELECT * FROM {t} ORDER BY id")] for t in TABLES}


def _refused(h: Harness, fn: Callable[[apsw.Connection], object], code: str, key: str) -> None:
    before = _snapshot(h)
    log = h.one("SELECT count(*) FROM change_log")
    r = h.upload(h.capture(fn))
    assert r.status == "quarantined", r
    assert r.reason is not None and r.reason.startswith(code) and key in r.reason, r.reason
    assert h.one("SELECT reason_code, status FROM quarantine ORDER BY id DESC LIMIT 1") == (code, "held")
    assert h.one("SELECT status FROM uploads WHERE id = ?", (r.upload_id,)) == ("quarantined",)
    assert _snapshot(h) == before
    assert h.one("SELECT count(*) FROM change_log") == log


def _applied(h: Harness, fn: Callable[[apsw.Connection], object]) -> None:
    held = h.one("SELECT count(*) FROM quarantine")
    r = h.upload(h.capture(fn))
    assert r.status == "applied", r.reason
    assert h.one("SELECT count(*) FROM quarantine") == held


A, B = Org.town_a, Org.town_b
BAD: dict[str, tuple[str, str, Callable[[apsw.Connection], object]]] = {
    # a group of town A under another unit's branch
    "group_under_county_branch": ("group_branch_unit", uid(9400), lambda c: c.execute(GROUP, (uid(9400), A, CB, "g"))),
    "group_under_sibling_branch": ("group_branch_unit", uid(9401), lambda c: c.execute(GROUP, (uid(9401), A, SB, "g"))),
    "group_moved_to_county_branch": ("group_branch_unit", G_TB, lambda c: c.execute(
        "UPDATE party_groups SET branch_id = ? WHERE id = ?", (CB, G_TB))),
    # a member in a group of another branch
    "member_in_sibling_group": ("member_group_branch", uid(9410), lambda c: c.execute(
        MEMBER, (uid(9410), A, R[2], TB, "formal", G_SB))),
    "member_in_other_branch_group": ("member_group_branch", uid(9411), lambda c: c.execute(
        MEMBER, (uid(9411), A, R[2], TB, "formal", G_TS))),
    "member_group_changed": ("member_group_branch", M_TB, lambda c: c.execute(
        "UPDATE party_members SET group_id = ? WHERE id = ?", (G_CB, M_TB))),
    "member_branch_changed_group_kept": ("member_group_branch", M_TB, lambda c: c.execute(
        "UPDATE party_members SET branch_id = ? WHERE id = ?", (CR, M_TB))),
    # dual management outside a special branch
    "dual_in_sibling_regular": ("dual_branch_not_special", uid(9420), lambda c: c.execute(
        MEMBER, (uid(9420), A, R[0], SB, "dual", None))),
    "dual_in_own_regular": ("dual_branch_not_special", uid(9421), lambda c: c.execute(
        MEMBER, (uid(9421), A, R[1], CR, "dual", None))),
    "relation_changed_to_dual": ("dual_branch_not_special", M_TB_NOGROUP, lambda c: c.execute(
        "UPDATE party_members SET relation = 'dual' WHERE id = ?", (M_TB_NOGROUP,))),
    # a delivery of a notice from outside the unit and the units above
    "delivery_of_sibling_notice": ("notice_out_of_scope", uid(9430), lambda c: c.execute(
        MUST, (uid(9430), A, R[0], N_B))),
    "delivery_notice_changed": ("notice_out_of_scope", MUST_A, lambda c: c.execute(
        "UPDATE three_musts SET notice_id = ? WHERE id = ?", (N_B, MUST_A))),
    # the referenced row in the same changeset
    "dual_in_new_regular_branch": ("dual_branch_not_special", uid(9441), lambda c: (
        c.execute(BRANCH, (uid(9440), A, "新支部", "regular")),
        c.execute(MEMBER, (uid(9441), A, R[3], uid(9440), "dual", None)))),
    "member_in_new_group_of_other_branch": ("member_group_branch", uid(9443), lambda c: (
        c.execute(GROUP, (uid(9442), A, TS, "新小组")),
        c.execute(MEMBER, (uid(9443), A, R[3], TB, "formal", uid(9442))))),
    # a change to the referenced row that breaks the rows referencing it
    "special_branch_made_regular": ("dual_branch_not_special", M_TS_DUAL, lambda c: c.execute(
        "UPDATE party_branches SET kind = 'regular' WHERE id = ?", (TS,))),
    "group_moved_from_its_members": ("member_group_branch", M_TB, lambda c: c.execute(
        "UPDATE party_groups SET branch_id = ? WHERE id = ?", (TS, G_TB))),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_refused(h: Harness, case: str) -> None:
    code, key, fn = BAD[case]
    _refused(h, fn, code, key)
    _applied(h, lambda c: c.execute(MUST, (uid(9999), A, R[0], None)))  # the sequence goes on


GOOD: dict[str, Callable[[apsw.Connection], object]] = {
    "group_in_own_branch": lambda c: c.execute(GROUP, (uid(9500), A, TB, "g")),
    "member_in_own_branch_group": lambda c: c.execute(MEMBER, (uid(9501), A, R[4], TB, "formal", G_TB)),
    "member_group_changed_within_branch": lambda c: (
        c.execute(GROUP, (uid(9502), A, TB, "g2")),
        c.execute("UPDATE party_members SET group_id = ? WHERE id = ?", (uid(9502), M_TB))),
    "dual_in_own_special": lambda c: c.execute(MEMBER, (uid(9503), A, R[1], TS, "dual", G_TS)),
    "dual_in_county_special": lambda c: c.execute(MEMBER, (uid(9504), A, R[1], CB, "dual", G_CB)),
    "dual_in_new_special_branch": lambda c: (
        c.execute(BRANCH, (uid(9505), A, "新特设支部", "special")),
        c.execute(GROUP, (uid(9506), A, uid(9505), "新小组")),
        c.execute(MEMBER, (uid(9507), A, R[5], uid(9505), "dual", uid(9506)))),
    "group_moved_with_its_members": lambda c: (
        c.execute("UPDATE party_groups SET branch_id = ? WHERE id = ?", (TS, G_TB)),
        c.execute("DELETE FROM party_members WHERE id = ?", (M_TS_DUAL,)),
        c.execute("UPDATE party_members SET branch_id = ? WHERE id = ?", (TS, M_TB))),
    "special_branch_without_duals_made_regular": lambda c: (
        c.execute("DELETE FROM party_members WHERE id = ?", (M_TS_DUAL,)),
        c.execute("UPDATE party_branches SET kind = 'regular' WHERE id = ?", (TS,))),
    "delivery_of_own_notice": lambda c: c.execute(MUST, (uid(9510), A, R[0], N_A)),
    "delivery_of_county_notice": lambda c: c.execute(MUST, (uid(9511), A, R[0], N_C)),
    "delivery_without_notice": lambda c: c.execute(MUST, (uid(9512), A, R[0], None)),
    "delivery_notice_changed_to_county": lambda c: c.execute(
        "UPDATE three_musts SET notice_id = ? WHERE id = ?", (N_C, MUST_A)),
    "member_role_changed": lambda c: c.execute("UPDATE party_members SET role = 'secretary' WHERE id = ?", (M_TB,)),
}


@pytest.mark.parametrize("case", sorted(GOOD))
def test_applied(h: Harness, case: str) -> None:
    _applied(h, GOOD[case])


def test_branch_moved_away_from_its_groups(tmp_path: Path) -> None:
    """A county tablet may move a township's branch to another township, but not leave its groups behind."""
    h = Harness(tmp_path, unit="530326")
    _world(h)
    _refused(h, lambda c: c.execute("UPDATE party_branches SET unit_id = ? WHERE id = ?", (B, TB)),
             "group_branch_unit", G_TB)
    h.tablet.execute("UPDATE party_branches SET unit_id = ? WHERE id = ?", (A, TB))  # as the server still has it
    _applied(h, lambda c: (c.execute("UPDATE party_branches SET unit_id = ? WHERE id = ?", (B, TB)),
                           c.execute("UPDATE party_groups SET unit_id = ? WHERE id = ?", (B, G_TB))))
    assert h.one("SELECT unit_id FROM party_groups WHERE id = ?", (G_TB,)) == (B,)


def test_unrelated_tables_skip_the_rules(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changeset without the watched tables does not reach the rules; one with them does, once."""
    calls: list[int] = []

    def counted(conn: apsw.Connection, changes: list[reference_rules.Change]) -> None:
        calls.append(len(changes))
        reference_rules.check(conn, changes)

    monkeypatch.setattr(changeset_plan, "check_references", counted)
    _applied(h, lambda c: c.execute(
        "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
        " VALUES (?,?,?, '2026-01-03', 'phone', 'self')", (uid(9600), A, R[0])))
    _applied(h, lambda c: (c.execute(MUST, (uid(9601), A, R[0], N_C)), c.execute(MUST, (uid(9602), A, R[1], None))))
    assert calls == [2]


@pytest.mark.parametrize("bad", [b"\x00x", 5, 1.5, "not-a-row"])
def test_hostile_reference_values_are_refused_not_crashed(h: Harness, bad: object) -> None:
    """A changeset from any SQLite (no CHECKs, no STRICT) may carry any type in a watched column: the
    rules look up only text, and the apply refuses the row as before (a CHECK or a foreign key)."""
    loose = apsw.Connection(":memory:")
    loose.execute("CREATE TABLE three_musts (id PRIMARY KEY, unit_id, retiree_id, staff_id, kind, item, delivered_on,"
                  " method, notice_id)")
    loose.execute("CREATE TABLE party_members (id PRIMARY KEY, unit_id, retiree_id, branch_id, role, joined_on,"
                  " relation, group_id)")
    session = apsw.Session(loose, "main")
    session.attach()
    loose.execute(MUST, (uid(9700), A, R[0], bad))
    loose.execute(MEMBER, (uid(9701), A, R[6], bad, "dual", bad))
    before = _snapshot(h)
    r = h.upload(session.changeset())
    assert r.status == "quarantined" and r.reason is not None, r
    assert r.reason.split(":")[0] in ("constraint", "foreign_key"), r.reason
    assert _snapshot(h) == before


def test_a_field_merge_that_would_break_a_rule_is_refused(h: Harness) -> None:
    """Each side valid alone, the merge not: another device puts the member in a second group of branch
    TB; this tablet, which had not seen that, moves the member to TS with a group of TS. The field merge
    would keep the server's newer group beside the tablet's branch — a member of TS in a group of TB — so
    the rows as merged are checked and the upload refused, nothing written."""
    g2 = uid(9015)
    h.both_exec(GROUP, (g2, A, TB, "二组"))
    early = h.now
    h.server_exec("UPDATE party_members SET group_id = ? WHERE id = ?", (g2, M_TB_NOGROUP))
    before = _snapshot(h)
    cs = h.capture(lambda c: c.execute("UPDATE party_members SET branch_id = ?, group_id = ? WHERE id = ?",
                                       (TS, G_TS, M_TB_NOGROUP)))
    r = h.upload(cs, captured=early)
    assert r.status == "quarantined" and r.reason is not None
    assert r.reason.startswith("member_group_branch:") and "as merged" in r.reason
    assert _snapshot(h) == before
    assert h.one("SELECT branch_id, group_id FROM party_members WHERE id = ?", (M_TB_NOGROUP,)) == (TB, g2)


def test_a_resolution_that_would_break_a_rule_is_refused(h: Harness) -> None:
    """A supervisor resolving a group conflict with a group of another branch gets an error, nothing written."""
    g2 = uid(9016)
    h.both_exec(GROUP, (g2, A, TB, "三组"))
    early = h.now
    h.server_exec("UPDATE party_members SET group_id = ? WHERE id = ?", (g2, M_TB_NOGROUP))
    r = h.upload(h.capture(lambda c: c.execute("UPDATE party_members SET group_id = ? WHERE id = ?",
                                               (G_TB, M_TB_NOGROUP))), captured=early)
    assert r.status == "conflicted"
    (cid,) = h.one("SELECT id FROM conflicts WHERE row_id = ? AND status = 'open'", (M_TB_NOGROUP,))
    with pytest.raises(BadRequest) as caught:
        conflicts.resolve(h.conn, cid, choice="value", value=G_TS, actor="supervisor:test", now=h.tick())
    assert caught.value.code == "member_group_branch"
    assert h.one("SELECT group_id FROM party_members WHERE id = ?", (M_TB_NOGROUP,)) == (g2,)
    done = conflicts.resolve(h.conn, cid, choice="tablet", actor="supervisor:test", now=h.tick())
    assert done.status == "resolved"
    assert h.one("SELECT group_id FROM party_members WHERE id = ?", (M_TB_NOGROUP,)) == (G_TB,)
