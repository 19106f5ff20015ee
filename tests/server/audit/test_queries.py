"""Every canned query gives exactly the known answer on the fixture, for both roles.

Today is 2026-11-20; the default month is 2026-11. The reasoning for each expected row is in the
comments; the rows themselves are in ``fixture.py``.
"""

from __future__ import annotations

import random
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw
import pytest

from server.audit import users
from server.audit.app import AuditApp
from server.audit.queries import canned_queries
from server.audit.sqlbits import ROLES
from server.db import open_writer
from server.ledger import ledgered
from server.settings import Settings
from tests.conftest import make_db, uid
from tests.server.audit.conftest import Clock, get, make_app, run
from tests.server.audit.fixture import NOW, ORG, D, Fixture, R, S

A_CODE, B_CODE, D_CODE = ORG.town_a_code, ORG.town_b_code, ORG.dept_code


def rows(app: AuditApp, fx: Fixture, role: str, name: str, **params: str) -> list[dict[str, Any]]:
    db, token = ("masked", fx.tokens["alice"]) if role == "auditor" else ("central", fx.tokens["sam"])
    qs = urllib.parse.urlencode({"_shape": "array", **params})
    r = run(get(app, f"/{db}/{name}.json?{qs}", token))
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


def who(n: int, masked: str, band: str) -> dict[str, str]:
    return {"编号": R[n], "姓名(脱敏)": masked, "年龄段": band}


def test_not_contacted(app: AuditApp, fx: Fixture) -> None:
    # R1, R5, R7 were reached in November; R4 died in October; R2's November call did not get through.
    got = rows(app, fx, "auditor", "not_contacted")
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", **who(2, "李**", "80-84"), "人员类别": "一般退休干部职工",
         "最近联系日期": "2026-10-10"},
        {"单位代码": A_CODE, "单位": "金钟镇", **who(8, "孙**", "90+"), "人员类别": "离休干部", "最近联系日期": "2026-09-01"},
        {"单位代码": B_CODE, "单位": "娜姑镇", **who(3, "张**", "85-89"), "人员类别": "一般退休干部职工", "最近联系日期": None},
        {"单位代码": B_CODE, "单位": "娜姑镇", **who(6, "陈**", "80-84"), "人员类别": "一般退休干部职工",
         "最近联系日期": "2026-10-20"},
    ]
    senior = rows(app, fx, "senior", "not_contacted")
    assert [(r["姓名"], r["联系电话"]) for r in senior] == [
        ("孙玉梅", "13900008888"), ("李秀英", "13900002222"), ("张德明", "13900003333"), ("陈桂兰", "13900006666")]
    # one township only; and October, when R1 had no call at all
    assert [r["编号"] for r in rows(app, fx, "auditor", "not_contacted", unit=A_CODE)] == [R[2], R[8]]
    october = rows(app, fx, "auditor", "not_contacted", month="2026-10", unit=A_CODE)
    assert [r["编号"] for r in october] == [R[1], R[5], R[8]]
    # the county code covers the townships and the department below it
    assert len(rows(app, fx, "auditor", "not_contacted", unit=ORG.county_code)) == 4


def test_must_visit_overdue(app: AuditApp, fx: Fixture) -> None:
    # R1 hospitalised 11-02, visited 11-06: in time. R5 bereavement 11-08: never visited. R3's complaint
    # (11-15) is still inside its window. R8 ill 11-01, visited only 11-10 (late). R2 turned 80 on 11-10
    # and was visited 11-12; R6 turned 82 on 11-05, visited 11-15: outside 10-29..11-12.
    got = rows(app, fx, "auditor", "must_visit_overdue")
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", **who(8, "孙**", "90+"), "事由": "患病", "发生日期": "2026-11-01",
         "应访截止": "2026-11-08", "逾期天数": 12},
        # a new leader took office (recorded against R2) on 11-03; R2's visit came on 11-12, too late
        {"单位代码": A_CODE, "单位": "金钟镇", **who(2, "李**", "80-84"), "事由": "新领导上任", "发生日期": "2026-11-03",
         "应访截止": "2026-11-10", "逾期天数": 10},
        {"单位代码": A_CODE, "单位": "金钟镇", **who(5, "刘**", "75-79"), "事由": "丧葬", "发生日期": "2026-11-08",
         "应访截止": "2026-11-15", "逾期天数": 5},
        # a birthday is part of the birth date (personal): the auditor sees its month only
        {"单位代码": B_CODE, "单位": "娜姑镇", **who(6, "陈**", "80-84"), "事由": "80岁以上寿辰", "发生日期": "2026-11",
         "应访截止": None, "逾期天数": None},
    ]
    senior_birthday = rows(app, fx, "senior", "must_visit_overdue")[-1]
    assert (senior_birthday["发生日期"], senior_birthday["应访截止"], senior_birthday["逾期天数"]) == (
        "2026-11-05", "2026-11-12", 8)
    # October: R7's hardship on 10-20 was never visited (24 days past 10-27); no one turned 80+ in October
    october = rows(app, fx, "auditor", "must_visit_overdue", month="2026-10")
    assert [(r["编号"], r["事由"], r["逾期天数"]) for r in october] == [(R[7], "遇到困难", 24)]
    assert [r["姓名"] for r in rows(app, fx, "senior", "must_visit_overdue")] == ["孙玉梅", "李秀英", "刘福生", "陈桂兰"]


def test_must_visit_event_stays_with_the_unit_that_recorded_it(fx: Fixture, tmp_path: Path, clock: Clock) -> None:
    # R5 (town A) had a bereavement on 11-08 that nobody visited, then moved to town B: the occasion was
    # town A's to follow up, so it stays under town A (and out of town B's list).
    conn = open_writer(fx.db)
    with ledgered(conn, kind="import", actor="test", now=NOW):
        conn.execute("UPDATE retirees SET unit_id = ? WHERE id = ?", (ORG.town_b, R[5]))
    conn.close()
    audit = make_app(fx, tmp_path / "audit", clock)
    try:
        every = [(r["单位代码"], r["编号"], r["事由"]) for r in rows(audit, fx, "auditor", "must_visit_overdue")]
        town_b = [r["编号"] for r in rows(audit, fx, "auditor", "must_visit_overdue", unit=B_CODE)]
        town_a = [r["编号"] for r in rows(audit, fx, "senior", "must_visit_overdue", unit=A_CODE)]
    finally:
        audit.close()
    assert every == [(A_CODE, R[8], "患病"), (A_CODE, R[2], "新领导上任"), (A_CODE, R[5], "丧葬"),
                     (B_CODE, R[6], "80岁以上寿辰")]
    assert town_b == [R[6]]
    assert town_a == [R[8], R[2], R[5]]


def test_must_visit_office_pickup_is_not_a_visit(fx: Fixture, tmp_path: Path, clock: Clock) -> None:
    # R5's bereavement (11-08) gets a "visit" on 11-10 that was the family collecting the gift at the office:
    # still overdue. A home visit the next day ends it.
    def overdue() -> list[str]:
        audit = make_app(fx, tmp_path / f"audit{len(seen)}", clock)
        try:
            return [r["编号"] for r in rows(audit, fx, "auditor", "must_visit_overdue", unit=A_CODE)]
        finally:
            audit.close()

    seen: list[list[str]] = []
    for n, (day, mode) in enumerate((("2026-11-10", "office_pickup"), ("2026-11-11", "home"))):
        conn = open_writer(fx.db)
        with ledgered(conn, kind="import", actor="test", now=NOW):
            conn.execute("INSERT INTO visits (id, unit_id, retiree_id, staff_id, visited_on, occasion, kind, mode)"
                         " VALUES (?, ?, ?, ?, ?, 'bereavement', 'material', ?)",
                         (uid(711 + n), ORG.town_a, R[5], S[2], day, mode))
        conn.close()
        seen.append(overdue())
    assert seen == [[R[8], R[2], R[5]], [R[8], R[2]]]


def test_absent_members(app: AuditApp, fx: Fixture) -> None:
    # Window 09-01..11-30. R1 attended 11-10; R2 absent throughout but had study delivered 10-20;
    # R8 absent throughout, last present 07-01, last home study 08-01 -> listed. R7's branch met in June only.
    got = rows(app, fx, "auditor", "absent_members")
    assert got == [{"单位代码": A_CODE, "单位": "金钟镇", **who(8, "孙**", "90+"), "所在支部": "金钟镇离退休干部第一支部",
                    "期间组织生活次数": 3, "最近出席日期": "2026-07-01", "最近送学日期": "2026-08-01"}]
    # window 07-01..09-30: R2 and R8 were present on 07-01; R1 attended nothing then and had no study at home
    september = rows(app, fx, "auditor", "absent_members", month="2026-09")
    assert [r["编号"] for r in september] == [R[1]]


@pytest.mark.parametrize("elsewhere", ["attended", "taught_at_home"])
def test_absence_is_of_the_person_across_memberships(app: AuditApp, fx: Fixture, elsewhere: str) -> None:
    """R8, absent from branch 501 (above), is also managed by the special branch 502 (双重管理). Having
    attended a meeting of 502 in the window, or been taught at home under that membership, R8 has not
    been absent from organisational life: neither membership is listed."""
    conn = open_writer(fx.settings.db_path, create=False)
    try:
        with ledgered(conn, kind="admin", actor="test", now=NOW):
            conn.execute("INSERT INTO party_members (id, unit_id, retiree_id, branch_id, relation) VALUES (?, ?, ?, ?,"
                         " 'dual')", (uid(519), ORG.town_a, R[8], uid(502)))
            if elsewhere == "attended":
                conn.execute("INSERT INTO party_meetings (id, unit_id, branch_id, kind, held_on, topic) VALUES"
                             " (?, ?, ?, 'theme_study', '2026-10-05', '学习')", (uid(526), ORG.dept, uid(502)))
                conn.execute("INSERT INTO meeting_attendance (id, unit_id, meeting_id, member_id, status) VALUES"
                             " (?, ?, ?, ?, 'present')", (uid(549), ORG.town_a, uid(526), uid(519)))
            else:
                conn.execute("INSERT INTO home_study (id, unit_id, member_id, delivered_on, form) VALUES"
                             " (?, ?, ?, '2026-10-25', 'in_person')", (uid(553), ORG.town_a, uid(519)))
    finally:
        conn.close()
    listed = [r["编号"] for r in rows(app, fx, "auditor", "absent_members")]
    # (the 502 meeting added in the window makes its living formal member who missed it, R7, absent)
    assert listed == ([] if elsewhere == "taught_at_home" else [R[7]])
    assert [r["编号"] for r in rows(app, fx, "auditor", "absent_members", month="2026-09")] == [R[1]]


def test_visit_kinds(app: AuditApp, fx: Fixture) -> None:
    got = rows(app, fx, "auditor", "visit_kinds")
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", "走访次数": 3, "物质慰问": 1, "精神慰问": 1, "物质和精神慰问": 1,
         "含物质慰问占比(%)": 66.7, "含精神慰问占比(%)": 66.7, "传达政策次数": 2},
        {"单位代码": B_CODE, "单位": "娜姑镇", "走访次数": 1, "物质慰问": 1, "精神慰问": 0, "物质和精神慰问": 0,
         "含物质慰问占比(%)": 100.0, "含精神慰问占比(%)": 0.0, "传达政策次数": 0},
    ]
    assert rows(app, fx, "auditor", "visit_kinds", month="2026-10") == [
        {"单位代码": D_CODE, "单位": "县财政局", "走访次数": 1, "物质慰问": 0, "精神慰问": 1, "物质和精神慰问": 0,
         "含物质慰问占比(%)": 0.0, "含精神慰问占比(%)": 100.0, "传达政策次数": 0}]


def test_orders_overdue(app: AuditApp, fx: Fixture) -> None:
    # open/assigned and requested before 11-06: O1 (10-01, open), O2 (11-01, assigned to S3)
    got = rows(app, fx, "auditor", "orders_overdue")
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", "订单编号": uid(571), **who(1, "王**", "85-89"), "服务项目": "精神慰藉",
         "状态": "待派单", "下单日期": "2026-10-01", "已等待天数": 50, "承接人编号": None, "承接人(脱敏)": None},
        {"单位代码": B_CODE, "单位": "娜姑镇", "订单编号": uid(572), **who(6, "陈**", "80-84"), "服务项目": "医疗保健",
         "状态": "已派单", "下单日期": "2026-11-01", "已等待天数": 19, "承接人编号": S[3], "承接人(脱敏)": "张**"},
    ]
    assert [r["承接人"] for r in rows(app, fx, "senior", "orders_overdue")] == [None, "张卫东"]


def test_branch_meetings(app: AuditApp, fx: Fixture) -> None:
    # window 09-01..11-30: branch 501 met 09-15 (theme study), 10-15 (lecture), 11-10 (members' assembly);
    # branch 502 only on 06-01, outside it
    kinds = ("支部党员大会", "支部委员会", "党小组会", "党课", "民主评议党员", "主题学习")
    first = {"单位代码": A_CODE, "单位": "金钟镇", "支部编号": uid(501), "支部": "金钟镇离退休干部第一支部",
             "支部类型": "单独组建", "党员数": 3, **dict(zip(kinds, (1, 0, 0, 1, 0, 1), strict=True)),
             "最近一次党课": "2026-10-15", "缺项": None}
    # the special branch's members: R7 (formal) and R1 and R2 under dual management (双边活动: they count
    # here and in 501); R4 died on 10-01
    special = {"单位代码": D_CODE, "单位": "县财政局", "支部编号": uid(502), "支部": "财政局离退休干部支部",
               "支部类型": "特设党支部", "党员数": 3, **dict.fromkeys(kinds, 0), "最近一次党课": None,
               "缺项": "未开支部党员大会;未上党课"}
    expected = sorted([first, special], key=lambda r: str(r["单位代码"]))
    assert rows(app, fx, "auditor", "branch_meetings") == expected
    assert rows(app, fx, "senior", "branch_meetings") == expected  # no person in it: the same for both roles
    # members living at the window's end: R4 (branch 502) died on 10-01, so counts in August's window only
    assert [r["党员数"] for r in rows(app, fx, "auditor", "branch_meetings", month="2026-08", unit=D_CODE)] == [4]
    summer = rows(app, fx, "auditor", "branch_meetings", month="2026-08", unit=A_CODE)
    assert [(r["主题学习"], r["党课"], r["最近一次党课"], r["缺项"]) for r in summer] == [
        (1, 0, None, "未开支部党员大会;未上党课")]


def test_branch_membership(app: AuditApp, fx: Fixture) -> None:
    # 501: R1, R2, R8 formal (R1 and R2 also managed by 502), groups 541 and 542, R8 in none.
    # 502: R7 formal (in group 543; R4 formal but died 10-01), R1 and R2 dual (R2 in group 543), one group.
    cols = ("正式党员数(一方隶属)", "其中另受特设党支部管理", "双重管理党员数", "参加本支部活动党员数", "党小组数",
            "未编入党小组党员数")
    town = {"单位代码": A_CODE, "单位": "金钟镇", "支部编号": uid(501), "支部": "金钟镇离退休干部第一支部",
            "支部类型": "单独组建", **dict(zip(cols, (3, 2, 0, 3, 2, 1), strict=True))}
    dept = {"单位代码": D_CODE, "单位": "县财政局", "支部编号": uid(502), "支部": "财政局离退休干部支部",
            "支部类型": "特设党支部", **dict(zip(cols, (1, 0, 2, 3, 1, 1), strict=True))}

    def total(*values: int | None) -> dict[str, Any]:
        return {"单位代码": None, "单位": "合计(每人只计一次)", "支部编号": None, "支部": None, "支部类型": None,
                **dict(zip(cols, values, strict=True))}

    # branch by branch R1 and R2 count twice (3 + 3); in the total, once: 4 people
    expected = [town, dept, total(4, 2, 2, 4, 3, None)]
    assert rows(app, fx, "auditor", "branch_membership") == expected
    assert rows(app, fx, "senior", "branch_membership") == expected  # no person in it: the same for both roles
    # the department alone: R1 and R2 are formal elsewhere, so its three members are three people
    assert rows(app, fx, "auditor", "branch_membership", unit=D_CODE) == [dept, total(1, 0, 2, 3, 1, None)]
    assert rows(app, fx, "auditor", "branch_membership", unit=A_CODE) == [town, total(3, 2, 0, 3, 2, None)]
    assert rows(app, fx, "auditor", "branch_membership", unit=B_CODE) == [total(0, 0, 0, 0, 0, None)]


def test_helps_open(app: AuditApp, fx: Fixture) -> None:
    # open and raised before 10-21: H2 (09-20, S3); H1 is open but 15 days old, H3 resolved
    got = rows(app, fx, "auditor", "helps_open")
    assert got == [
        {"单位代码": B_CODE, "单位": "娜姑镇", "事项编号": uid(652), **who(6, "陈**", "80-84"), "帮助类别": "生活困难帮助解决",
         "提出日期": "2026-09-20", "已等待天数": 61, "经办人编号": S[3], "经办人(脱敏)": "张**"},
    ]
    assert [r["经办人"] for r in rows(app, fx, "senior", "helps_open")] == ["张卫东"]
    assert rows(app, fx, "auditor", "helps_open", unit=A_CODE) == []


def test_menu_fulfilment(app: AuditApp, fx: Fixture) -> None:
    empty = {"订单数": 0, "已完成": 0, "已取消": 0, "未完成": 0, "完成率(%)": None, "平均完成天数": None, "平均满意度": None}
    got = rows(app, fx, "auditor", "menu_fulfilment")
    assert got == [
        {"服务项目": "集中学习", "订单数": 2, "已完成": 0, "已取消": 1, "未完成": 1, "完成率(%)": 0.0, "平均完成天数": None,
         "平均满意度": None},
        {"服务项目": "送学上门", "订单数": 1, "已完成": 1, "已取消": 0, "未完成": 0, "完成率(%)": 100.0, "平均完成天数": 3.0,
         "平均满意度": 4.0},
        {"服务项目": "心理疏导", **empty}, {"服务项目": "文体活动", **empty}, {"服务项目": "精神慰藉", **empty},
        {"服务项目": "医疗保健", "订单数": 1, "已完成": 0, "已取消": 0, "未完成": 1, "完成率(%)": 0.0, "平均完成天数": None,
         "平均满意度": None},
        {"服务项目": "上门生活照顾", **empty},
    ]
    october = {r["服务项目"]: r for r in rows(app, fx, "auditor", "menu_fulfilment", month="2026-10")}
    assert october["医疗保健"] == {"服务项目": "医疗保健", "订单数": 1, "已完成": 1, "已取消": 0, "未完成": 0,
                               "完成率(%)": 100.0, "平均完成天数": 5.0, "平均满意度": 5.0}
    assert october["精神慰藉"]["未完成"] == 1


def test_targeting_gaps(app: AuditApp, fx: Fixture) -> None:
    # R1 widowed but has an emotional-comfort order from 10-01; R6 widowed+bedridden, only material visits;
    # R3 seriously ill with no health-care order; R6's and R8's health care is covered; R4 has died.
    # R7 cannot attend group activities and has no home-care order.
    got = rows(app, fx, "auditor", "targeting_gaps")
    expected = [
        {"单位代码": B_CODE, "单位": "娜姑镇", **who(3, "张**", "85-89"), "缺口": "医疗保健"},
        {"单位代码": B_CODE, "单位": "娜姑镇", **who(6, "陈**", "80-84"), "缺口": "精神慰藉"},
        {"单位代码": D_CODE, "单位": "县财政局", **who(7, "欧**", "70-74"), "缺口": "上门照顾"},
    ]
    assert got == sorted(expected, key=lambda r: str(r["单位代码"]))
    senior = {(r["姓名"], r["缺口"]): r["原因"] for r in rows(app, fx, "senior", "targeting_gaps")}
    assert senior == {("张德明", "医疗保健"): "重症", ("陈桂兰", "精神慰藉"): "丧偶 长期卧床 正在住院",
                      ("欧阳明", "上门照顾"): "不能参加集中活动"}


def test_caseload(app: AuditApp, fx: Fixture) -> None:
    # caseworkers: S1 -> R1, R2; S2 -> R5, R8; S3 -> R3, R6; S4 -> R7 (and R4, who has died).
    # Supervisors (S5) and inactive staff (S6) are not listed. November work from contacts and visits.
    got = rows(app, fx, "auditor", "caseload")
    a = {"单位在册人数": 4, "单位在岗工作人员": 2, "单位人均": 2.0, "单位未分配联系人的人数": 0}
    b = {"单位在册人数": 2, "单位在岗工作人员": 1, "单位人均": 2.0, "单位未分配联系人的人数": 0}
    d = {"单位在册人数": 1, "单位在岗工作人员": 1, "单位人均": 1.0, "单位未分配联系人的人数": 0}
    ok = {"标准": 33, "是否超过标准": ""}
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", "工作人员编号": S[1], "工作人员(脱敏)": "王**", "类型": "专职", "负责联系人数": 2,
         **ok, "本月服务人数": 2, "本月联系次数": 2, "本月走访次数": 2, **a},
        {"单位代码": A_CODE, "单位": "金钟镇", "工作人员编号": S[2], "工作人员(脱敏)": "李**", "类型": "兼职", "负责联系人数": 2,
         **ok, "本月服务人数": 2, "本月联系次数": 1, "本月走访次数": 1, **a},
        {"单位代码": B_CODE, "单位": "娜姑镇", "工作人员编号": S[3], "工作人员(脱敏)": "张**", "类型": "专职", "负责联系人数": 2,
         **ok, "本月服务人数": 1, "本月联系次数": 0, "本月走访次数": 1, **b},
        {"单位代码": D_CODE, "单位": "县财政局", "工作人员编号": S[4], "工作人员(脱敏)": "赵**", "类型": "专职", "负责联系人数": 1,
         **ok, "本月服务人数": 1, "本月联系次数": 1, "本月走访次数": 0, **d},
    ]
    assert [r["工作人员"] for r in rows(app, fx, "senior", "caseload")] == ["王小红", "李志明", "张卫东", "赵国强"]
    assert [r["工作人员编号"] for r in rows(app, fx, "auditor", "caseload", unit=B_CODE)] == [S[3]]


def test_caseload_over_33(tmp_path: Path, clock: Clock) -> None:
    path = make_db(tmp_path)
    conn = open_writer(path)
    with ledgered(conn, kind="import", actor="test", now=NOW):
        for n in (900, 901):
            conn.execute("INSERT INTO staff (id, unit_id, name, role, active) VALUES (?, ?, '周一', 'full_time', 1)",
                         (uid(n), ORG.town_a))
        for i in range(36):
            conn.execute("INSERT INTO retirees (id, unit_id, caseworker_id, name, sex, birth_date, id_number, category)"
                         " VALUES (?, ?, ?, ?, 'male', '1950-01-01', ?, 'general')",
                         (uid(1000 + i), ORG.town_a, uid(900) if i < 34 else None, f"吴{i}",
                          f"5303261950010100{i:02d}"))
    token = users.add(conn, "sam", "senior", now=NOW, rng=random.Random(1))
    conn.close()
    fx = Fixture(Settings(data_dir=tmp_path, db_path=path, keys_dir=tmp_path / "keys"), {"sam": token})
    audit = make_app(fx, tmp_path / "audit", clock)
    try:
        got = rows(audit, fx, "senior", "caseload")
    finally:
        audit.close()
    assert [(r["负责联系人数"], r["是否超过标准"], r["单位人均"], r["单位未分配联系人的人数"]) for r in got] == [
        (34, "超过", 18.0, 2), (0, "", 18.0, 2)]


def test_venues_five_haves(app: AuditApp, fx: Fixture) -> None:
    got = rows(app, fx, "auditor", "venues_five_haves")
    assert got == [
        {"单位代码": B_CODE, "单位": "娜姑镇", "阵地编号": uid(562), "阵地名称": "娜姑镇老干部活动室", "地点": None,
         "缺少": "有书报、有工作档案", "检查日期": "2026-10-15"},
        {"单位代码": D_CODE, "单位": "县财政局", "阵地编号": uid(563), "阵地名称": "财政局活动室", "地点": None,
         "缺少": "有活动场所", "检查日期": "2026-10-15"},
    ]


def test_special_lists(app: AuditApp, fx: Fixture) -> None:
    # alive: town A = R1 (86, widowed, alone), R2 (80, chronic), R5 (76, empty nest), R8 (95, hardship);
    # town B = R3 (89, serious, lost only child), R6 (82, widowed, bedridden, in hospital, disabled, alone)
    got = rows(app, fx, "auditor", "special_lists")
    zero = {"丧偶": 0, "患病": 0, "高龄(80岁以上)": 0, "独居": 0, "失能": 0, "失独": 0, "空巢": 0, "经济困难": 0}
    assert got == [
        {"单位代码": A_CODE, "单位": "金钟镇", "在册人数": 4, "丧偶": 1, "患病": 1, "高龄(80岁以上)": 3, "独居": 1, "失能": 0,
         "失独": 0, "空巢": 1, "经济困难": 1},
        {"单位代码": B_CODE, "单位": "娜姑镇", "在册人数": 2, "丧偶": 1, "患病": 2, "高龄(80岁以上)": 2, "独居": 1, "失能": 1,
         "失独": 1, "空巢": 0, "经济困难": 0},
        {"单位代码": D_CODE, "单位": "县财政局", "在册人数": 1, **zero},
    ]
    assert rows(app, fx, "auditor", "special_lists", unit=B_CODE) == got[1:2]


def test_silent_tablets(app: AuditApp, fx: Fixture) -> None:
    # D1 seen yesterday, D4 revoked, D5 enrolled 5 days ago: not listed
    got = rows(app, fx, "auditor", "silent_tablets")
    assert got == [
        {"单位代码": D_CODE, "单位": "县财政局", "设备编号": D[3], "设备名称": "财政局平板", "登记时间": "2026-11-01 08:00:00",
         "最近同步": None, "未同步天数": 19},
        {"单位代码": B_CODE, "单位": "娜姑镇", "设备编号": D[2], "设备名称": "娜姑镇平板1", "登记时间": "2026-09-01 08:00:00",
         "最近同步": "2026-11-10 09:00:00", "未同步天数": 10},
    ]


def test_open_conflicts_and_quarantine(app: AuditApp, fx: Fixture) -> None:
    conflict = {"冲突编号": 1, "单位代码": A_CODE, "单位": "金钟镇", "表": "离退休干部", "表名": "retirees", "行编号": R[1],
                "字段": "phone", "类型": "同一字段两边都改", "设备编号": D[1], "发生时间": "2026-11-18 10:00:00", "已等待天数": 2}
    assert rows(app, fx, "auditor", "open_conflicts") == [conflict]
    assert rows(app, fx, "auditor", "open_conflicts", unit=B_CODE) == []
    assert rows(app, fx, "senior", "open_conflicts")[0]["平板值"] == '"13955556666"'
    assert rows(app, fx, "auditor", "quarantined") == [
        {"隔离编号": 1, "上传记录": 9, "单位代码": B_CODE, "单位": "娜姑镇", "设备编号": D[2], "设备序号": 5,
         "原因代码": "scope_violation", "原因": "越权:记录不属于本设备的单位", "隔离时间": "2026-11-19 09:00:00", "已隔离天数": 1}]


def _head(db: Path) -> tuple[int, str]:
    conn = apsw.Connection(str(db))
    try:
        row = conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
        assert row is not None
        return int(row[0]), str(row[1])
    finally:
        conn.close()


def test_ledger_status_and_tampering(app: AuditApp, fx: Fixture) -> None:
    head_id, head_hash = _head(fx.db)
    for role in ("auditor", "senior"):
        assert rows(app, fx, role, "ledger_status") == [
            {"账本头条目": head_id, "头哈希": head_hash, "头条目时间": "2026-11-20 02:00:00", "校验结果": "完好",
             "已校验条目数": head_id, "已验签检查点": 1, "首个异常条目": None, "异常原因": "", "最近签名条目": head_id}]
    conn = apsw.Connection(str(fx.db))  # an intruder edits an old entry behind the server's back
    conn.execute("UPDATE ledger SET actor = 'nobody' WHERE id = 2")
    conn.close()
    got = rows(app, fx, "auditor", "ledger_status")[0]
    assert (got["校验结果"], got["首个异常条目"], got["异常原因"]) == ("损坏", 2, "entry hash does not match its contents")


def test_row_provenance(app: AuditApp, fx: Fixture) -> None:
    got = rows(app, fx, "auditor", "row_provenance", tbl="retirees", row_id=R[1])
    assert len(got) == 1
    row = got[0]
    assert (row["表名"], row["表"], row["行编号"], row["账本条目"], row["条目类型"], row["设备编号"], row["设备名称"],
            row["设备所属单位"], row["入账时间"], row["变更次数"]) == (
        "retirees", "离退休干部", R[1], fx.provenance_ledger_id, "平板上传", D[1], "金钟镇平板1", A_CODE,
        "2026-11-19 09:00:00", 2)
    assert rows(app, fx, "auditor", "row_provenance", tbl="retirees", row_id=uid(999)) == []


def test_queries_are_read_only_with_chinese_titles() -> None:
    for role in ROLES:
        qs = canned_queries(role)
        assert len(qs) >= 15 and len({q.name for q in qs}) == len(qs)
        for q in qs:
            meta = q.metadata()
            assert "write" not in meta
            assert any("\u4e00" <= ch <= "\u9fff" for ch in q.title), q.name
            assert q.sql.lstrip().upper().startswith(("SELECT", "WITH")), q.name


@pytest.mark.parametrize("when", [datetime(2026, 11, 30, 17, 0, tzinfo=UTC)])
def test_today_is_beijing_date(fx: Fixture, tmp_path: Path, when: datetime) -> None:
    # 17:00 UTC on 30 November is already 1 December in Beijing: "this month" is December there
    audit = make_app(fx, tmp_path / "audit", Clock(when))
    try:
        assert rows(audit, fx, "auditor", "visit_kinds") == []
        assert rows(audit, fx, "auditor", "visit_kinds", month="2026-11")[0]["走访次数"] == 3
    finally:
        audit.close()

