"""The outreach queries (server.audit.queries_outreach) on the audit fixture: today is 2026-11-20."""

from __future__ import annotations

from pathlib import Path

from server.audit.app import AuditApp
from server.db import open_writer
from server.ledger import ledgered
from tests.server.audit.conftest import Clock, make_app
from tests.server.audit.fixture import NOW, RETIREES, Fixture
from tests.server.audit.test_queries import A_CODE, B_CODE, D_CODE, R, rows, who


def test_musts_coverage(app: AuditApp, fx: Fixture) -> None:
    # November: one document to R1 in town A; every unit with living retirees shows, zeros included
    kinds = ("文件必须送到", "会议必须邀请", "上级精神必须传达")
    got = {r["单位代码"]: r for r in rows(app, fx, "auditor", "musts_coverage")}
    assert got[A_CODE] == {"单位代码": A_CODE, "单位": "金钟镇", "在世人数": 4, "送达次数": 1,
                           **dict(zip(kinds, (1, 0, 0), strict=True)), "送达人数(在世)": 1, "覆盖率(%)": 25.0}
    assert (got[B_CODE]["在世人数"], got[B_CODE]["送达次数"], got[B_CODE]["覆盖率(%)"]) == (2, 0, 0.0)
    assert (got[D_CODE]["在世人数"], got[D_CODE]["送达人数(在世)"]) == (1, 0)  # R4 died in October
    assert list(got) == sorted(got)
    assert [r["送达次数"] for r in rows(app, fx, "auditor", "musts_coverage", month="2026-10", unit=A_CODE)] == [0]


def _target(n: int) -> list[str]:
    """Which of the four-nearby conditions retiree ``n`` of the fixture meets on 2026-11-20."""
    row = RETIREES[n - 1]
    birth, disabled, lost, empty, hardship = row[4], row[11], row[13], row[14], row[15]
    flags = [("高龄", birth <= "1946-11-20"), ("失能", disabled == 1), ("失独", lost == 1), ("空巢", empty == 1),
             ("经济困难", hardship == 1)]
    return [zh for zh, on in flags if on]


def test_four_nearby_gaps(app: AuditApp, fx: Fixture) -> None:
    # living, in the target group, not in the service: R5 is in it (four_nearby = 1), R4 died, R7 is 71
    got = rows(app, fx, "auditor", "four_nearby_gaps")
    expected_ids = {1: A_CODE, 2: A_CODE, 8: A_CODE, 3: B_CODE, 6: B_CODE}
    assert [(r["单位代码"], r["编号"]) for r in got] == sorted((code, R[n]) for n, code in expected_ids.items())
    first = next(r for r in got if r["编号"] == R[1])
    assert first == {"单位代码": A_CODE, "单位": "金钟镇", **who(1, "王**", "85-89")}  # who, not why: disability is personal
    senior = {r["编号"]: r["符合条件"] for r in rows(app, fx, "senior", "four_nearby_gaps")}
    assert senior == {R[n]: " ".join(_target(n)) for n in expected_ids}
    assert senior[R[6]] == "高龄 失能" and senior[R[3]] == "高龄 失独"
    assert [r["编号"] for r in rows(app, fx, "auditor", "four_nearby_gaps", unit=B_CODE)] == sorted([R[3], R[6]])


def test_resource_orders(app: AuditApp, fx: Fixture) -> None:
    # November's orders: town A O3 (open) and O7 (cancelled); town B O2 (assigned); the department's O6
    # fulfilled by the county's charity supermarket, registered in the department
    got = {r["单位代码"]: r for r in rows(app, fx, "auditor", "resource_orders")}
    assert got[D_CODE] == {"单位代码": D_CODE, "单位": "县财政局", "下单数": 1, "已完成": 1, "其中由社区资源承接": 1,
                           "社区资源承接占比(%)": 100.0, "用到的社区资源数": 1, "本单位登记的可用社区资源数": 1}
    assert got[A_CODE] == {"单位代码": A_CODE, "单位": "金钟镇", "下单数": 2, "已完成": 0, "其中由社区资源承接": 0,
                           "社区资源承接占比(%)": None, "用到的社区资源数": 0, "本单位登记的可用社区资源数": 0}
    assert got[B_CODE]["下单数"] == 1
    october = rows(app, fx, "senior", "resource_orders", month="2026-10")
    assert [(r["单位代码"], r["已完成"], r["其中由社区资源承接"]) for r in october] == [(A_CODE, 1, 0)]


def test_four_nearby_gaps_do_not_tell_an_auditor_who_is_disabled(fx: Fixture, tmp_path: Path, clock: Clock) -> None:
    # R7 (71, no other condition) becomes disabled: in the group for that alone. Seniors see him; an auditor
    # seeing a 70-74-year-old with no shown condition on the list would know he is disabled, so does not.
    conn = open_writer(fx.db)
    with ledgered(conn, kind="import", actor="test", now=NOW):
        conn.execute("UPDATE retirees SET disabled = 1 WHERE id = ?", (R[7],))
    conn.close()
    audit = make_app(fx, tmp_path / "audit", clock)
    try:
        auditor = [r["编号"] for r in rows(audit, fx, "auditor", "four_nearby_gaps", unit=D_CODE)]
        senior = {r["编号"]: r["符合条件"] for r in rows(audit, fx, "senior", "four_nearby_gaps", unit=D_CODE)}
    finally:
        audit.close()
    assert auditor == []
    assert senior == {R[7]: "失能"}
