"""A small central database whose every published number is worked out by hand below.

会泽县 (county) ├─ 金钟镇 (town_a): 20 living retirees (+1 who died in September)
                ├─ 娜姑镇 (town_b): 12 retirees, all general, all contacted in October
                ├─ 县财政局 (dept): 5 county-level retirees, never contacted
                └─ one general retiree attached to the county itself ("本级")
金钟镇 also has the newer domain items worked out in tests/reports_site/test_domain_items.py: 12 three
helps (10 resolved by October), two branches (one special) with 4 party groups, 10 party members of whom 3
are also managed by the special branch (双重管理), and 10 meetings with 25 attendance rows (22 present), 12 four-nearby targets (11 enrolled), 4 of 11 fulfilled orders by a community resource,
and 14 October contacts and 1 October visit by its 2 active staff.
Report month 2026-10: 12-month window 2025-11-01..2026-10-31, 90-day window 2026-08-03..2026-10-31,
events count up to 2026-10-24.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw

from server.db import open_writer
from server.ledger import ledgered
from tests.conftest import Org, make_db, uid

AS_OF = "2026-10"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ORG = Org()
BRANCH = uid(900)
SPECIAL_BRANCH = uid(901)
COUNTY_BRANCH = uid(902)
GROUPS = tuple(uid(910 + k) for k in range(5))
RESOURCE = uid(950)
S_FULL, S_PART, S_GONE, S_SUPERVISOR, S_B = (uid(700 + k) for k in range(5))


def NOTICE(k: int) -> str:
    """Three-musts notice k."""
    return uid(960 + k)


def R(n: int) -> str:
    """Retiree n."""
    return uid(1000 + n)


class _Ids:
    def __init__(self) -> None:
        self.n = 5000

    def __call__(self) -> str:
        self.n += 1
        return uid(self.n)


def insert(conn: apsw.Connection, table: str, **cols: Any) -> None:
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(cols.values()))


def retiree(conn: apsw.Connection, n: int, unit: str, category: str, born: str, **extra: Any) -> None:
    insert(conn, "retirees", id=R(n), unit_id=unit, name=f"测试人员{n:02d}", sex="male", birth_date=born,
           id_number=f"53032619{n:010d}", phone=f"139{n:08d}", address=f"会泽县测试路{n}号", category=category,
           **extra)


@contextmanager
def writer(path: Path) -> Iterator[apsw.Connection]:
    conn = open_writer(path)
    try:
        yield conn
    finally:
        conn.close()


def make_known_db(tmp_path: Path) -> Path:
    path = make_db(tmp_path)
    ids = _Ids()
    a, b, d, county = ORG.town_a, ORG.town_b, ORG.dept, ORG.county
    with writer(path) as conn, ledgered(conn, kind="import", actor="test", now=NOW):
        # -- roster ---------------------------------------------------------------------------------
        # four-nearby targets: 1-3 (80+), 4 (lost only child), 11-18 (empty nest); enrolled: 1-4, 11-17
        # (and 20 and the late 21, who are not counted: no target, and dead)
        retiree(conn, 1, a, "lixiu", "1931-01-01", marital_status="widowed", health_status="bedridden", can_attend=0,
                four_nearby=1)
        retiree(conn, 2, a, "lixiu", "1936-10-31", can_attend=0, four_nearby=1)          # turns 90 on the as-of day
        retiree(conn, 3, a, "county_level", "1936-11-01", health_status="serious", can_attend=0,
                four_nearby=1)  # still 89
        retiree(conn, 4, a, "county_level", "1956-05-05", can_attend=1, lost_only_child=1, four_nearby=1)
        retiree(conn, 5, a, "county_level", "1956-05-05", can_attend=1)
        for n in range(6, 11):
            retiree(conn, n, a, "section_level", "1956-05-05", can_attend=1,
                    **({"marital_status": "widowed", "living_alone": 1} if n == 6 else {}))
        for n in range(11, 21):
            retiree(conn, n, a, "general", "1956-05-05", can_attend=1, empty_nest=int(n <= 18),
                    four_nearby=int(n <= 17 or n == 20))
        retiree(conn, 21, a, "general", "1950-01-01", deceased_on="2026-09-15", empty_nest=1, four_nearby=1)
        for n in range(31, 43):
            retiree(conn, n, b, "general", "1961-01-01", can_attend=1)
        for n in range(51, 56):
            retiree(conn, n, d, "county_level", "1951-01-01", can_attend=1)
        retiree(conn, 61, county, "general", "1964-01-01", can_attend=1)
        # -- party -------------------------------------------------------------------------------------
        insert(conn, "party_branches", id=BRANCH, unit_id=a, name="金钟镇离退休干部党支部", kind="regular")
        insert(conn, "party_branches", id=SPECIAL_BRANCH, unit_id=a, name="金钟镇老年大学特设党支部", kind="special",
               special_basis="venue")
        insert(conn, "party_branches", id=COUNTY_BRANCH, unit_id=county, name="县直离退休干部党支部", kind="regular")
        # party groups: 3 in the town's branch, 1 in its special branch, 1 in the county's own branch
        for gid, unit, branch, name, basis in (
                (GROUPS[0], a, BRANCH, "城东小区党小组", "residence"), (GROUPS[1], a, BRANCH, "城西小区党小组", "residence"),
                (GROUPS[2], a, BRANCH, "书画党小组", "interest"), (GROUPS[3], a, SPECIAL_BRANCH, "合唱党小组", "interest"),
                (GROUPS[4], county, COUNTY_BRANCH, "县直第1党小组", "other")):
            insert(conn, "party_groups", id=gid, unit_id=unit, branch_id=branch, name=name, basis=basis)
        for n in range(1, 11):
            insert(conn, "party_members", id=uid(2000 + n), unit_id=a, retiree_id=R(n), branch_id=BRANCH,
                   group_id=GROUPS[0] if n <= 4 else GROUPS[1] if n <= 6 else GROUPS[2] if n == 7 else None)
        # 双重管理: 2, 3 and 4 (formal in the town's branch) are also managed by the special branch; 2 and 3
        # cannot attend, so counting rows instead of people would give 13 members and 5 needing home study
        for n in (2, 3, 4):
            insert(conn, "party_members", id=uid(2010 + n), unit_id=a, retiree_id=R(n), branch_id=SPECIAL_BRANCH,
                   relation="dual", group_id=GROUPS[3] if n != 4 else None)
        insert(conn, "home_study", id=ids(), unit_id=a, member_id=uid(2001), delivered_on="2026-10-05", form="in_person")
        insert(conn, "home_study", id=ids(), unit_id=a, member_id=uid(2002), delivered_on="2026-06-01", form="materials")
        # meetings in the 12 months: 4 lectures, 3 assemblies, 2 committees, 1 group (10); attendance
        # 8/10, 9/10 and 5/5 present at the first three; the lecture of October 2025 (0/10) and the theme
        # study of November 2026 fall outside
        meetings = [("lecture", f"2026-0{m}-15") for m in (2, 4, 6, 8)]
        meetings += [("member_assembly", f"2026-0{m}-20") for m in (3, 6, 9)]
        meetings += [("committee", "2026-05-10"), ("committee", "2026-10-10"), ("group", "2026-07-07")]
        meetings += [("lecture", "2025-10-20"), ("theme_study", "2026-11-02")]
        present = {0: 8, 1: 9, 2: 5, 10: 0}
        invited = {0: 10, 1: 10, 2: 5, 10: 10}
        for i, (kind, day) in enumerate(meetings):
            meeting = ids()
            insert(conn, "party_meetings", id=meeting, unit_id=a, branch_id=BRANCH, kind=kind, held_on=day,
                   topic="学习")
            for k in range(invited.get(i, 0)):
                insert(conn, "meeting_attendance", id=ids(), unit_id=a, meeting_id=meeting,
                       member_id=uid(2001 + k), status="present" if k < present[i] else "absent_ill")
        # three helps: 12 raised in the 12 months (5 interests, 4 hardship, 3 worries), 10 resolved by
        # the end of October (one resolved in November, one referred); 2 open in 娜姑镇; 2 outside
        helps = [("interests", "2026-01-05", "resolved", "2026-01-20")] * 5
        helps += [("hardship", "2026-03-05", "resolved", "2026-03-25")] * 3 + [("hardship", "2026-04-01", "referred", None)]
        helps += [("worries", "2026-05-05", "resolved", "2026-05-09")] * 2 + [("worries", "2026-10-25", "resolved",
                                                                                "2026-11-05")]
        helps += [("interests", "2025-10-01", "resolved", "2025-10-10"), ("worries", "2026-11-03", "open", None)]
        for k, (kind, raised, status, resolved) in enumerate(helps):
            insert(conn, "three_helps", id=ids(), unit_id=a, retiree_id=R(1 + k % 20), kind=kind, raised_on=raised,
                   status=status, resolved_on=resolved, details=f"测试帮助详情{k:02d}")
        for n in (31, 32):
            insert(conn, "three_helps", id=ids(), unit_id=b, retiree_id=R(n), kind="worries", raised_on="2026-09-01",
                   status="open")
        # -- staff: 2 active full/part-time in 金钟镇 (one who left, a supervisor), 1 in 娜姑镇 ----------------
        for sid, unit_id, role, active in ((S_FULL, a, "full_time", 1), (S_PART, a, "part_time", 1),
                                           (S_GONE, a, "full_time", 0), (S_SUPERVISOR, a, "supervisor", 1),
                                           (S_B, b, "full_time", 1)):
            insert(conn, "staff", id=sid, unit_id=unit_id, name=f"工作人员{sid[-3:]}", phone=f"1380000{sid[-4:]}",
                   role=role, active=active)
        # -- contacts: October 16 of 20 reached in 金钟镇, 12 of 12 in 娜姑镇; September everyone ------
        # (the October ones made by the full-timer (1-10), the part-timer (11-14) and one who left (15-17))
        for n in range(1, 18):
            insert(conn, "contacts", id=ids(), unit_id=a, retiree_id=R(n), contacted_on="2026-10-08",
                   channel="phone", with_whom="self", reached=0 if n == 17 else 1,
                   staff_id=S_FULL if n <= 10 else S_PART if n <= 14 else S_GONE)
        for n in range(1, 22):
            insert(conn, "contacts", id=ids(), unit_id=a, retiree_id=R(n), contacted_on="2026-09-08",
                   channel="phone", with_whom="family", reached=1, staff_id=S_FULL)
        for n in range(31, 43):
            insert(conn, "contacts", id=ids(), unit_id=b, retiree_id=R(n), contacted_on="2026-10-20",
                   channel="in_person", with_whom="self", reached=1)
        # -- events and visits -----------------------------------------------------------------------
        e1, e2, e3, e4 = ids(), ids(), ids(), ids()
        insert(conn, "life_events", id=e1, unit_id=a, retiree_id=R(1), kind="hospitalised", occurred_on="2026-09-01")
        insert(conn, "life_events", id=e2, unit_id=a, retiree_id=R(3), kind="illness", occurred_on="2026-09-10")
        insert(conn, "life_events", id=e3, unit_id=a, retiree_id=R(6), kind="hardship", occurred_on="2026-10-01")
        insert(conn, "life_events", id=e4, unit_id=a, retiree_id=R(7), kind="complaint", occurred_on="2026-10-28")
        visits = [  # (retiree, day, occasion, kind, mode, policy, event)
            (1, "2026-09-05", "illness", "both", "hospital", 1, e1),      # on time
            (3, "2026-09-20", "illness", "spiritual", "home", 1, e2),     # late: day 10
            (6, "2026-10-03", "hardship", "material", "home", 0, None),   # on time by retiree and occasion
        ]
        visits += [(n, "2026-05-10", "routine", "spiritual", "home", 1, None) for n in range(8, 15)]  # 7 spiritual
        visits += [(n, "2026-02-10", "holiday_birthday", "material", "office_pickup" if n < 17 else "home", 0, None)
                   for n in range(15, 21)]                                                           # 6 material
        visits += [(n, "2026-04-01", "routine", "both", "home", 1 if n < 6 else 0, None) for n in range(2, 6)]
        visits += [(2, "2025-10-15", "routine", "spiritual", "home", 1, None)]  # before the window
        for r, day, occasion, kind, mode, policy, event in visits:
            insert(conn, "visits", id=ids(), unit_id=a, retiree_id=R(r), event_id=event, visited_on=day,
                   occasion=occasion, kind=kind, mode=mode, policy_conveyed=policy, staff_id=S_FULL)
        # -- three musts -------------------------------------------------------------------------------
        # notices: K1 the county's, due 03-20 to everyone (39 then: 金钟镇 21 with the one who died in
        # September, 娜姑镇 12, 县财政局 5, the county's own 1); K2 金钟镇's, due 04-10 to 县级 and above (5);
        # K3 金钟镇's, due 05-01 to 离休 (2); K4 the county's, due in November (outside the 12 months)
        for k, unit, kind, issued, due, cat in ((1, county, "document", "2026-02-20", "2026-03-20", "general"),
                                               (2, a, "meeting", "2026-04-01", "2026-04-10", "county_level"),
                                               (3, a, "meeting", "2026-04-25", "2026-05-01", "lixiu"),
                                               (4, county, "guidance", "2026-10-20", "2026-11-10", "general")):
            insert(conn, "notices", id=NOTICE(k), unit_id=unit, kind=kind, title=f"事项{k}", issued_on=issued,
                   due_by=due, for_category=cat)
        for n in range(1, 13):  # K1 in time
            insert(conn, "three_musts", id=ids(), unit_id=a, retiree_id=R(n), kind="document", item="文件",
                   delivered_on="2026-03-03", method="in_person", notice_id=NOTICE(1))
        for day, k in (("2026-04-04", 2), ("2026-05-05", 3)):  # K2 in time, K3 four days late
            insert(conn, "three_musts", id=ids(), unit_id=a, retiree_id=R(1), kind="meeting", item="会议",
                   delivered_on=day, method="phone", notice_id=NOTICE(k))
        # -- service orders: 12 health care (10 done in 1..10 days, 4 of them by the clinic, 1 cancelled,
        # 1 open), 1 comfort -------------------------------------------------------------------------------
        insert(conn, "community_resources", id=RESOURCE, unit_id=a, name="金钟镇卫生院", kind="medical", active=1)
        insert(conn, "community_resources", id=ids(), unit_id=a, name="金钟镇爱心超市", kind="love_supermarket",
               active=0)
        for k in range(1, 11):
            insert(conn, "service_orders", id=ids(), unit_id=a, retiree_id=R(3), item="health_care",
                   requested_on="2026-06-01", status="fulfilled", fulfilled_on=f"2026-06-{1 + k:02d}",
                   provider_id=RESOURCE if k <= 4 else None)
        insert(conn, "service_orders", id=ids(), unit_id=a, retiree_id=R(3), item="health_care",
               requested_on="2026-06-01", status="cancelled")
        insert(conn, "service_orders", id=ids(), unit_id=a, retiree_id=R(3), item="health_care",
               requested_on="2026-10-30", status="open")
        insert(conn, "service_orders", id=ids(), unit_id=a, retiree_id=R(1), item="emotional_comfort",
               requested_on="2026-10-01", status="fulfilled", fulfilled_on="2026-10-10")
        # -- venues ------------------------------------------------------------------------------------
        five = {f"has_{k}": 1 for k in ("site", "facilities", "books", "rules_board", "archive")}
        insert(conn, "venues", id=ids(), unit_id=a, name="金钟镇老干部活动室", **five)
        insert(conn, "venues", id=ids(), unit_id=a, name="金钟镇阅览室", **{**five, "has_archive": 0})
    return path
