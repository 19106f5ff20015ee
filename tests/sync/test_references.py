"""The tablet refuses a capture that breaks a rule between rows (sync.references) — the rules the server
enforces on uploads (server.reference_rules) — with nothing written, and lets the right rows through."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import apsw
import pytest

from sync.errors import BrokenReference
from sync.store import TabletStore
from tests.conftest import uid
from tests.sync.conftest import insert_retiree, make_store

COUNTY, TOWN_A, TOWN_B = uid(1), uid(2), uid(3)
REGULAR, SPECIAL, OTHER_TOWN_BRANCH = uid(10), uid(11), uid(12)
GROUP, RETIREE, FORMAL = uid(20), uid(30), uid(40)
NOTICE_COUNTY, NOTICE_B = uid(50), uid(51)


@pytest.fixture
def store(tmp_path: Path) -> TabletStore:
    s = make_store(tmp_path / "tablet.db")
    c = s.conn
    c.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?, 'C', '县', 'county', NULL),"
              " (?, 'A', '甲镇', 'township', ?), (?, 'B', '乙镇', 'township', ?)",
              (COUNTY, TOWN_A, COUNTY, TOWN_B, COUNTY))
    c.execute("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by) VALUES"
              " (?, ?, 'document', '县里的文件', '2026-03-01', '2026-03-31'),"
              " (?, ?, 'document', '乙镇的文件', '2026-03-01', '2026-03-31')", (NOTICE_COUNTY, COUNTY, NOTICE_B, TOWN_B))
    insert_retiree(c, RETIREE, TOWN_A)
    with s.capture() as w:
        w.execute("INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?, ?, '甲镇支部', 'regular'),"
                  " (?, ?, '甲镇特设支部', 'special'), (?, ?, '乙镇支部', 'regular')",
                  (REGULAR, TOWN_A, SPECIAL, TOWN_A, OTHER_TOWN_BRANCH, TOWN_B))
        w.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, '一组', 'residence')",
                  (GROUP, TOWN_A, REGULAR))
        w.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, relation, group_id)"
                  " VALUES (?, ?, ?, ?, 'formal', ?)", (FORMAL, TOWN_A, RETIREE, REGULAR, GROUP))
    return s


def _counts(s: TabletStore) -> tuple[int, ...]:
    return tuple(s.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("party_branches", "party_groups", "party_members", "three_musts", "outbox"))


MUST = ("INSERT INTO three_musts (id, unit_id, retiree_id, kind, item, delivered_on, method, notice_id)"
        " VALUES (?, ?, ?, 'document', '文件', '2026-03-05', 'in_person', ?)")

BAD: dict[str, tuple[str, Callable[[apsw.Connection], object]]] = {
    "group in another unit's branch": ("group_branch_unit", lambda c: c.execute(
        "INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, '跨镇小组', 'other')",
        (uid(21), TOWN_A, OTHER_TOWN_BRANCH))),
    "member in another branch's group": ("member_group_branch", lambda c: c.execute(
        "UPDATE party_members SET branch_id = ? WHERE id = ?", (SPECIAL, FORMAL))),
    "group moved away from its members' branch": ("member_group_branch", lambda c: c.execute(
        "UPDATE party_groups SET branch_id = ? WHERE id = ?", (SPECIAL, GROUP))),
    "dual membership of a regular branch": ("dual_branch_not_special", lambda c: c.execute(
        "INSERT INTO party_members (id, unit_id, retiree_id, branch_id, relation) VALUES (?, ?, ?, ?, 'dual')",
        (uid(41), TOWN_A, RETIREE, OTHER_TOWN_BRANCH))),
    "a special branch with dual members made regular": ("dual_branch_not_special", lambda c: (
        c.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, relation) VALUES (?, ?, ?, ?, 'dual')",
                  (uid(41), TOWN_A, RETIREE, SPECIAL)),
        c.execute("UPDATE party_branches SET kind = 'regular' WHERE id = ?", (SPECIAL,)))),
    "a delivery of a sibling town's notice": ("notice_out_of_scope", lambda c: c.execute(
        MUST, (uid(60), TOWN_A, RETIREE, NOTICE_B))),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_broken_rule_refuses_the_capture_and_writes_nothing(store: TabletStore, case: str) -> None:
    rule, edit = BAD[case]
    before = _counts(store)
    with pytest.raises(BrokenReference) as caught, store.capture() as c:
        edit(c)
    assert caught.value.rule == rule and caught.value.code == "broken_reference"
    assert _counts(store) == before
    assert store.conn.execute("SELECT branch_id, group_id FROM party_members WHERE id = ?", (FORMAL,)).fetchone() == (
        REGULAR, GROUP)


def test_rows_that_keep_the_rules_commit(store: TabletStore) -> None:
    before = _counts(store)
    with store.capture() as c:
        c.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, relation) VALUES (?, ?, ?, ?, 'dual')",
                  (uid(41), TOWN_A, RETIREE, SPECIAL))  # dual management by the special branch
        c.execute(MUST, (uid(60), TOWN_A, RETIREE, NOTICE_COUNTY))  # a notice from the county above
        c.execute(MUST, (uid(61), TOWN_A, RETIREE, None))  # free text, no notice
        c.execute("UPDATE party_members SET group_id = NULL WHERE id = ?", (FORMAL,))
        c.execute("UPDATE party_groups SET branch_id = ? WHERE id = ?", (SPECIAL, GROUP))  # no members left in it
        c.execute("DELETE FROM party_groups WHERE id = ?", (GROUP,))
    assert _counts(store) == (before[0], before[1] - 1, before[2] + 1, before[3] + 2, before[4] + 1)


def test_a_row_that_broke_a_rule_elsewhere_does_not_block_other_edits(store: TabletStore) -> None:
    """A pull can bring a row that breaks a rule (a field merge on the server kept one side's branch and the
    other side's group). Editing its other columns still works, as the server accepts it; changing a
    column the rule reads is checked."""
    store.conn.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES"
                       " (?, ?, ?, '特设支部小组', 'other')", (uid(22), TOWN_A, SPECIAL))
    store.conn.execute("UPDATE party_members SET group_id = ? WHERE id = ?", (uid(22), FORMAL))  # as a pull writes
    with store.capture() as c:
        c.execute("UPDATE party_members SET role = 'secretary' WHERE id = ?", (FORMAL,))
    with pytest.raises(BrokenReference) as caught, store.capture() as c:
        c.execute("UPDATE party_members SET group_id = ?, role = 'member' WHERE id = ?", (uid(22), FORMAL))
        c.execute("UPDATE party_members SET branch_id = ? WHERE id = ?", (OTHER_TOWN_BRANCH, FORMAL))
    assert caught.value.rule == "member_group_branch"
    with store.capture() as c:  # moving it to its group's branch mends it
        c.execute("UPDATE party_members SET branch_id = ? WHERE id = ?", (SPECIAL, FORMAL))
    assert store.conn.execute("SELECT branch_id, group_id, role FROM party_members WHERE id = ?", (FORMAL,)).fetchone() == (
        SPECIAL, uid(22), "secretary")
