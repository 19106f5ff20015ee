"""Derived tables: summaries the auditors' canned queries read instead of scanning the province.

Each is ``sync="derived"``: central database only (migration 2 creates it, its triggers, and fills it
from the rows already there), never synced, ledgered, pulled or uploaded. Its persistent triggers keep it
exact after any write of the tables it reads — by the server, the CLI, a ledger rebuild (replaying a
changeset fires triggers) or anything else — with no Python involved. No trigger is on the hot upload
tables (contacts, visits, three_musts): only on retirees and the party tables, which change rarely.

* ``unit_special_counts`` — per unit, living retirees (``deceased_on IS NULL``) and how many of them are
  in each special list; a unit with none has no row.
* ``unit_birth_years`` — per unit and birth year, living retirees (an exact "80 and over" count is the
  years before the boundary year plus one index range of that year).
* ``member_absences`` — ``(unit, month, member)`` for each party member who is absent in the 3 months up
  to that month: the member's branch met then, and the member attended none (of any branch) and got no
  home study. Every change of a member, meeting, attendance or home study recomputes the (member, month)
  pairs it can affect: the months whose window holds the date concerned. Whether the member is living is
  left to the query.
"""

from __future__ import annotations

from schema.columns import integer, text
from schema.model import Column, Derivation, Index, Table

VERSION = 2
COUNTED = (
    ("widowed", "丧偶", "widowed", "({r}.marital_status = 'widowed')"),
    ("ill", "患病", "ill (chronic, serious, bedridden or in hospital)",
     "({r}.health_status != 'good' OR {r}.hospitalised = 1)"),
    ("living_alone", "独居", "living alone", "{r}.living_alone"),
    ("disabled", "失能", "disabled", "{r}.disabled"),
    ("lost_only_child", "失独", "lost only child", "{r}.lost_only_child"),
    ("empty_nest", "空巢", "empty nest", "{r}.empty_nest"),
    ("hardship", "经济困难", "financial hardship", "{r}.financial_hardship"),
    ("no_caseworker", "未分配联系人", "without a caseworker", "({r}.caseworker_id IS NULL)"),
)
"""(column, 中文, English, SQL of one retiree ``{r}``: 1 if counted, else 0) of ``unit_special_counts``."""


def _unit() -> Column:
    return text("unit_id", "单位", "unit", required=True)


def _n(name: str, zh: str, en: str) -> Column:
    return integer(name, zh, en, required=True)


def _retiree_counts() -> tuple[Derivation, Derivation]:
    """Both retiree summaries: each row's contribution is added for a living NEW row and subtracted for a
    living OLD row; a row whose ``living`` falls to 0 is deleted."""
    cols = ("living", *(c[0] for c in COUNTED))
    exprs = ("1", *(c[3] for c in COUNTED))
    year = "CAST(substr({r}.birth_date, 1, 4) AS INTEGER)"

    def add(t: str, key: tuple[str, ...], key_exprs: tuple[str, ...], cs: tuple[str, ...], es: tuple[str, ...],
            r: str) -> str:
        values = ", ".join((*(k.format(r=r) for k in key_exprs), *(e.format(r=r) for e in es)))
        sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in cs)
        return (f"INSERT INTO {t} ({', '.join((*key, *cs))}) SELECT {values} WHERE {r}.deceased_on IS NULL"
                f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets};")

    def sub(t: str, key: tuple[str, ...], key_exprs: tuple[str, ...], cs: tuple[str, ...], es: tuple[str, ...],
            r: str) -> str:
        where = " AND ".join(f"{k} = {e.format(r=r)}" for k, e in zip(key, key_exprs, strict=True))
        sets = ", ".join(f"{c} = {c} - {e.format(r=r)}" for c, e in zip(cs, es, strict=True))
        return (f"UPDATE {t} SET {sets} WHERE {where} AND {r}.deceased_on IS NULL;"
                f" DELETE FROM {t} WHERE {where} AND living = 0;")

    specs = (("unit_special_counts", ("unit_id",), ("{r}.unit_id",), cols, exprs),
             ("unit_birth_years", ("unit_id", "birth_year"), ("{r}.unit_id", year), ("living",), ("1",)))
    watched = ", ".join(("unit_id", "birth_date", "deceased_on", "marital_status", "health_status", "hospitalised",
                         "living_alone", "disabled", "lost_only_child", "empty_nest", "financial_hardship",
                         "caseworker_id"))
    out: list[Derivation] = []
    for t, key, kx, cs, es in specs:
        p = t.removeprefix("unit_")
        keys = ", ".join(k.format(r="r") for k in kx)
        sums = ", ".join("sum(" + e.format(r="r") + ")" for e in es)
        select = f"SELECT {keys}, {sums} FROM retirees r WHERE r.deceased_on IS NULL GROUP BY {keys}"
        out.append(Derivation(select, (
            f"CREATE TRIGGER {p}_ins AFTER INSERT ON retirees BEGIN {add(t, key, kx, cs, es, 'NEW')} END",
            f"CREATE TRIGGER {p}_del AFTER DELETE ON retirees BEGIN {sub(t, key, kx, cs, es, 'OLD')} END",
            f"CREATE TRIGGER {p}_upd AFTER UPDATE OF {watched} ON retirees BEGIN"
            f" {sub(t, key, kx, cs, es, 'OLD')} {add(t, key, kx, cs, es, 'NEW')} END",
        )))
    return out[0], out[1]


# -- member_absences ---------------------------------------------------------------------------------------

def absent_sql(m: str, ym: str) -> str:
    """SQL: party member ``m`` is absent in the 3 months up to month ``ym`` (``YYYY-MM``): the member's
    branch met in them, and the member was present at no meeting held in them and got no home study."""
    w0, w1 = f"date({ym} || '-01', '-2 months')", f"date({ym} || '-01', '+1 month', '-1 day')"
    return (f"EXISTS (SELECT 1 FROM party_meetings mt WHERE mt.branch_id = {m}.branch_id"
            f" AND mt.held_on BETWEEN {w0} AND {w1})"
            f" AND NOT EXISTS (SELECT 1 FROM home_study h WHERE h.member_id = {m}.id"
            f" AND h.delivered_on BETWEEN {w0} AND {w1})"
            f" AND NOT EXISTS (SELECT 1 FROM meeting_attendance a JOIN party_meetings mt ON mt.id = a.meeting_id"
            f" WHERE a.member_id = {m}.id AND a.status = 'present' AND mt.held_on BETWEEN {w0} AND {w1})")


def _months(dates: str) -> str:
    """SQL: the months (``YYYY-MM``) whose 3-month window holds one of the dates ``dates`` selects (as ``d``)."""
    return ("SELECT DISTINCT strftime('%Y-%m', x.d, 'start of month', printf('+%d months', k.n)) AS ym"
            f" FROM ({dates}) x, (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2) k WHERE x.d IS NOT NULL")


def _recompute(members: str, dates: str) -> str:
    """Statements that make ``member_absences`` exact for the members ``members`` selects (as ``id``) and
    the months of ``dates``."""
    months = _months(dates)
    return (f"DELETE FROM member_absences WHERE member_id IN ({members}) AND ym IN ({months});"
            " INSERT INTO member_absences (unit_id, ym, member_id) SELECT m.unit_id, k.ym, m.id"
            f" FROM party_members m, ({months}) k WHERE m.id IN ({members}) AND {absent_sql('m', 'k.ym')};")


def _branch(b: str) -> str:
    return f"SELECT id FROM party_members WHERE branch_id = {b}"


def _attendees(meeting: str) -> str:
    return f"SELECT member_id FROM meeting_attendance WHERE meeting_id = {meeting}"


def _held(meeting: str) -> str:
    return f"SELECT held_on AS d FROM party_meetings WHERE id = {meeting}"


def _absences() -> Derivation:
    # from scratch: only the months in which the member's branch has a meeting in the window
    branch_months = ("SELECT DISTINCT mt.branch_id, strftime('%Y-%m', mt.held_on, 'start of month',"
                     " printf('+%d months', k.n)) AS ym FROM party_meetings mt,"
                     " (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2) k")
    select = (f"SELECT m.unit_id, k.ym, m.id FROM ({branch_months}) k JOIN party_members m ON m.branch_id = k.branch_id"
              f" WHERE {absent_sql('m', 'k.ym')}")
    member_months = "SELECT held_on AS d FROM party_meetings WHERE branch_id = NEW.branch_id"
    present = "'present'"
    new_meeting = _branch("NEW.branch_id") + " UNION " + _attendees("NEW.id")
    old_meeting = _branch("OLD.branch_id") + " UNION " + _attendees("OLD.id")
    either_held = _held("OLD.meeting_id") + " UNION " + _held("NEW.meeting_id")
    trig = (
        f"CREATE TRIGGER absences_member_ins AFTER INSERT ON party_members BEGIN"
        f" {_recompute('SELECT NEW.id', member_months)} END",
        "CREATE TRIGGER absences_member_del AFTER DELETE ON party_members BEGIN"
        " DELETE FROM member_absences WHERE member_id = OLD.id; END",
        "CREATE TRIGGER absences_member_upd AFTER UPDATE OF id, unit_id, branch_id ON party_members BEGIN"
        " DELETE FROM member_absences WHERE member_id IN (OLD.id, NEW.id);"
        f" {_recompute('SELECT NEW.id', member_months)} END",
        "CREATE TRIGGER absences_meeting_ins AFTER INSERT ON party_meetings BEGIN"
        f" {_recompute(new_meeting, 'SELECT NEW.held_on AS d')} END",
        "CREATE TRIGGER absences_meeting_del AFTER DELETE ON party_meetings BEGIN"
        f" {_recompute(old_meeting, 'SELECT OLD.held_on AS d')} END",
        "CREATE TRIGGER absences_meeting_upd AFTER UPDATE OF id, branch_id, held_on ON party_meetings BEGIN"
        f" {_recompute(old_meeting + ' UNION ' + new_meeting, 'SELECT OLD.held_on AS d UNION SELECT NEW.held_on')}"
        " END",
        f"CREATE TRIGGER absences_attendance_ins AFTER INSERT ON meeting_attendance WHEN NEW.status = {present}"
        f" BEGIN {_recompute('SELECT NEW.member_id', _held('NEW.meeting_id'))} END",
        f"CREATE TRIGGER absences_attendance_del AFTER DELETE ON meeting_attendance WHEN OLD.status = {present}"
        f" BEGIN {_recompute('SELECT OLD.member_id', _held('OLD.meeting_id'))} END",
        "CREATE TRIGGER absences_attendance_upd AFTER UPDATE OF meeting_id, member_id, status ON meeting_attendance"
        f" WHEN OLD.status = {present} OR NEW.status = {present} BEGIN"
        f" {_recompute('SELECT OLD.member_id UNION SELECT NEW.member_id', either_held)} END",
        "CREATE TRIGGER absences_study_ins AFTER INSERT ON home_study BEGIN"
        f" {_recompute('SELECT NEW.member_id', 'SELECT NEW.delivered_on AS d')} END",
        "CREATE TRIGGER absences_study_del AFTER DELETE ON home_study BEGIN"
        f" {_recompute('SELECT OLD.member_id', 'SELECT OLD.delivered_on AS d')} END",
        "CREATE TRIGGER absences_study_upd AFTER UPDATE OF member_id, delivered_on ON home_study BEGIN"
        f" {_recompute('SELECT OLD.member_id UNION SELECT NEW.member_id', 'SELECT OLD.delivered_on AS d UNION SELECT NEW.delivered_on')}"
        " END",
    )
    return Derivation(select, trig)


_SPECIAL, _YEARS = _retiree_counts()

SPECIAL_COUNTS = Table(
    "unit_special_counts", "特殊名单人数(汇总)", "special-list counts per unit (summary)",
    "派生汇总表(由触发器随离退休干部表自动维护,不同步、不入账本):每个单位在世离退休干部人数及独居、丧偶、患病、"
    "失能、失独、空巢、经济困难、未分配联系人的人数。",
    (_unit(), _n("living", "在世人数", "living retirees"), *(_n(c, zh, en) for c, zh, en, _ in COUNTED)),
    sync="derived", pk="unit_id", added_in=VERSION, derivation=_SPECIAL,
)

BIRTH_YEARS = Table(
    "unit_birth_years", "出生年份人数(汇总)", "living retirees per unit and birth year (summary)",
    "派生汇总表(由触发器随离退休干部表自动维护,不同步、不入账本):每个单位每个出生年份的在世离退休干部人数。",
    (_unit(), integer("birth_year", "出生年份", "birth year", required=True),
     _n("living", "在世人数", "living retirees")),
    sync="derived", pk="rowid", added_in=VERSION, derivation=_YEARS,
    indexes=(Index(("unit_id", "birth_year"), unique=True, added_in=VERSION, central_only=True),),
)

MEMBER_ABSENCES = Table(
    "member_absences", "连续3个月未参加组织生活的党员(汇总)", "party members absent 3 months (summary)",
    "派生汇总表(由触发器随党员、组织生活、出席情况、送学上门表自动维护,不同步、不入账本):截至某月的连续3个月内,"
    "所在支部开过组织生活而本人一次也未出席、也没有送学上门的党员(是否在世由查询判断)。",
    (_unit(), text("ym", "月份", "month (YYYY-MM)", required=True),
     text("member_id", "党员", "party member", required=True)),
    sync="derived", pk="rowid", added_in=VERSION, derivation=_absences(),
    indexes=(Index(("unit_id", "ym", "member_id"), unique=True, added_in=VERSION, central_only=True),
             Index(("member_id", "ym"), added_in=VERSION, central_only=True)),
)

SUMMARY_TABLES: tuple[Table, ...] = (SPECIAL_COUNTS, BIRTH_YEARS, MEMBER_ABSENCES)
