"""Thousands of generated concurrent-edit pairs: the merge never loses an edit silently."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import uid
from tests.server.harness import Harness, retiree_sql

EDITABLE = {
    "phone": st.sampled_from(["13800000000", "13900000001", "13700000002", None]),
    "address": st.sampled_from(["金钟镇1号", "娜姑镇2号", "县城3号"]),
    "living_alone": st.sampled_from([0, 1]),
    "marital_status": st.sampled_from(["married", "widowed", "divorced"]),
    "health_status": st.sampled_from(["good", "chronic", "serious", "bedridden"]),
    "hobbies": st.sampled_from(["书法", "象棋", None]),
    "category": st.sampled_from(["general", "section_level"]),
}
BASE = {"phone": "13800000000", "address": "金钟镇1号", "living_alone": 0, "marital_status": "married",
        "health_status": "good", "hobbies": None, "category": "general"}
EXAMPLES = 3000 if os.environ.get("LAOGAN_STRESS") else 1000


def edits() -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({}, optional=EDITABLE)


def test_concurrent_edit_pairs(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    counter = iter(range(10**6))
    stats = {"merged_clean": 0, "queued": 0, "deletes": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(server=edits(), tablet=edits(), delete=st.sampled_from([None, "server", "tablet"]))
    def check(server: dict[str, object], tablet: dict[str, object], delete: str | None) -> None:
        n = next(counter)
        rid = uid(10**6 + n)
        sql, args = retiree_sql(h.unit_id, rid, n % 10000)
        h.both_exec(sql, args)
        if delete == "server":
            h.server_exec("DELETE FROM retirees WHERE id = ?", (rid,))
        elif server:
            h.server_exec("UPDATE retirees SET " + ", ".join(f"{k} = ?" for k in server) + " WHERE id = ?",
                          (*server.values(), rid))
        if delete == "tablet":
            cs = h.capture(lambda c: c.execute("DELETE FROM retirees WHERE id = ?", (rid,)))
        elif tablet:
            cs = h.capture(lambda c: c.execute(
                "UPDATE retirees SET " + ", ".join(f"{k} = ?" for k in tablet) + " WHERE id = ?",
                (*tablet.values(), rid)))
        else:
            return
        before = h.one("SELECT count(*) FROM conflicts")[0]  # type: ignore[index]
        receipt = h.upload(cs)
        assert receipt.status != "quarantined", receipt.reason
        new = [dict(zip(("column", "kind", "server", "tablet"), r, strict=True)) for r in h.conn.execute(
            "SELECT column_name, kind, server_value, tablet_value FROM conflicts WHERE id > ?", (before,))]
        row = h.one("SELECT " + ", ".join(BASE) + " FROM retirees WHERE id = ?", (rid,))
        server_changed = {k: v for k, v in server.items() if v != BASE[k]}
        tablet_changed = {k: v for k, v in tablet.items() if v != BASE[k]}
        if delete == "server":
            assert row is None
            if tablet_changed:
                assert [c["kind"] for c in new] == ["edited_after_delete"]
                assert json.loads(str(new[0]["tablet"])) == tablet_changed  # the tablet's edit is kept
            stats["deletes"] += 1
            return
        if delete == "tablet":
            if server_changed:
                assert row is not None and [c["kind"] for c in new] == ["deleted_after_edit"]
            else:
                assert row is None and new == []
            stats["deletes"] += 1
            return
        assert row is not None
        current = dict(zip(BASE, row, strict=True))
        both = {k for k in server_changed.keys() & tablet_changed.keys() if server_changed[k] != tablet_changed[k]}
        assert {c["column"] for c in new} == both  # same column, different values: always queued
        for c in new:
            assert c["kind"] == "field"
            assert json.loads(str(c["server"])) == server_changed[c["column"]]
            assert json.loads(str(c["tablet"])) == tablet_changed[c["column"]]
            assert current[c["column"]] in (server_changed[c["column"]], tablet_changed[c["column"]])
        for k in BASE:  # different columns always merge
            if k in both:
                continue
            if k in tablet_changed:
                assert current[k] == tablet_changed[k], k
            elif k in server_changed:
                assert current[k] == server_changed[k], k
            else:
                assert current[k] == BASE[k], k
        stats["queued" if new else "merged_clean"] += 1

    try:
        check()
        print(f"\nmerge pairs: {stats}")
        assert stats["queued"] > 0 and stats["merged_clean"] > 0 and stats["deletes"] > 0
    finally:
        h.close()
