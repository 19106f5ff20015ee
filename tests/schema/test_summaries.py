"""The derived (summary) tables stay equal to a from-scratch recomputation through ordinary writes."""

from __future__ import annotations

import random
from collections.abc import Callable

import apsw
import pytest

from schema import enums as E
from schema.derived import bring_up_to_date, drop_triggers, mismatches, refill
from schema.migrations import migrate, migration_sql
from schema.tables import derived_tables, synced_tables, tables_for
from tests.conftest import uid

UNITS = [uid(900 + i) for i in range(3)]
HOT = ("contacts", "visits", "three_musts")
"""Upload tables written on every sync: no trigger may make their writes dearer."""


def _insert(conn: apsw.Connection, table: str, **row: object) -> None:
    # OR IGNORE: a random attendance may repeat (meeting, member), which is unique
    conn.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


class World:
    """A small central database written the way the server, CLI or a rebuild would: plain SQL."""

    def __init__(self, conn: apsw.Connection, rng: random.Random) -> None:
        self.conn, self.rng, self.n = conn, rng, 1000
        self.retirees: list[str] = []
        self.members: list[str] = []
        self.branches: list[str] = []
        self.meetings: list[str] = []
        self.attendance: list[str] = []
        self.study: list[str] = []
        for i, u in enumerate(UNITS):
            _insert(conn, "units", id=u, code=f"43{i}", name=f"单位{i}", level=E.UNIT_LEVEL.codes()[-1])
        _insert(conn, "staff", id=uid(990), unit_id=UNITS[0], name="张三", role=E.STAFF_ROLE.codes()[0], active=1)

    def new_id(self) -> str:
        self.n += 1
        return uid(self.n)

    def day(self) -> str:
        return f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def retiree_values(self) -> dict[str, object]:
        r = self.rng
        return {"unit_id": r.choice(UNITS), "birth_date": f"{r.randint(1930, 1950)}-{r.randint(1, 12):02d}-15",
                "marital_status": r.choice(E.MARITAL.codes()), "health_status": r.choice(E.HEALTH.codes()),
                "hospitalised": r.randint(0, 1), "living_alone": r.randint(0, 1), "disabled": r.randint(0, 1),
                "lost_only_child": r.randint(0, 1), "empty_nest": r.randint(0, 1),
                "financial_hardship": r.randint(0, 1), "caseworker_id": r.choice([None, uid(990)]),
                "deceased_on": r.choice([None, None, None, "2026-03-01"])}

    def add_retiree(self) -> None:
        rid = self.new_id()
        _insert(self.conn, "retirees", id=rid, name="李明", sex="male", category=self.rng.choice(E.CATEGORY.codes()),
                id_number=f"5303261936{self.n:08d}", **self.retiree_values())
        self.retirees.append(rid)

    def change_retiree(self) -> None:
        vals = self.retiree_values()
        cols = self.rng.sample(sorted(vals), self.rng.randint(1, 4))
        self.conn.execute(f"UPDATE retirees SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                          (*(vals[c] for c in cols), self.rng.choice(self.retirees)))

    def add_branch(self) -> None:
        bid = self.new_id()
        _insert(self.conn, "party_branches", id=bid, unit_id=self.rng.choice(UNITS), name="支部",
                kind=self.rng.choice(E.BRANCH_KIND.codes()))
        self.branches.append(bid)

    def add_member(self) -> None:
        self.add_retiree()  # retiree_id is unique among members
        mid = self.new_id()
        _insert(self.conn, "party_members", id=mid, unit_id=self.rng.choice(UNITS),
                branch_id=self.rng.choice(self.branches), retiree_id=self.retirees[-1])
        self.members.append(mid)

    def change_member(self) -> None:
        col, val = self.rng.choice([("branch_id", self.rng.choice(self.branches)), ("unit_id", self.rng.choice(UNITS))])
        self.conn.execute(f"UPDATE party_members SET {col} = ? WHERE id = ?", (val, self.rng.choice(self.members)))

    def add_meeting(self) -> None:
        mid = self.new_id()
        _insert(self.conn, "party_meetings", id=mid, unit_id=self.rng.choice(UNITS), branch_id=self.rng.choice(self.branches),
                kind=self.rng.choice(E.MEETING_KIND.codes()), held_on=self.day())
        self.meetings.append(mid)

    def change_meeting(self) -> None:
        col, val = self.rng.choice([("held_on", self.day()), ("branch_id", self.rng.choice(self.branches))])
        self.conn.execute(f"UPDATE party_meetings SET {col} = ? WHERE id = ?", (val, self.rng.choice(self.meetings)))

    def add_attendance(self) -> None:
        aid = self.new_id()
        _insert(self.conn, "meeting_attendance", id=aid, unit_id=UNITS[0], meeting_id=self.rng.choice(self.meetings),
                member_id=self.rng.choice(self.members), status=self.rng.choice(E.ATTENDANCE.codes()))
        self.attendance.append(aid)

    def change_attendance(self) -> None:
        col, val = self.rng.choice([("status", self.rng.choice(E.ATTENDANCE.codes())),
                                    ("member_id", self.rng.choice(self.members)),
                                    ("meeting_id", self.rng.choice(self.meetings))])
        self.conn.execute(f"UPDATE OR IGNORE meeting_attendance SET {col} = ? WHERE id = ?", (val, self.rng.choice(self.attendance)))

    def add_study(self) -> None:
        sid = self.new_id()
        _insert(self.conn, "home_study", id=sid, unit_id=UNITS[0], member_id=self.rng.choice(self.members),
                delivered_on=self.day(), form=self.rng.choice(E.STUDY_FORM.codes()))
        self.study.append(sid)

    def change_study(self) -> None:
        col, val = self.rng.choice([("delivered_on", self.day()), ("member_id", self.rng.choice(self.members))])
        self.conn.execute(f"UPDATE home_study SET {col} = ? WHERE id = ?", (val, self.rng.choice(self.study)))

    def delete(self) -> None:
        table, ids = self.rng.choice([("retirees", self.retirees), ("party_members", self.members),
                                      ("party_meetings", self.meetings), ("meeting_attendance", self.attendance),
                                      ("home_study", self.study)])
        if len(ids) > 3:
            victim = ids.pop(self.rng.randrange(len(ids)))
            self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (victim,))

    def seed(self) -> None:
        for _ in range(40):
            self.add_retiree()
        for _ in range(4):
            self.add_branch()
        for _ in range(20):
            self.add_member()
        for _ in range(25):
            self.add_meeting()
        for _ in range(150):
            self.add_attendance()
        for _ in range(20):
            self.add_study()

    def step(self) -> None:
        ops: list[Callable[[], None]] = [
            self.add_retiree, self.change_retiree, self.change_retiree, self.add_member, self.change_member,
            self.add_meeting, self.change_meeting, self.add_attendance, self.change_attendance,
            self.change_attendance, self.add_study, self.change_study, self.delete, self.delete]
        self.rng.choice(ops)()


def _counts(conn: apsw.Connection) -> dict[str, int]:
    return {t.name: int(conn.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]) for t in derived_tables()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_follow_ordinary_writes(seed: int) -> None:
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    w = World(conn, random.Random(seed))
    w.seed()
    assert mismatches(conn) == {}
    assert all(_counts(conn).values())  # every summary has rows to get wrong
    for i in range(400):
        w.step()
        if i % 20 == 0:
            assert mismatches(conn) == {}, i
    assert mismatches(conn) == {}
    # the check sees a summary that drifted
    conn.execute("UPDATE unit_special_counts SET ill = ill + 1 WHERE rowid = (SELECT min(rowid) FROM unit_special_counts)")
    conn.execute("DELETE FROM member_absences WHERE rowid = (SELECT min(rowid) FROM member_absences)")
    assert set(mismatches(conn)) == {"unit_special_counts", "member_absences"}
    refill(conn)
    assert mismatches(conn) == {}


def test_migration_fills_summaries_of_existing_rows() -> None:
    """A central database with rows at version 1 gets correct summaries from migration 2."""
    conn = apsw.Connection(":memory:")
    migrate(conn, "central", target=1)
    World(conn, random.Random(7)).seed()
    migrate(conn, "central")
    assert all(_counts(conn).values()) and mismatches(conn) == {}


def test_bulk_load_without_triggers_then_refill() -> None:
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    drop_triggers(conn)
    World(conn, random.Random(5)).seed()
    assert not any(_counts(conn).values())
    refill(conn)
    assert all(_counts(conn).values()) and mismatches(conn) == {}
    assert bring_up_to_date(conn) == []  # tables, indexes and triggers are the registry's


def test_summaries_are_central_only_derived_and_never_on_hot_tables() -> None:
    names = {t.name for t in derived_tables()}
    assert names == {"unit_special_counts", "unit_birth_years", "member_absences"}
    assert not names & {t.name for t in synced_tables()} and not names & {t.name for t in tables_for("tablet")}
    assert not any(t.derivation is None for t in derived_tables())
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    on = {str(r[0]) for r in conn.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")}
    assert on == {"retirees", "party_members", "party_meetings", "meeting_attendance", "home_study"}
    assert not on & set(HOT)
    assert not [s for s in migration_sql("tablet", 2)]


def test_one_member_through_the_cases() -> None:
    """Absent in the 3 months from the branch's meeting; present at it or studied at home: not absent."""
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    w = World(conn, random.Random(0))
    w.add_branch()
    w.add_member()
    member, branch = w.members[0], w.branches[0]

    def months() -> list[str]:
        return [str(r[0]) for r in conn.execute("SELECT ym FROM member_absences WHERE member_id = ? ORDER BY ym",
                                                (member,))]

    _insert(conn, "party_meetings", id=uid(1), unit_id=UNITS[0], branch_id=branch, kind=E.MEETING_KIND.codes()[0],
            held_on="2026-05-20")
    assert months() == ["2026-05", "2026-06", "2026-07"]
    _insert(conn, "meeting_attendance", id=uid(2), unit_id=UNITS[0], meeting_id=uid(1), member_id=member,
            status="present")
    assert months() == []
    conn.execute("UPDATE meeting_attendance SET status = 'absent_ill' WHERE id = ?", (uid(2),))
    assert months() == ["2026-05", "2026-06", "2026-07"]
    conn.execute("UPDATE meeting_attendance SET status = 'present' WHERE id = ?", (uid(2),))
    conn.execute("DELETE FROM meeting_attendance WHERE id = ?", (uid(2),))
    assert months() == ["2026-05", "2026-06", "2026-07"]
    _insert(conn, "home_study", id=uid(3), unit_id=UNITS[0], member_id=member, delivered_on="2026-07-02",
            form=E.STUDY_FORM.codes()[0])
    assert months() == ["2026-05", "2026-06"]
    conn.execute("UPDATE party_meetings SET held_on = '2026-09-01' WHERE id = ?", (uid(1),))
    assert months() == ["2026-10", "2026-11"]
    conn.execute("DELETE FROM party_meetings WHERE id = ?", (uid(1),))
    assert months() == [] and mismatches(conn) == {}

