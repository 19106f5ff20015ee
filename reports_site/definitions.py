"""What the site publishes: every count cell, rate, median and trend, with its Chinese definition.

The methodology page, the pages, the disclosure structure and the computation all read these
records, so a definition is written once. Category, occasion, menu and other labels come from the
schema registry's enumerations.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.definitions import FOUR_NEARBY, HIGH_AGE, TARGETING
from schema.enums import CATEGORY, HELP_KIND, MEETING_KIND, MENU_ITEM, MUST_KIND, VISIT_OCCASION

ALIVE = "报告月末在世的离退休干部"
MIN_COUNT = 10
"""Counts from 1 to MIN_COUNT-1 are suppressed; rates and medians need a denominator of at least this."""
CASELOAD_STANDARD = 33
"""Retirees per staff member in the seed (会泽县: 4,000+ retirees, 120+ staff)."""

AGE_BANDS: tuple[tuple[str, str], ...] = (
    ("lt60", "60岁以下"), ("60", "60–64岁"), ("65", "65–69岁"), ("70", "70–74岁"), ("75", "75–79岁"),
    ("80", "80–84岁"), ("85", "85–89岁"), ("90", "90岁及以上"),
)
LISTS: tuple[tuple[str, str, str], ...] = (
    ("alone", "独居", "独居标记为是"),
    ("widowed", "丧偶", "婚姻情况为丧偶"),
    ("ill", "患病", "身体状况为患慢性病、重症或长期卧床,或正在住院"),
    ("aged80", f"高龄({HIGH_AGE}岁及以上)", f"报告月末年满{HIGH_AGE}周岁"),
    ("disabled", "失能", "失能标记为是"),
    ("lost_only_child", "失独", "失独标记为是"),
    ("empty_nest", "空巢", "空巢标记为是"),
    ("hardship", "经济困难", "经济困难标记为是"),
)
MUST_VISITS: tuple[str, ...] = tuple(c for c in VISIT_OCCASION.codes() if c != "routine")
"""The six must-visits (六必访): every visit occasion except routine visits."""
EVENT_OCCASION: tuple[tuple[str, str], ...] = (
    ("hospitalised", "illness"), ("illness", "illness"), ("hardship", "hardship"),
    ("bereavement", "bereavement"), ("complaint", "complaint"), ("new_leader", "new_leader"),
    ("holiday", "holiday_birthday"), ("birthday", "holiday_birthday"),
)
"""Which must-visit occasion a life event (需走访事项) calls for."""
_WHO = {"comfort": "丧偶或长期卧床的离退休干部", "health": "长期住院或患重症的离退休干部",
        "homecare": "不能参加集中活动的离退休干部"}
TARGETS: tuple[tuple[str, str, str, str], ...] = tuple(
    (rule.code, _WHO[rule.code], rule.item, rule.at(":end")) for rule in TARGETING)
"""The seed's targeting rules (:data:`schema.definitions.TARGETING`): who should get which menu item
(key, who, item, SQL over ``r``, a retirees row, judged at the report month's end)."""
NEARBY_LISTS: tuple[str, ...] = FOUR_NEARBY
"""The four-nearby (四就近) target group: anyone on one of these lists (very old, disabled, bereaved, poor)."""
NEARBY_WHO = "、".join(zh for k, zh, _ in LISTS if k in NEARBY_LISTS)


@dataclass(frozen=True)
class CountDef:
    name: str
    zh: str
    definition: str


@dataclass(frozen=True)
class RateDef:
    key: str
    zh: str
    numerator: str
    denominator: str
    period: str
    linked: tuple[str, ...] = ()
    """Published counts the rate is made of (its denominator, and its numerator when that is one too).
    The rate is withheld when any of them is hidden: a ratio of two counts would give a hidden one back,
    and even a shown-or-withheld rate over a hidden denominator would tell whether it is 10 or more."""
    kind: str = "rate"
    """``rate`` (shown as %), ``ratio`` (a number, e.g. retirees per staff) or ``median`` (days)."""


@dataclass(frozen=True)
class TrendDef:
    key: str
    zh: str
    rate: str
    """The rate whose per-month values the trend shows (its definition applies month by month)."""


P_MONTH = "报告月"
P_YEAR = "报告月及之前共12个月"
P_RECENT = "截至报告月末的90天"
P_EVENTS = "报告月及之前共12个月内发生、且至报告月末已满7天的事项"
STAFF_DEF = "在岗的专职和兼职离退休干部工作人员"

COUNTS: tuple[CountDef, ...] = (
    CountDef("retirees", "离退休干部人数", ALIVE + "人数,按责任单位统计"),
    *(CountDef(f"cat:{v.code}", v.zh, f"{ALIVE}中人员类别为“{v.zh}”的人数") for v in CATEGORY.values),
    *(CountDef(f"age:{k}", zh, f"{ALIVE}中报告月末年龄为{zh}的人数(5岁一组,90岁及以上合并)")
      for k, zh in AGE_BANDS),
    CountDef("members", "党员人数", ALIVE + "中的党员人数(每人只计一次:正式组织关系所在的支部之外,"
             "另受特设党支部双重管理的党员不重复计算)"),
    CountDef("members_dual", "双重管理党员人数",
             "党员人数中除正式组织关系所在支部(一方隶属)外,另有特设党支部双重管理的人数(“两不、一方、两双”;"
             "一人受几个特设党支部管理也只计一次)"),
    *(CountDef(f"list:{k}", zh, f"{ALIVE}中{d}的人数") for k, zh, d in LISTS),
    CountDef("visits", "走访慰问次数", P_YEAR + "的走访慰问记录数,按记录的责任单位统计"),
    CountDef("musts", "“三必须”送达人次", P_YEAR + "的“三必须”送达记录数"),
    *(CountDef(f"musts:{v.code}", v.zh, f"“三必须”送达人次中“{v.zh}”的人次") for v in MUST_KIND.values),
    CountDef("notices", "到期的三必须事项数", P_YEAR + "内到期的三必须事项(上级或本单位下发的文件、会议通知和"
             "上级精神)个数,按下发单位统计"),
    CountDef("home_need", "需送学上门党员数", ALIVE + "中不能参加集中活动(能参加集中活动为否)的党员人数"),
    CountDef("orders", "服务订单数", P_YEAR + "内下单的服务订单数(含已取消)"),
    *(CountDef(f"orders:{v.code}", v.zh, f"服务订单数中服务项目为“{v.zh}”的订单数") for v in MENU_ITEM.values),
    CountDef("helps", "“三帮助”事项数", P_YEAR + "内提出的“三帮助”事项数,按记录的责任单位统计"),
    *(CountDef(f"helps:{v.code}", v.zh, f"“三帮助”事项数中类别为“{v.zh}”的事项数(只在全站概览发布)") for v in HELP_KIND.values),
    CountDef("helps_resolved", "“三帮助”已解决事项数",
             "“三帮助”事项中办理状态为已解决、且办结日期不晚于报告月末的事项数(转办、未能解决和办理中的不计)"),
    CountDef("branches", "党支部数", "登记的离退休干部党支部个数(含联合组建和特设党支部),按支部所属单位统计"),
    CountDef("branches_special", "特设党支部数", "党支部数中类型为“特设党支部”的个数"),
    CountDef("groups", "党小组数", "党支部内根据居住地、兴趣爱好等设置的党小组个数,按党小组所属单位统计"),
    CountDef("meetings", "组织生活次数", P_YEAR + "内召开的组织生活(“三会一课”、民主评议党员、主题学习)次数,"
             "按记录的责任单位统计"),
    *(CountDef(f"meetings:{v.code}", v.zh, f"组织生活次数中类型为“{v.zh}”的次数") for v in MEETING_KIND.values),
    CountDef("nearby_target", "“四就近”服务对象人数",
             f"{ALIVE}中属于{NEARBY_WHO}任一名单的人数(一人在多个名单中只计一次;只在全站概览发布,"
             "且其中任一名单人数隐藏时不发布)"),
    CountDef("nearby_enrolled", "已纳入“四就近”服务人数",
             "“四就近”服务对象中已纳入“四就近”服务的人数(只在全站概览发布,同上)"),
    CountDef("staff", "工作人员数", STAFF_DEF + "人数(不含老干部局督导)"),
    CountDef("venues", "活动阵地数", "登记的活动阵地个数"),
    CountDef("venues_five", "达到“五有”的阵地数", "有活动场所、有配套设施、有书报、有制度栏、有工作档案五项俱全的阵地个数"),
    CountDef("resources", "社会服务资源数", "登记为可用的社区服务资源(送餐、爱心超市、邻里互助、商家等)个数(只在全站概览发布)"),
)
COUNT_BY_NAME = {c.name: c for c in COUNTS}
TOP_ONLY: frozenset[str] = frozenset((*(f"age:{k}" for k, _ in AGE_BANDS),
                                      *(f"helps:{c}" for c in HELP_KIND.codes()), "resources",
                                      "nearby_target", "nearby_enrolled"))
"""Counts published for the whole site (the overview) only: a unit-by-unit age table would hide far more
than it shows (most bands of a township are under 10) and tie every table to every other. The same holds
for the three helps by kind and the community resources (most townships have fewer than 10); per unit they
also made the suppression of the 2,000-unit bench city take 15 s instead of 9 s. The four-nearby group
and its enrolled count are whole-site only too, and shown there only when no list is hidden
(``pages._nearby_published``): the group is at most the sum of its lists, a relation the suppression
model does not hold, so per unit they could bound a hidden list count (e.g. 失能) from below."""

SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("retirees", tuple(f"cat:{c}" for c in CATEGORY.codes())),
    ("retirees", tuple(f"age:{k}" for k, _ in AGE_BANDS)),
    ("musts", tuple(f"musts:{c}" for c in MUST_KIND.codes())),
    ("orders", tuple(f"orders:{c}" for c in MENU_ITEM.codes())),
    ("helps", tuple(f"helps:{c}" for c in HELP_KIND.codes())),
    ("meetings", tuple(f"meetings:{c}" for c in MEETING_KIND.codes())),
)
"""Totals that equal the sum of their parts on every unit (besides every cell = sum over sub-units)."""
AT_MOST: tuple[tuple[str, str], ...] = (
    ("members", "retirees"), *((f"list:{k}", "retirees") for k, _, _ in LISTS),
    ("home_need", "members"), ("members_dual", "members"), ("venues_five", "venues"), ("helps_resolved", "helps"),
    ("branches_special", "branches"), ("nearby_target", "retirees"), ("nearby_enrolled", "nearby_target"),
    *((f"list:{k}", "nearby_target") for k in NEARBY_LISTS),
)
"""Pairs (part, whole) where the part can never exceed the whole."""

RATES: tuple[RateDef, ...] = (
    RateDef("member_share", "党员占比", "党员人数", "离退休干部人数", "报告月末", ("members", "retirees")),
    RateDef("contact", "每月联系覆盖率", "报告月内至少有一次“联系上”的电话或其他联系记录(本人或家属)的人数",
            ALIVE + "人数", P_MONTH, ("retirees",)),
    *(RateDef(f"timely:{o}", VISIT_OCCASION.label(o),
              "其中在事项发生当日起7天内有走访的事项数(走访记录关联该事项,或同一人同一事由的走访;"
              "节日、新领导上任等面向全单位的事项以有关联走访为准)",
              f"事由对应“{VISIT_OCCASION.label(o)}”的需走访事项数", P_EVENTS) for o in MUST_VISITS),
    RateDef("timely", "六必访及时率(合计)", "7天内有走访的需走访事项数", "需走访事项数", P_EVENTS),
    RateDef("spiritual_share", "精神慰问占比", "慰问类型为精神慰问或物质和精神慰问的走访次数", "走访慰问次数",
            P_YEAR, ("visits",)),
    RateDef("material_share", "物质慰问占比", "慰问类型为物质慰问或物质和精神慰问的走访次数", "走访慰问次数",
            P_YEAR, ("visits",)),
    RateDef("policy_share", "传达政策占比", "传达了政策的走访次数", "走访慰问次数", P_YEAR, ("visits",)),
    RateDef("pickup_share", "通知家属到办公室领取占比", "慰问方式为“通知家属到办公室领取”的走访次数", "走访慰问次数",
            P_YEAR, ("visits",)),
    *(RateDef(f"musts_cov:{v.code}", f"{v.zh}覆盖率", f"至少收到一次“{v.zh}”的人数", ALIVE + "人数", P_YEAR,
              ("retirees",)) for v in MUST_KIND.values),
    RateDef("notice_reach", "三必须事项按期送达率",
            "应送达人次中在送达期限当日或之前有送达记录(关联该事项)的人次",
            "统计期内到期的每一项三必须事项的应送达人次:下发单位及其所有下级单位中属于发放范围(该类别及以上)、"
            "送达期限当日在世的离退休干部,每人每项计一次,按离退休干部的责任单位统计", P_YEAR, ("retirees",)),
    RateDef("home_study", "送学上门覆盖率", "需送学上门党员中至少有一次送学上门记录的人数", "需送学上门党员数",
            P_RECENT, ("home_need",)),
    *(RateDef(f"fulfil:{v.code}", f"{v.zh}完成率", "至报告月末已完成的订单数", "下单的订单数减去已取消的订单数",
              P_YEAR) for v in MENU_ITEM.values),
    RateDef("fulfil", "订单完成率(合计)", "至报告月末已完成的订单数", "下单的订单数减去已取消的订单数", P_YEAR),
    *(RateDef(f"days:{v.code}", f"{v.zh}完成天数中位数", "已完成订单从下单到完成的天数的中位数",
              "已完成的订单数", P_YEAR, kind="median") for v in MENU_ITEM.values),
    RateDef("days", "完成天数中位数(合计)", "已完成订单从下单到完成的天数的中位数", "已完成的订单数", P_YEAR,
            kind="median"),
    *(RateDef(f"target:{k}", f"{who}获得{MENU_ITEM.label(item)}的比例",
              f"其中有“{MENU_ITEM.label(item)}”订单在此期间完成的人数", f"{ALIVE}中{who}人数", P_RECENT)
      for k, who, item, _ in TARGETS),
    RateDef("helps_resolved_share", "“三帮助”解决率", "“三帮助”已解决事项数", "“三帮助”事项数", P_YEAR,
            ("helps_resolved", "helps")),
    RateDef("attendance", "组织生活出席率", "出席记录中出席情况为“出席”的记录数",
            "统计期内召开的组织生活的全部出席记录数(每次组织生活每名应到党员一条)", P_YEAR),
    RateDef("nearby_share", "“四就近”纳入率", "已纳入“四就近”服务人数", "“四就近”服务对象人数", "报告月末",
            ("nearby_enrolled", "nearby_target")),
    RateDef("provider_share", "社会资源承接订单占比", "已完成订单中由登记的社会服务资源承接的订单数",
            "至报告月末已完成的订单数(下单时间在统计期内)", P_YEAR),
    RateDef("caseload", "人均服务离退休干部数", "离退休干部人数", "工作人员数", "报告月末", ("retirees", "staff"),
            kind="ratio"),
    RateDef("contacts_per_staff", "人均联系次数", f"{STAFF_DEF}在报告月内记录的电话或其他联系次数(含未联系上)",
            "工作人员数", P_MONTH, ("staff",), kind="ratio"),
    RateDef("visits_per_staff", "人均走访次数", f"{STAFF_DEF}在报告月内记录的走访慰问次数", "工作人员数", P_MONTH,
            ("staff",), kind="ratio"),
    RateDef("five_haves", "“五有”达标率", "达到“五有”的阵地数", "活动阵地数", "报告月末", ("venues_five", "venues")),
)
RATE_BY_KEY = {r.key: r for r in RATES}

TRENDS: tuple[TrendDef, ...] = (
    TrendDef("contact", "每月联系覆盖率", "contact"),
    TrendDef("spiritual_share", "精神慰问占比", "spiritual_share"),
)
