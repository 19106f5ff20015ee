"""The notice queries (server.audit.queries_notices) on the audit fixture: today is 2026-11-20.

The fixture's notices (``fixture.NOTICES``): N1 of the county, a document due 2026-10-10 to everyone;
N2 of town A, a meeting due 2026-11-25 to 离休 only; N3 of the county, guidance due 2026-11-15 to 科级 and
above. The retirees are all 一般 but R8 (离休, town A); R4 (department) died on 2026-10-01.
"""

from __future__ import annotations

from server.audit.app import AuditApp
from tests.server.audit.fixture import Fixture, N
from tests.server.audit.test_queries import A_CODE, B_CODE, D_CODE, ORG, rows, who

COUNTY = ORG.county_code


def _row(code: str, unit: str, n: int, kind: str, title: str, issued: str, due: str, category: str, state: str,
         due_to: int, on_time: int, share: float | None, so_far: int) -> dict[str, object]:
    return {"下发单位代码": code, "下发单位": unit, "事项编号": N[n], "类型": kind, "标题": title, "下发日期": issued,
            "送达期限": due, "发放范围(及以上)": category, "是否到期": state, "应送达人数": due_to,
            "按期送达人数": on_time, "按期送达率(%)": share, "至今送达人数": so_far, "至今未送达人数": due_to - so_far}


def test_notice_coverage_in_october(app: AuditApp, fx: Fixture) -> None:
    # N1: due to the 7 living on 10-10 (R4 had died: her delivery does not count); R3 and R8 had it in time,
    # R1 only on 11-04; R2, R5, R6, R7 never
    got = rows(app, fx, "auditor", "notice_coverage", month="2026-10")
    assert got == [_row(COUNTY, "会泽县", 1, "文件必须送到", "关于做好离退休干部冬季慰问的通知", "2026-09-25", "2026-10-10",
                        "一般退休干部职工", "已到期", 7, 2, 28.6, 3)]
    assert rows(app, fx, "senior", "notice_coverage", month="2026-10") == got  # nothing personal in it
    assert rows(app, fx, "auditor", "notice_coverage", month="2026-10", unit=COUNTY) == got
    assert rows(app, fx, "auditor", "notice_coverage", month="2026-10", unit=B_CODE) == []  # filters by issuer


def test_notice_coverage_this_month(app: AuditApp, fx: Fixture) -> None:
    # N3 (county, 科级 and above): only R8 is due it, and has not had it; N2 (town A, 离休): R8, not yet due
    got = rows(app, fx, "auditor", "notice_coverage")
    assert got == [
        _row(COUNTY, "会泽县", 3, "上级精神必须传达", "党的二十届四中全会精神", "2026-10-25", "2026-11-15", "科级退休干部",
             "已到期", 1, 0, 0.0, 0),
        _row(A_CODE, "金钟镇", 2, "会议必须邀请", "金钟镇老干部情况通报会", "2026-11-10", "2026-11-25", "离休干部",
             "未到期", 1, 0, 0.0, 0),
    ]
    assert [r["事项编号"] for r in rows(app, fx, "auditor", "notice_coverage", unit=A_CODE)] == [N[2]]


def test_notice_unreached(app: AuditApp, fx: Fixture) -> None:
    got = rows(app, fx, "auditor", "notice_unreached", notice=N[1], unit="")
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", **who(2, "李**", "80-84"), "人员类别": "一般退休干部职工", "是否逾期": "已逾期"},
        {"单位代码": A_CODE, "单位": "金钟镇", **who(5, "刘**", "75-79"), "人员类别": "一般退休干部职工", "是否逾期": "已逾期"},
        {"单位代码": B_CODE, "单位": "娜姑镇", **who(6, "陈**", "80-84"), "人员类别": "一般退休干部职工", "是否逾期": "已逾期"},
        {"单位代码": D_CODE, "单位": "县财政局", **who(7, "欧**", "70-74"), "人员类别": "一般退休干部职工", "是否逾期": "已逾期"},
    ]
    assert [r["编号"] for r in rows(app, fx, "auditor", "notice_unreached", notice=N[1], unit=B_CODE)] == [who(6, "", "")["编号"]]
    senior = rows(app, fx, "senior", "notice_unreached", notice=N[3], unit="")
    assert [(r["单位代码"], r["姓名"], r["人员类别"], r["是否逾期"]) for r in senior] == [(A_CODE, "孙玉梅", "离休干部", "已逾期")]
    assert rows(app, fx, "auditor", "notice_unreached", notice="", unit="") == []
