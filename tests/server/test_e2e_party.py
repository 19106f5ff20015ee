"""End to end: dual membership (“一方隶属、双重管理、双边活动”) and party groups over real HTTP, and a
tablet one schema version behind (3) syncing with this server (4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import httpx
import pytest

from schema import envelope as env
from schema.auth import sign_request
from schema.migrations import migrate
from schema.tables import table
from schema.wire import ENVELOPE_MEDIA_TYPE
from server.db import open_reader, open_writer
from server.ledger import ledgered
from sync.changesets import check_pull, pull_conflict
from sync.errors import SharedRow
from tests.conftest import NOW, LiveServer, Org, uid
from tests.server.e2e import Tablet, make_tablet, real_now, server_view, tablet_view
from tests.server.harness import retiree_sql

ORG = Org()
TOWN_BRANCH, SPECIAL_BRANCH, GROUP, JOINT = uid(7_000_001), uid(7_000_002), uid(7_000_003), uid(7_000_004)
MEMBER_COLS = "id, unit_id, retiree_id, branch_id, role, relation, group_id"


@pytest.fixture
def party(live_server: LiveServer) -> LiveServer:
    """The town's own branch (金钟镇), the county's special branch for residents (shared with the units below)
    and one of its party groups, written on the server as an import."""
    conn = open_writer(live_server.settings.db_path, create=False)
    with ledgered(conn, kind="import", actor="test", now=NOW):
        conn.execute("INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?, ?, '金钟镇离退休干部党支部',"
                     " 'regular')", (TOWN_BRANCH, ORG.town_a))
        conn.execute("INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?, ?, '金钟镇片区联合党支部',"
                     " 'joint')", (JOINT, ORG.town_a))
        conn.execute("INSERT INTO party_branches (id, unit_id, name, kind, special_basis) VALUES (?, ?,"
                     " '会泽县城东社区退休干部特设党支部', 'special', 'residence')", (SPECIAL_BRANCH, ORG.county))
        conn.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, '城东书画小组',"
                     " 'interest')", (GROUP, ORG.county, SPECIAL_BRANCH))
    conn.close()
    return live_server


@pytest.fixture
def tablets(party: LiveServer, tmp_path: Path) -> Iterator[tuple[Tablet, Tablet]]:
    town = make_tablet(party, tmp_path, ORG.town_a_code, "town", 11)
    county = make_tablet(party, tmp_path, ORG.county_code, "county", 12)
    yield town, county
    town.close()
    county.close()


def _central(server: LiveServer, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = open_reader(server.settings.db_path)
    try:
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]
    finally:
        conn.close()


def _retiree(t: Tablet, rid: str, n: int) -> None:
    sql, args = retiree_sql(t.unit_id, rid, n)
    with t.store.capture() as c:
        c.execute(sql, args)


def test_dual_membership_syncs_and_both_branches_see_it(party: LiveServer, tablets: tuple[Tablet, Tablet]) -> None:
    town, county = tablets
    for t in tablets:
        t.client.sync()
    # the town's tablet sees the county's special branch and its group (shared below), read-only
    assert town.store.conn.execute("SELECT name, basis FROM party_groups").fetchall() == [("城东书画小组", "interest")]
    with pytest.raises(SharedRow), town.store.capture() as c:
        c.execute("UPDATE party_groups SET name = '改名' WHERE id = ?", (GROUP,))
    rid, formal, dual = uid(7_000_010), uid(7_000_011), uid(7_000_012)
    _retiree(town, rid, 1)
    with town.store.capture() as c:  # formal in the town's branch; the special branch also manages the member
        c.execute(f"INSERT INTO party_members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, 'member', 'formal', NULL)",
                  (formal, town.unit_id, rid, TOWN_BRANCH))
        c.execute(f"INSERT INTO party_members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, 'member', 'dual', ?)",
                  (dual, town.unit_id, rid, SPECIAL_BRANCH, GROUP))
    receipts = town.client.sync().receipts
    assert [r.status for r in receipts] == ["applied", "applied"]
    assert _central(party, "SELECT id, branch_id, relation, group_id FROM party_members WHERE retiree_id = ?"
                           " ORDER BY relation DESC", (rid,)) == [
        (formal, TOWN_BRANCH, "formal", None), (dual, SPECIAL_BRANCH, "dual", GROUP)]
    # a second formal membership is refused on the tablet itself (the same UNIQUE index as the server)
    with pytest.raises(apsw.ConstraintError, match=r"party_members.relation"), town.store.capture() as c:
        c.execute(f"INSERT INTO party_members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, 'member', 'formal', NULL)",
                  (uid(7_000_013), town.unit_id, rid, JOINT))
    # the county's tablet (its scope holds the town) pulls both memberships and the person, and records
    # the special branch's meeting with the dual member present (双边活动)
    county.client.sync()
    assert county.store.conn.execute("SELECT relation FROM party_members WHERE retiree_id = ? ORDER BY 1",
                                     (rid,)).fetchall() == [("dual",), ("formal",)]
    assert county.store.conn.execute("SELECT name FROM retirees WHERE id = ?", (rid,)).fetchone() == ("王1",)
    meeting = uid(7_000_020)
    with county.store.capture() as c:
        c.execute("INSERT INTO party_meetings (id, unit_id, branch_id, kind, held_on) VALUES (?, ?, ?, 'group',"
                  " '2026-10-20')", (meeting, county.unit_id, SPECIAL_BRANCH))
        c.execute("INSERT INTO meeting_attendance (id, unit_id, meeting_id, member_id, status) VALUES (?, ?, ?, ?,"
                  " 'present')", (uid(7_000_021), county.unit_id, meeting, dual))
    assert [r.status for r in county.client.sync().receipts] == ["applied"]
    assert _central(party, "SELECT m.relation, b.kind FROM meeting_attendance a JOIN party_members m"
                           " ON m.id = a.member_id JOIN party_branches b ON b.id = m.branch_id") == [("dual", "special")]
    for t in tablets:
        t.client.sync()
        assert tablet_view(t) == server_view(party, t.unit_id), t.name


def test_the_town_tablet_cannot_write_the_county_group(party: LiveServer, tablets: tuple[Tablet, Tablet]) -> None:
    town, _ = tablets
    town.client.sync()
    with pytest.raises(SharedRow), town.store.capture() as c:
        c.execute("INSERT INTO party_groups (id, unit_id, branch_id, name, basis) VALUES (?, ?, ?, '新小组', 'other')",
                  (uid(7_000_030), ORG.county, SPECIAL_BRANCH))


class V3Tablet:
    """A tablet still on schema version 3, speaking the wire protocol as the version-3 code did: uploads
    sealed with schema version 3, pulls that do not state a schema, pulled changesets checked against its
    own columns before they are applied."""

    def __init__(self, enrolled: Tablet, path: Path) -> None:
        self.t = enrolled
        self.db = apsw.Connection(str(path))
        migrate(self.db, "tablet", target=3)
        self.enrolment = enrolled.store.enrolment()
        self.seq = 0

    def columns(self, name: str) -> tuple[str, ...]:
        return tuple(str(r[1]) for r in self.db.execute(f'PRAGMA table_info("{name}")'))

    def upload(self, server: LiveServer, fn: str, args: tuple[object, ...]) -> dict[str, object]:
        session = apsw.Session(self.db, "main")
        session.attach()
        with self.db:
            self.db.execute(fn, args)
        cs = session.changeset()
        session.close()
        self.seq += 1
        body = env.seal(cs, kind=env.KIND_UPLOAD, device_id=self.t.device_id, seq=self.seq, cursor=0,
                        schema_version=3, now=int(real_now().timestamp()), signing_key=self.t.keys.sign_key,
                        recipient=self.enrolment.server_box_key())
        resp = httpx.post(server.url + "/v1/changesets", content=body, headers={"content-type": ENVELOPE_MEDIA_TYPE})
        assert resp.status_code == 200, resp.text
        got: dict[str, object] = resp.json()
        return got

    def pull(self, server: LiveServer, query: str = "after=0") -> bytes:
        path_qs = f"/v1/changes?{query}"
        auth = sign_request(self.t.keys.sign_key, device_id=self.t.device_id, method="GET", path_qs=path_qs,
                            now=int(real_now().timestamp()))
        resp = httpx.get(server.url + path_qs, headers={"authorization": auth})
        assert resp.status_code == 200, resp.text
        opened = env.verify_and_open(resp.content, signer_public=self.enrolment.server_sign_key(),
                                     recipient_private=self.t.keys.box_key, expected_kind=env.KIND_PULL,
                                     expected_device_id=self.t.device_id)
        return opened.changeset

    def apply(self, changeset: bytes) -> int:
        n = check_pull(changeset, self.columns)  # what the version-3 code checks: exactly its own columns
        with self.db:
            apsw.Changeset.apply(changeset, self.db, conflict=pull_conflict)
        return n


def test_a_v3_tablet_syncs_with_the_v4_server(party: LiveServer, tablets: tuple[Tablet, Tablet],
                                              tmp_path: Path) -> None:
    town, _ = tablets
    rid, formal, dual = uid(7_000_040), uid(7_000_041), uid(7_000_042)
    _retiree(town, rid, 2)
    with town.store.capture() as c:
        c.execute(f"INSERT INTO party_members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, 'member', 'formal', ?)",
                  (formal, town.unit_id, rid, TOWN_BRANCH, None))
        c.execute(f"INSERT INTO party_members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, 'member', 'dual', ?)",
                  (dual, town.unit_id, rid, SPECIAL_BRANCH, GROUP))
    town.client.sync()
    old = V3Tablet(make_tablet(party, tmp_path, ORG.town_a_code, "old", 13), tmp_path / "old.db")
    try:
        unstated = old.pull(party)
        assert old.pull(party, "after=0&schema=3") == unstated  # not stating a schema is stating 3
        assert old.apply(unstated) > 0
        # the formal row arrives in the version-3 shape; the dual row, which its UNIQUE (retiree_id) index
        # could not hold, and the party groups, which it has no table for, do not
        assert old.db.execute("SELECT id, branch_id FROM party_members").fetchall() == [(formal, TOWN_BRANCH)]
        assert old.db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'party_groups'").fetchone() == (0,)
        assert {r[0] for r in old.db.execute("SELECT id FROM party_branches")} == {TOWN_BRANCH, JOINT, SPECIAL_BRANCH}
        # a version-3 upload of a membership (six columns) applies; the server fills relation and group_id
        rid2 = uid(7_000_043)
        sql, args = retiree_sql(ORG.town_a, rid2, 3)
        assert old.upload(party, sql, args)["status"] == "applied"
        got = old.upload(party, "INSERT INTO party_members (id, unit_id, retiree_id, branch_id, role) VALUES"
                         " (?, ?, ?, ?, 'member')", (uid(7_000_044), ORG.town_a, rid2, TOWN_BRANCH))
        assert got["status"] == "applied", got
        assert _central(party, "SELECT relation, group_id FROM party_members WHERE id = ?", (uid(7_000_044),)) == [
            ("formal", None)]
        # its edit of the formal row (six columns) leaves the server's version-4 columns alone
        got = old.upload(party, "UPDATE party_members SET role = 'committee' WHERE id = ?", (formal,))
        assert got["status"] == "applied", got
        assert _central(party, "SELECT role, relation FROM party_members WHERE id = ?", (formal,)) == [
            ("committee", "formal")]
        assert _central(party, "SELECT relation, group_id FROM party_members WHERE id = ?", (dual,)) == [
            ("dual", GROUP)]
        # a version-4 tablet gets every column, the dual row and the groups
        town.client.sync()
        assert town.store.conn.execute("SELECT role, relation FROM party_members WHERE retiree_id = ?"
                                       " ORDER BY relation", (rid,)).fetchall() == [("member", "dual"),
                                                                                    ("committee", "formal")]
        columns = table("party_members").column_names()
        assert town.store.columns("party_members") == columns and len(old.columns("party_members")) == 6
    finally:
        old.db.close()
        old.t.close()


def test_a_pull_for_a_schema_newer_than_the_server_is_a_400(party: LiveServer, tablets: tuple[Tablet, Tablet]) -> None:
    town, _ = tablets
    path_qs = "/v1/changes?after=0&schema=5"
    auth = sign_request(town.keys.sign_key, device_id=town.device_id, method="GET", path_qs=path_qs,
                        now=int(real_now().timestamp()))
    resp = httpx.get(party.url + path_qs, headers={"authorization": auth})
    assert resp.status_code == 400
