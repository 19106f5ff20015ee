"""A small central database whose every canned-query answer is known, and its personal values.

Today is 2026-11-20 (Beijing); "this month" is 2026-11. The expected answers live in
``test_queries.py`` next to the reasoning; this module only writes the rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import apsw

from server.audit import users
from server.db import open_writer
from server.ledger import ledgered
from server.ledger_audit import checkpoint
from server.serverkeys import init_server, load_server_keys
from server.settings import Settings
from tests.conftest import Org, make_org, uid

NOW = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)  # 10:00 in Beijing
ORG = Org()
TOWN_A, TOWN_B, DEPT = ORG.town_a, ORG.town_b, ORG.dept
R = {i: uid(200 + i) for i in range(1, 9)}
S = {i: uid(300 + i) for i in range(1, 7)}
D = {i: uid(400 + i) for i in range(1, 6)}
N = {i: uid(660 + i) for i in range(1, 4)}
# three-musts notices (三必须事项): (n, issuing unit, kind, title, issued, due, for category). N1 is the county's,
# due 2026-10-10 to everyone: R4 died before it; R1 got it late (11-04), R3 and R8 in time, R4 before she died.
NOTICES = (
    (1, ORG.county, "document", "关于做好离退休干部冬季慰问的通知", "2026-09-25", "2026-10-10", "general"),
    (2, TOWN_A, "meeting", "金钟镇老干部情况通报会", "2026-11-10", "2026-11-25", "lixiu"),
    (3, ORG.county, "guidance", "党的二十届四中全会精神", "2026-10-25", "2026-11-15", "section_level"),
)

# (n, unit, name, sex, birth, id number, phone, address, marital, health, hospitalised, disabled,
#  living_alone, lost_only_child, empty_nest, hardship, residence, deceased_on)
RETIREES = (
    (1, TOWN_A, "王建国", "male", "1940-03-05", "530326194003051234", "13900001111", "金钟镇幸福路8号",
     "widowed", "good", 0, 0, 1, 0, 0, 0, "own_home", None),
    (2, TOWN_A, "李秀英", "female", "1946-11-10", "530326194611102348", "13900002222", "金钟镇团结街12号",
     "married", "chronic", 0, 0, 0, 0, 0, 0, "own_home", None),
    (3, TOWN_B, "张德明", "male", "1936-11-25", "530326193611253317", "13900003333", "娜姑镇白雾村3组",
     "married", "serious", 0, 0, 0, 1, 0, 0, "own_home", None),
    (4, DEPT, "赵淑珍", "female", "1930-05-01", "530326193005014426", "13900004444", "县城东风路45号",
     "widowed", "bedridden", 0, 0, 0, 0, 0, 0, "own_home", "2026-10-01"),
    (5, TOWN_A, "刘福生", "male", "1950-11-02", "530326195011025511", "13900005555", "金钟镇和平巷5号",
     "married", "good", 0, 0, 0, 0, 1, 0, "own_home", None),
    (6, TOWN_B, "陈桂兰", "female", "1944-11-05", "530326194411056620", "13900006666", "娜姑镇街道67号",
     "widowed", "bedridden", 1, 1, 1, 0, 0, 0, "own_home", None),
    (7, DEPT, "欧阳明", "male", "1955-06-15", "530326195506157719", "13900007777", "县城南华路9号",
     "married", "good", 0, 0, 0, 0, 0, 0, "own_home", None),
    (8, TOWN_A, "孙玉梅", "female", "1931-02-20", "530326193102208826", "13900008888", "县人民医院老干部病房",
     "married", "good", 0, 0, 0, 0, 0, 1, "hospital", None),
)
NOTES = {
    "hobbies": "擅长隶书书法和二胡",
    "personality_notes": "性格开朗喜欢下象棋",
    "health_notes": "高血压三级需定期复查",
    "contact": "老人说腰疼比上月加重",
    "visit": "送去慰问金并谈心两小时",
    "event": "因急性心梗入住县医院",
    "order": "需要每周上门陪聊一次",
    "help": "申请住房补贴被拖延半年",
    "history_old": "13911112222",
    "history_new": "13933334444",
    "conflict": "13955556666",
}
# (n, unit, name, phone, role, active)
STAFF = (
    (1, TOWN_A, "王小红", "13500000001", "full_time", 1),
    (2, TOWN_A, "李志明", "13500000002", "part_time", 1),
    (3, TOWN_B, "张卫东", "13500000003", "full_time", 1),
    (4, DEPT, "赵国强", "13500000004", "full_time", 1),
    (5, TOWN_A, "钱进步", "13500000005", "supervisor", 1),
    (6, TOWN_B, "孙丽华", "13500000006", "full_time", 0),
)
CASEWORKER = {1: 1, 2: 1, 5: 2, 8: 2, 3: 3, 6: 3, 7: 4, 4: 4}
FAMILY = (("王小军", "son", "13700002222", "昆明市盘龙区北京路1号", 1), ("陈立新", "daughter", "13700006666",
                                                               "曲靖市麒麟区南宁路2号", 6))


@dataclass
class Fixture:
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)
    provenance_ledger_id: int = 0

    @property
    def db(self) -> Path:
        return self.settings.db_path

    @staticmethod
    def personal_values() -> list[str]:
        """Every personal value in the fixture (what an auditor must never see)."""
        vals: list[str] = []
        for r in RETIREES:
            vals += [r[2], r[4], r[5], r[6], r[7]]
        vals += [s[2] for s in STAFF] + [s[3] for s in STAFF]
        for f in FAMILY:
            vals += [f[0], f[2], f[3]]
        return vals + list(NOTES.values())


def _ins(conn: apsw.Connection, table: str, **values: object) -> None:
    cols = ", ".join(values)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))


def _notices(conn: apsw.Connection) -> None:
    for n, unit, kind, title, issued, due, category in NOTICES:
        _ins(conn, "notices", id=N[n], unit_id=unit, kind=kind, title=title, issued_on=issued, due_by=due,
             for_category=category)


def _people(conn: apsw.Connection) -> None:
    for n, unit, name, phone, role, active in STAFF:
        _ins(conn, "staff", id=S[n], unit_id=unit, name=name, phone=phone, role=role, active=active)
    for (n, unit, name, sex, birth, idn, phone, addr, marital, health, hosp, disabled, alone, lost, empty,
         hardship, residence, deceased) in RETIREES:
        extra = {"hobbies": NOTES["hobbies"], "personality_notes": NOTES["personality_notes"],
                 "health_notes": NOTES["health_notes"]} if n == 1 else {}
        _ins(conn, "retirees", id=R[n], unit_id=unit, caseworker_id=S[CASEWORKER[n]], name=name, sex=sex, birth_date=birth, id_number=idn,
             phone=phone, address=addr, category="general" if n != 8 else "lixiu", marital_status=marital,
             health_status=health, hospitalised=hosp, disabled=disabled, living_alone=alone, lost_only_child=lost,
             empty_nest=empty, financial_hardship=hardship, residence_type=residence, deceased_on=deceased,
             four_nearby=int(n == 5), can_attend=int(n != 7), **extra)
    for i, (name, relation, phone, addr, rn) in enumerate(FAMILY):
        _ins(conn, "family_contacts", id=uid(621 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn], name=name,
             relation=relation, phone=phone, address=addr, emergency=1)
    _ins(conn, "roster_history", id=uid(631), unit_id=TOWN_A, retiree_id=R[1], field="phone",
         old_value=NOTES["history_old"], new_value=NOTES["history_new"], changed_at="2026-11-03 09:00:00",
         changed_by=S[1])
    _ins(conn, "three_musts", id=uid(641), unit_id=TOWN_A, retiree_id=R[1], staff_id=S[1], kind="document",
         item="关于做好离退休干部冬季慰问的通知", delivered_on="2026-11-04", method="in_person", notice_id=N[1])
    for i, (rn, day) in enumerate(((3, "2026-10-08"), (8, "2026-09-28"), (4, "2026-09-27"))):  # N1, before its due date
        _ins(conn, "three_musts", id=uid(642 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn], kind="document",
             item="冬季慰问通知", delivered_on=day, method="in_person", notice_id=N[1])
    _ins(conn, "three_helps", id=uid(651), unit_id=TOWN_A, retiree_id=R[2], staff_id=S[1], kind="interests",
         raised_on="2026-11-05", details=NOTES["help"])
    _ins(conn, "three_helps", id=uid(652), unit_id=RETIREES[5][1], retiree_id=R[6], staff_id=S[3], kind="hardship",
         raised_on="2026-09-20")
    _ins(conn, "three_helps", id=uid(653), unit_id=RETIREES[4][1], retiree_id=R[5], staff_id=S[2], kind="worries",
         raised_on="2026-09-01", status="resolved", resolved_on="2026-09-15")


def _practice(conn: apsw.Connection) -> None:
    # contacts: (n, retiree, staff, day, reached, with)
    for i, (rn, sn, day, reached, with_whom) in enumerate((
        (1, 1, "2026-11-03", 1, "self"), (2, 1, "2026-11-05", 0, "self"), (2, 1, "2026-10-10", 1, "self"),
        (5, 2, "2026-11-18", 1, "family"), (6, 3, "2026-10-20", 1, "self"), (7, 4, "2026-11-01", 1, "self"),
        (8, 2, "2026-09-01", 1, "family"),
    )):
        _ins(conn, "contacts", id=uid(601 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn], staff_id=S[sn],
             contacted_on=day, channel="phone", with_whom=with_whom, reached=reached,
             notes=NOTES["contact"] if i == 0 else None)
    for i, (rn, kind, day) in enumerate((
        (1, "hospitalised", "2026-11-02"), (5, "bereavement", "2026-11-08"), (3, "complaint", "2026-11-15"),
        (7, "hardship", "2026-10-20"), (2, "new_leader", "2026-11-03"), (8, "illness", "2026-11-01"),
    )):
        _ins(conn, "life_events", id=uid(581 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn], kind=kind,
             occurred_on=day, notes=NOTES["event"] if i == 0 else None)
    for i, (rn, sn, day, occasion, kind, policy) in enumerate((
        (1, 1, "2026-11-06", "illness", "material", 0), (8, 2, "2026-11-10", "illness", "spiritual", 1),
        (2, 1, "2026-11-12", "holiday_birthday", "both", 1), (6, 3, "2026-11-15", "routine", "material", 0),
        (7, 4, "2026-10-05", "routine", "spiritual", 0),
    )):
        _ins(conn, "visits", id=uid(591 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn], staff_id=S[sn],
             visited_on=day, occasion=occasion, kind=kind, policy_conveyed=policy,
             notes=NOTES["visit"] if i == 0 else None)
    _ins(conn, "community_resources", id=uid(701), unit_id=DEPT, name="县城爱心超市", kind="love_supermarket",
         active=1)
    for i, (rn, item, day, status, assigned, fulfilled, sat) in enumerate((
        (1, "emotional_comfort", "2026-10-01", "open", None, None, None),
        (6, "health_care", "2026-11-01", "assigned", 3, None, None),
        (2, "group_study", "2026-11-10", "open", None, None, None),
        (8, "health_care", "2026-10-15", "fulfilled", 2, "2026-10-20", 5),
        (5, "counselling", "2026-09-01", "cancelled", None, None, None),
        (7, "home_study", "2026-11-02", "fulfilled", 4, "2026-11-05", 4),
        (2, "group_study", "2026-11-03", "cancelled", None, None, None),
    )):
        _ins(conn, "service_orders", id=uid(571 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn], item=item,
             requested_on=day, status=status, assigned_to=S[assigned] if assigned else None,
             fulfilled_on=fulfilled, satisfaction=sat, notes=NOTES["order"] if i == 0 else None,
             provider_id=uid(701) if i == 5 else None)
    for i, (unit, name, haves) in enumerate((
        (TOWN_A, "金钟镇老年活动中心", (1, 1, 1, 1, 1)), (TOWN_B, "娜姑镇老干部活动室", (1, 1, 0, 1, 0)),
        (DEPT, "财政局活动室", (0, 1, 1, 1, 1)),
    )):
        _ins(conn, "venues", id=uid(561 + i), unit_id=unit, name=name, has_site=haves[0], has_facilities=haves[1],
             has_books=haves[2], has_rules_board=haves[3], has_archive=haves[4], inspected_on="2026-10-15")


def _party(conn: apsw.Connection) -> None:
    _ins(conn, "party_branches", id=uid(501), unit_id=TOWN_A, name="金钟镇离退休干部第一支部", kind="regular")
    _ins(conn, "party_branches", id=uid(502), unit_id=DEPT, name="财政局离退休干部支部", kind="special",
         special_basis="township_organs")
    # party groups: two in the town's branch (by residence, by hobby), one in the department's special branch
    for i, (unit, branch, name, basis) in enumerate(((TOWN_A, 501, "幸福路小区党小组", "residence"),
                                                      (TOWN_A, 501, "书画党小组", "interest"),
                                                      (DEPT, 502, "财政局第一党小组", "other"))):
        _ins(conn, "party_groups", id=uid(541 + i), unit_id=unit, branch_id=uid(branch), name=name, basis=basis)
    for i, (rn, branch, group) in enumerate(((1, 501, 541), (2, 501, 541), (8, 501, None), (7, 502, 543),
                                             (4, 502, None))):
        _ins(conn, "party_members", id=uid(511 + i), unit_id=RETIREES[rn - 1][1], retiree_id=R[rn],
             branch_id=uid(branch), group_id=None if group is None else uid(group))
    # 双重管理: R1 and R2 (formal in 501) are also managed by the special branch 502; the rows live in their
    # own unit (金钟镇), R2's in 502's party group
    for i, (rn, group) in enumerate(((1, None), (2, 543))):
        _ins(conn, "party_members", id=uid(516 + i), unit_id=TOWN_A, retiree_id=R[rn], branch_id=uid(502),
             relation="dual", group_id=None if group is None else uid(group))
    for i, (branch, day, kind) in enumerate((
        (501, "2026-09-15", "theme_study"), (501, "2026-10-15", "lecture"), (501, "2026-11-10", "member_assembly"),
        (502, "2026-06-01", "theme_study"), (501, "2026-07-01", "theme_study"),
    )):
        _ins(conn, "party_meetings", id=uid(521 + i), unit_id=TOWN_A if branch == 501 else DEPT,
             branch_id=uid(branch), kind=kind, held_on=day, topic="学习党的二十届四中全会精神")
    attendance = [(511, 523, "present")] + [(512, m, "absent_ill") for m in (521, 522, 523)]
    attendance += [(512, 525, "present"), (513, 525, "present")] + [(513, m, "absent_other") for m in (521, 522, 523)]
    for i, (member, meeting, status) in enumerate(attendance):
        _ins(conn, "meeting_attendance", id=uid(531 + i), unit_id=TOWN_A, meeting_id=uid(meeting),
             member_id=uid(member), status=status)
    _ins(conn, "home_study", id=uid(551), unit_id=TOWN_A, member_id=uid(512), staff_id=S[1], delivered_on="2026-10-20",
         form="in_person")
    _ins(conn, "home_study", id=uid(552), unit_id=TOWN_A, member_id=uid(513), staff_id=S[2], delivered_on="2026-08-01",
         form="materials")


def _machines(conn: apsw.Connection) -> None:
    for n, unit, label, enrolled, seen, revoked in (
        (1, TOWN_A, "金钟镇平板1", "2026-09-01 08:00:00", "2026-11-19 10:00:00", None),
        (2, TOWN_B, "娜姑镇平板1", "2026-09-01 08:00:00", "2026-11-10 09:00:00", None),
        (3, DEPT, "财政局平板", "2026-11-01 08:00:00", None, None),
        (4, TOWN_A, "金钟镇平板旧", "2026-06-01 08:00:00", "2026-09-01 08:00:00", "2026-10-01 08:00:00"),
        (5, TOWN_A, "金钟镇平板2", "2026-11-15 08:00:00", None, None),
    ):
        _ins(conn, "devices", id=D[n], unit_id=unit, label=label, sign_pub=f"sign{n}", box_pub=f"box{n}",
             enrolled_at=enrolled, last_seen_at=seen, revoked_at=revoked)
    phone = f'"{NOTES["conflict"]}"'
    _ins(conn, "conflicts", id=1, upload_id=7, device_id=D[1], unit_id=TOWN_A, tbl="retirees", row_id=R[1],
         column_name="phone", kind="field", base_value=f'"{RETIREES[0][6]}"', server_value=f'"{NOTES["history_new"]}"',
         tablet_value=phone, provisional="tablet", created_at="2026-11-18 10:00:00")
    _ins(conn, "conflicts", id=2, upload_id=8, device_id=D[1], unit_id=TOWN_A, tbl="retirees", row_id=R[2],
         column_name="address", kind="field", base_value='"x"', server_value='"y"', tablet_value='"z"',
         provisional="tablet", status="resolved", created_at="2026-11-10 10:00:00", resolution="tablet",
         resolved_value='"z"', resolved_by="supervisor:cli", resolved_at="2026-11-11 10:00:00")
    _ins(conn, "quarantine", id=1, upload_id=9, device_id=D[2], seq=5, reason_code="scope_violation",
         reason_zh="越权:记录不属于本设备的单位", reason_en="scope violation", created_at="2026-11-19 09:00:00")
    _ins(conn, "quarantine", id=2, upload_id=10, device_id=D[2], seq=4, reason_code="foreign_key",
         reason_zh="引用的记录不存在", reason_en="foreign key", created_at="2026-11-01 09:00:00", status="applied",
         retried_at="2026-11-02 09:00:00")


def build_fixture(base: Path) -> Fixture:
    """Write the fixture's central database, keys and accounts under ``base``."""
    settings = Settings().with_dir(base / "server")
    init_server(settings)
    conn = open_writer(settings.db_path)
    fx = Fixture(settings)
    try:
        make_org(conn, now=datetime(2026, 9, 1, tzinfo=UTC))
        with ledgered(conn, kind="import", actor="test", now=datetime(2026, 9, 2, tzinfo=UTC)):
            _notices(conn)
            _people(conn)
            _practice(conn)
            _party(conn)
            _machines(conn)
        with ledgered(conn, kind="upload", actor="device", now=datetime(2026, 11, 19, 9, tzinfo=UTC),
                      device_id=D[1]) as tx:
            conn.execute("UPDATE retirees SET former_employer = '金钟镇人民政府' WHERE id = ?", (R[1],))
            fx.provenance_ledger_id = tx.ledger_id
        rng = random.Random(5)
        fx.tokens["alice"] = users.add(conn, "alice", "auditor", now=NOW, rng=rng)
        fx.tokens["sam"] = users.add(conn, "sam", "senior", now=NOW, rng=rng, days=30)
        fx.tokens["old"] = users.add(conn, "old", "senior", now=datetime(2026, 11, 1, tzinfo=UTC), rng=rng, days=7)
        fx.tokens["gone"] = users.add(conn, "gone", "senior", now=NOW, rng=rng)
        users.revoke(conn, "gone", now=NOW)
        checkpoint(conn, load_server_keys(settings).sign_key, NOW)
    finally:
        conn.close()
    return fx
