"""Random edit/sync interleavings across several tablets always converge; resolutions reach tablets."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import supervisors
from server.db import open_reader, open_writer
from tests.conftest import LiveServer, Org, uid
from tests.server.e2e import Tablet, make_tablet, real_now, server_view, tablet_view
from tests.server.harness import RETIREE_COLS

ORG = Org()
OPS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["insert", "update", "contact", "uncontact", "sync", "sync"]),
              st.integers(0, 10**6)),
    min_size=1, max_size=25,
)


def _do(t: Tablet, op: str, n: int, counter: itertools.count[int]) -> None:
    mine = [r[0] for r in t.store.conn.execute("SELECT id FROM retirees ORDER BY id")]
    if op == "sync":
        t.client.sync()
    elif op == "insert" or not mine:
        k = next(counter)
        vals = (uid(8_000_000 + k), t.unit_id, f"钱{k}", "male", "1939-09-09", f"530326193909{k:06d}", "general",
                "13800000000", "乡里")
        with t.store.capture() as c:
            c.execute(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * 9)})", vals)
    elif op == "update":
        rid = mine[n % len(mine)]
        col, val = [("phone", f"139{n % 10**8:08d}"), ("living_alone", n % 2),
                    ("health_status", ["good", "chronic", "serious"][n % 3]), ("address", f"{n % 7}号")][n % 4]
        with t.store.capture() as c:
            c.execute(f"UPDATE retirees SET {col} = ? WHERE id = ?", (val, rid))
    elif op == "contact":
        with t.store.capture() as c:
            c.execute("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
                      " VALUES (?,?,?,?,?,?)", (t.store.new_id(), t.unit_id, mine[n % len(mine)], "2026-10-09",
                                                "phone", "family"))
    else:
        row = t.store.conn.execute("SELECT id FROM contacts ORDER BY id LIMIT 1").fetchone()
        if row is not None:
            with t.store.capture() as c:
                c.execute("DELETE FROM contacts WHERE id = ?", (row[0],))


def test_random_interleavings_converge(live_server: LiveServer, tmp_path: Path) -> None:
    tablets = [make_tablet(live_server, tmp_path, ORG.town_a_code, "a1", 11),
               make_tablet(live_server, tmp_path, ORG.town_a_code, "a2", 12),
               make_tablet(live_server, tmp_path, ORG.town_b_code, "b1", 13)]
    counter = itertools.count()
    rounds = {"n": 0}

    @settings(max_examples=40 if os.environ.get("LAOGAN_STRESS") else 8, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(OPS)
    def run(ops: list[tuple[int, str, int]]) -> None:
        rounds["n"] += 1
        for i, op, n in ops:
            _do(tablets[i], op, n, counter)
        for t in tablets + tablets:
            t.client.sync()
        for t in tablets:
            assert tablet_view(t) == server_view(live_server, t.unit_id), t.name

    try:
        run()
        assert rounds["n"] >= 8
        conn = open_reader(live_server.settings.db_path)
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
        conn.close()
    finally:
        for t in tablets:
            t.close()


def test_resolution_reaches_tablets(live_server: LiveServer, tmp_path: Path) -> None:
    a1 = make_tablet(live_server, tmp_path, ORG.town_a_code, "r1", 21)
    a2 = make_tablet(live_server, tmp_path, ORG.town_a_code, "r2", 22)
    try:
        rid = uid(9_000_001)
        with a1.store.capture() as c:
            c.execute(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * 9)})",
                      (rid, a1.unit_id, "孙九", "male", "1930-01-01", "530326193001019999", "lixiu", "1", "x"))
        a1.client.sync()
        a2.client.sync()
        for t, phone in ((a1, "13911111111"), (a2, "13922222222")):
            with t.store.capture() as c:
                c.execute("UPDATE retirees SET phone = ? WHERE id = ?", (phone, rid))
        a1.client.sync()
        (receipt,) = a2.client.push()
        assert receipt.status == "conflicted"
        conn = open_writer(live_server.settings.db_path, create=False)
        token = supervisors.add(conn, "zhang", now=real_now(), rng=random.Random(5))
        conn.close()
        auth = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=live_server.url) as http:
            assert http.get("/v1/conflicts").status_code == 401
            listed = http.get("/v1/conflicts", headers=auth).json()
            (c,) = listed["conflicts"]
            assert (c["column"], c["server_value"], c["tablet_value"]) == ("phone", "13911111111", "13922222222")
            r = http.post(f"/v1/conflicts/{c['id']}/resolve", headers=auth, json={"choice": "value",
                                                                                    "value": "13933333333"})
            assert r.status_code == 200 and r.json()["status"] == "resolved"
            assert http.post(f"/v1/conflicts/{c['id']}/resolve", headers=auth,
                             json={"choice": "tablet"}).status_code == 400
        for t in (a1, a2, a1, a2):
            t.client.sync()
        for t in (a1, a2):
            assert t.store.conn.execute("SELECT phone FROM retirees WHERE id = ?", (rid,)).fetchone() == (
                "13933333333",)
            assert tablet_view(t) == server_view(live_server, t.unit_id)
    finally:
        a1.close()
        a2.close()
