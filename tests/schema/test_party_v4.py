"""Schema version 4: party groups and dual membership (“两不、一方、两双”), and the migration from 3."""

from __future__ import annotations

import apsw
import pytest

from schema.migrations import current_version, migrate, migration_sql
from schema.model import Index
from schema.tables import pull_shape_changes, table
from tests.conftest import uid

UNIT_A, UNIT_B, COUNTY = uid(2), uid(3), uid(1)
R1, R2 = uid(50), uid(51)
REGULAR, SPECIAL, OTHER, FOURTH = uid(60), uid(61), uid(62), uid(63)


def _v3_with_rows(kind: str) -> apsw.Connection:
    conn = apsw.Connection(":memory:")
    if kind == "central":
        conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, kind, target=3)  # type: ignore[arg-type]
    conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, '530326', '会泽县', 'county')", (COUNTY,))
    for u, code in ((UNIT_A, "530326101"), (UNIT_B, "530326102")):
        conn.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?, ?, '镇', 'township', ?)",
                     (u, code, COUNTY))
    for i, r in enumerate((R1, R2)):
        conn.execute("INSERT INTO retirees (id, unit_id, name, sex, birth_date, id_number, category)"
                     " VALUES (?, ?, '李明', 'male', '1940-01-01', ?, 'general')", (r, UNIT_A, f"53032619400101000{i}"))
    for b, u, kind_ in ((REGULAR, UNIT_A, "regular"), (SPECIAL, COUNTY, "special"), (OTHER, UNIT_B, "joint"),
                          (FOURTH, UNIT_B, "regular")):
        conn.execute("INSERT INTO party_branches (id, unit_id, name, kind, special_basis) VALUES (?, ?, ?, ?, ?)",
                     (b, u, f"支部{b[-2:]}", kind_, "residence" if kind_ == "special" else None))
    conn.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id) VALUES (?, ?, ?, ?)",
                 (uid(70), UNIT_A, R1, REGULAR))
    conn.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, role) VALUES (?, ?, ?, ?, 'secretary')",
                 (uid(71), UNIT_A, R2, SPECIAL))
    return conn


def _indexes(conn: apsw.Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'party_members' AND sql IS NOT NULL")}


def _member(conn: apsw.Connection, n: int, retiree: str, branch: str, relation: str = "formal") -> None:
    conn.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, relation) VALUES (?, ?, ?, ?, ?)",
                 (uid(n), UNIT_A, retiree, branch, relation))


@pytest.mark.parametrize("kind", ["central", "tablet"])
def test_v3_to_v4_keeps_every_member_as_a_formal_one(kind: str) -> None:
    conn = _v3_with_rows(kind)
    assert "ix_party_members_retiree_id" in _indexes(conn)
    assert migrate(conn, kind) == 1  # type: ignore[arg-type]
    assert current_version(conn) == 4
    assert conn.execute("SELECT id, retiree_id, branch_id, role, relation, group_id FROM party_members"
                        " ORDER BY id").fetchall() == [
        (uid(70), R1, REGULAR, "member", "formal", None),
        (uid(71), R2, SPECIAL, "secretary", "formal", None),
    ]
    auditors = {"ix_party_members_branch_id_relation_group_id", "ix_party_members_relation_retiree_id_branch_id"}
    assert _indexes(conn) == {"ix_party_members_branch_id", "ix_party_members_unit_id",
                              "ix_party_members_retiree_id_relation", "ix_party_members_retiree_id_branch_id",
                              "ix_party_members_group_id", *(auditors if kind == "central" else ())}
    assert conn.execute("SELECT count(*) FROM party_groups").fetchone() == (0,)


@pytest.mark.parametrize("kind", ["central", "tablet"])
def test_one_formal_membership_per_retiree_and_one_row_per_branch(kind: str) -> None:
    conn = _v3_with_rows(kind)
    migrate(conn, kind)  # type: ignore[arg-type]
    _member(conn, 80, R1, SPECIAL, "dual")  # 双重管理: formal in REGULAR, also managed by SPECIAL
    _member(conn, 81, R1, OTHER, "dual")  # a second special branch may manage the member too
    with pytest.raises(apsw.ConstraintError, match=r"retiree_id, party_members.relation"):
        _member(conn, 82, R1, FOURTH, "formal")  # a second formal membership
    with pytest.raises(apsw.ConstraintError, match=r"retiree_id, party_members.branch_id"):
        _member(conn, 83, R1, SPECIAL, "dual")  # the same branch twice
    with pytest.raises(apsw.ConstraintError, match=r"retiree_id, party_members.branch_id"):
        _member(conn, 84, R2, SPECIAL, "dual")  # dual where the member is formal already
    with pytest.raises(apsw.ConstraintError, match=r"party_members.relation"):
        _member(conn, 85, R2, REGULAR, "associate")
    assert conn.execute("SELECT retiree_id, relation, count(*) FROM party_members GROUP BY 1, 2"
                        " ORDER BY 1, 2").fetchall() == [(R1, "dual", 2), (R1, "formal", 1), (R2, "formal", 1)]


def test_party_groups_belong_to_a_branch_and_a_member_to_a_group() -> None:
    conn = _v3_with_rows("central")
    migrate(conn, "central")
    conn.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, '书画小组', 'interest')",
                 (uid(90), COUNTY, SPECIAL))
    conn.execute("UPDATE party_members SET group_id = ? WHERE id = ?", (uid(90), uid(71)))
    with pytest.raises(apsw.ConstraintError, match=r"party_groups.basis"):
        conn.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, 'x', 'hobby')",
                     (uid(91), COUNTY, SPECIAL))
    with pytest.raises(apsw.ConstraintError, match="FOREIGN KEY"):
        conn.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, 'x', 'other')",
                     (uid(92), COUNTY, uid(999)))
    with pytest.raises(apsw.ConstraintError, match="FOREIGN KEY"):
        conn.execute("UPDATE party_members SET group_id = ? WHERE id = ?", (uid(999), uid(70)))
    assert conn.execute("SELECT group_id FROM party_members WHERE id = ?", (uid(71),)).fetchone() == (uid(90),)


def test_an_index_dropped_from_both_kinds() -> None:
    ix = Index(("a",), unique=True, dropped_in=4)
    assert [ix.present(k, v) for k in ("central", "tablet") for v in (1, 3, 4, 5)] == [True, True, False, False] * 2
    central = Index(("a",), central_dropped_in=2)
    assert [central.present("central", v) for v in (1, 2)] == [True, False]
    assert [central.present("tablet", v) for v in (1, 2)] == [True, True]
    # migration 4 drops the old index before creating its replacements, on both kinds
    for kind in ("central", "tablet"):
        sql = migration_sql(kind, 4)  # type: ignore[arg-type]
        drop = sql.index('DROP INDEX IF EXISTS "ix_party_members_retiree_id"')
        assert drop < min(i for i, s in enumerate(sql) if "ix_party_members_retiree_id_" in s)


def test_the_registry_says_what_a_version_changes_for_pulls() -> None:
    assert [pull_shape_changes(v) for v in (1, 2, 3, 4)] == [True, False, False, True]
    members = table("party_members")
    assert [c.name for c in members.columns_at(3)] == ["id", "unit_id", "retiree_id", "branch_id", "role",
                                                       "joined_on"]
    assert [c.name for c in members.columns_at(4)][-2:] == ["relation", "group_id"]
    assert members.rows_since == ((4, "relation <> 'formal'"),)
