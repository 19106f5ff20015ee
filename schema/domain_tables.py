"""The synced domain tables: the roster and everything staff record about the practices in the seed.

Every synced table has a TEXT UUID primary key ``id`` (the session extension needs an explicit key) and
a ``unit_id`` that ties the row to the org unit whose tablets may read and write it.
"""

from __future__ import annotations

from schema import enums as E
from schema.columns import choice, day, flag, integer, money, pk, ref, text, unit
from schema.model import Column, Index, Table
from schema.party_tables import ATTENDANCE, BRANCHES, GROUPS, HOME_STUDY, MEETINGS, MEMBERS

UNITS = Table(
    "units", "组织单位", "org units",
    "市—县(区)—乡镇/部门 的层级,每个乡镇或部门由一台或多台平板服务。",
    (
        pk(),
        text("code", "单位代码", "unit code", required=True, unique=True, merge="server"),
        text("name", "单位名称", "unit name", required=True, merge="server"),
        choice("level", E.UNIT_LEVEL, merge="server"),
        ref("parent_id", "units", "上级单位", "parent unit"),
    ),
    sync="down", scope="id", shared_below=True,
    indexes=(Index(("parent_id",)),),
)

STAFF = Table(
    "staff", "离退休干部工作人员", "staff",
    "乡镇、部门的专(兼)职离退休干部工作人员;每人服务若干名离退休干部。",
    (
        pk(), unit("所在单位", "unit"),
        text("name", "姓名", "name", required=True, personal=True),
        text("phone", "电话", "phone", personal=True),
        choice("role", E.STAFF_ROLE),
        flag("active", "在岗", "active"),
    ),
    sync="down", scope="unit_id",
    indexes=(Index(("unit_id",)),),
)

VENUES = Table(
    "venues", "活动阵地", "activity venues",
    "离退休干部活动阵地,按“五有”标准检查。",
    (
        pk(), unit("所属单位", "unit"),
        text("name", "阵地名称", "venue name", required=True),
        text("location", "地点", "location"),
        flag("has_site", "有活动场所", "has a site"),
        flag("has_facilities", "有配套设施", "has facilities"),
        flag("has_books", "有书报", "has books and papers"),
        flag("has_rules_board", "有制度栏", "has a rules board"),
        flag("has_archive", "有工作档案", "has a work archive"),
        day("inspected_on", "检查日期", "last inspected on"),
    ),
    sync="both", scope="unit_id", shared_below=True,
    indexes=(Index(("unit_id",)),),
)

RESOURCES = Table(
    "community_resources", "社会服务资源", "community resources",
    "可承接服务订单的社区资源:送餐、爱心超市、邻里互助、商家等。",
    (
        pk(), unit("所属单位", "unit"),
        text("name", "名称", "name", required=True),
        choice("kind", E.RESOURCE_KIND),
        flag("active", "可用", "active"),
    ),
    sync="both", scope="unit_id", shared_below=True,
    indexes=(Index(("unit_id",)),),
)

_RETIREE_COLUMNS: tuple[Column, ...] = (
    pk(), unit(),
    ref("caseworker_id", "staff", "联系工作人员", "caseworker (staff member responsible)"),
    text("name", "姓名", "name", required=True, personal=True),
    choice("sex", E.SEX),
    day("birth_date", "出生日期", "birth date", required=True, personal=True),
    text("id_number", "身份证号", "ID number", required=True, personal=True),
    text("phone", "联系电话", "phone", personal=True),
    text("address", "住址", "address", personal=True),
    choice("category", E.CATEGORY, merge="server"),
    text("former_employer", "原单位", "former employer"),
    choice("residence_type", E.RESIDENCE, "居住情况", "residence", default="own_home"),
    choice("marital_status", E.MARITAL, default="married"),
    flag("living_alone", "独居", "lives alone"),
    choice("health_status", E.HEALTH, default="good", personal=True),
    flag("hospitalised", "正在住院", "in hospital now", personal=True),
    flag("disabled", "失能", "disabled (loss of self-care)", personal=True),
    flag("lost_only_child", "失独", "lost only child"),
    flag("empty_nest", "空巢", "empty nest"),
    flag("financial_hardship", "经济困难", "financial hardship"),
    flag("four_nearby", "纳入“四就近”服务", "in the four-nearby service"),
    flag("can_attend", "能参加集中活动", "can attend group activities"),
    text("hobbies", "特长爱好", "hobbies and skills", personal=True),
    text("personality_notes", "性格特征", "personality notes", personal=True),
    text("health_notes", "健康情况说明", "health details", personal=True),
    day("deceased_on", "去世日期", "date of death"),
)

RETIREES = Table(
    "retirees", "离退休干部", "retirees",
    "服务数据库:离退休干部基本信息,患病、丧偶、独居等名单均为其视图。",
    _RETIREE_COLUMNS, sync="both", scope="unit_id",
    indexes=(Index(("unit_id", "category")), Index(("id_number",), unique=True),
             Index(("caseworker_id",), central_dropped_in=2),
             Index(("unit_id", "deceased_on", "caseworker_id", "id")),
             # the auditors' caseload (a caseworker's living retirees) and birthdays (六必访)
             Index(("caseworker_id", "deceased_on", "unit_id"), added_in=2, central_only=True),
             Index(("birth_date", "unit_id", "deceased_on", "id"), added_in=2, central_only=True),
             # must_visit_overdue walking units: a unit's birthdays in a month, one index range each
             Index(("unit_id", "birth_month", "birth_date"), added_in=3, central_only=True,
                   expressions=(("birth_month", "substr(birth_date, 6, 2)"),)),
             # the auditors' notice coverage and the report: a unit's retirees of a category, alive when
             Index(("unit_id", "category", "deceased_on", "id"), added_in=4, central_only=True)),
)

FAMILY = Table(
    "family_contacts", "家属及子女联系人", "family contacts",
    "家属、子女联系方式;每月可联系本人或家属。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        text("name", "姓名", "name", required=True, personal=True),
        choice("relation", E.RELATION),
        text("phone", "电话", "phone", personal=True),
        text("address", "住址", "address", personal=True),
        flag("lives_with", "同住", "lives with the retiree"),
        flag("emergency", "紧急联系人", "emergency contact"),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id",)), Index(("unit_id",))),
)

HISTORY = Table(
    "roster_history", "信息变更记录", "roster history",
    "信息“动态化”:每次联系、走访更新信息时记录谁在何时改了哪一项。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        text("field", "变更项", "field", required=True),
        text("old_value", "原值", "old value", personal=True),
        text("new_value", "新值", "new value", personal=True),
        Column("changed_at", "datetime", "变更时间", "changed at", required=True),
        ref("changed_by", "staff", "变更人", "changed by"),
    ),
    sync="both", scope="unit_id", append_only=True,
    indexes=(Index(("retiree_id", "changed_at")), Index(("unit_id",))),
)

CONTACTS = Table(
    "contacts", "电话联系记录", "contacts",
    "每月电话联系离退休干部本人或家属一次。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        ref("staff_id", "staff", "联系人(工作人员)", "staff member"),
        day("contacted_on", "联系日期", "contacted on", required=True),
        choice("channel", E.CONTACT_CHANNEL),
        choice("with_whom", E.CONTACT_WITH),
        flag("reached", "联系上", "reached"),
        flag("info_updated", "更新了信息", "updated the roster"),
        text("notes", "联系情况", "notes", personal=True),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id", "contacted_on", "reached")),
             Index(("unit_id", "contacted_on", "reached", "staff_id", "retiree_id"), central_dropped_in=2),
             # the auditors' caseload: a staff member's contacts in a month
             Index(("staff_id", "contacted_on", "unit_id", "retiree_id"), added_in=2, central_only=True)),
)

EVENTS = Table(
    "life_events", "需走访事项", "life events",
    "触发“六必访”的事项:生病住院、遇到困难、丧葬、反映问题、新领导上任、节日寿辰。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree"),
        choice("kind", E.EVENT_KIND),
        day("occurred_on", "发生日期", "occurred on", required=True),
        ref("reported_by", "staff", "报告人", "reported by"),
        text("notes", "情况说明", "notes", personal=True),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id", "occurred_on")), Index(("unit_id", "kind", "occurred_on"), central_dropped_in=2),
             Index(("unit_id", "kind", "occurred_on", "retiree_id"), added_in=2, central_only=True)),
)

VISITS = Table(
    "visits", "走访慰问记录", "visits",
    "“六必访”走访慰问:事由、物质或精神慰问、是否传达政策。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        ref("staff_id", "staff", "走访人", "staff member"),
        ref("event_id", "life_events", "对应事项", "event visited for"),
        day("visited_on", "走访日期", "visited on", required=True),
        choice("occasion", E.VISIT_OCCASION),
        choice("kind", E.VISIT_KIND),
        choice("mode", E.VISIT_MODE, default="home"),
        flag("policy_conveyed", "传达了政策", "policy conveyed"),
        money("gift_yuan", "慰问金/品价值(元)", "gift value (yuan)"),
        text("notes", "走访情况", "notes", personal=True),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id", "visited_on", "kind")), Index(("unit_id", "visited_on"), central_dropped_in=2),
             Index(("event_id",)),
             # the auditors' visit_kinds (per unit and month) and caseload (a staff member's visits)
             Index(("unit_id", "visited_on", "kind", "policy_conveyed"), added_in=2, central_only=True),
             Index(("staff_id", "visited_on", "unit_id", "retiree_id"), added_in=2, central_only=True)),
)

MUSTS = Table(
    "three_musts", "三必须记录", "three musts",
    "文件必须送到、会议必须邀请、上级精神必须传达。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        ref("staff_id", "staff", "经办人", "staff member"),
        choice("kind", E.MUST_KIND),
        text("item", "文件/会议/精神名称", "document, meeting or guidance", required=True),
        day("delivered_on", "送达日期", "delivered on", required=True),
        choice("method", E.DELIVERY),
        # v4: the notice delivered (三必须事项); older rows and tablets one version behind leave it NULL
        Column("notice_id", "uuid", "三必须事项", "notice delivered", references="notices", added_in=4),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id",)), Index(("unit_id", "delivered_on")),
             # the auditors' notice coverage: a notice's deliveries, each retiree's first one
             Index(("notice_id", "retiree_id", "delivered_on"), added_in=4, central_only=True)),
)

HELPS = Table(
    "three_helps", "三帮助记录", "three helps",
    "切身利益帮助落实、生活困难帮助解决、思想疙瘩帮助解开。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        ref("staff_id", "staff", "经办人", "staff member"),
        choice("kind", E.HELP_KIND),
        day("raised_on", "提出日期", "raised on", required=True),
        choice("status", E.HELP_STATUS, default="open"),
        day("resolved_on", "办结日期", "resolved on"),
        text("details", "具体情况", "details", personal=True),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id",)), Index(("unit_id", "raised_on"))),
)

MENU = Table(
    "service_menu", "服务菜单", "service menu",
    "订单式服务的菜单项与对象:身体好的多提供学习、文体活动;不能参加活动的上门照顾;"
    "丧偶和长期卧床的重点精神慰藉;长期住院和重症的重点医疗保健。",
    (
        pk(),
        choice("item", E.MENU_ITEM, "菜单项", "menu item", merge="server"),
        text("target_group", "重点对象", "target group", merge="server"),
        integer("sort_order", "排序", "sort order"),
    ),
    sync="down", scope=None,
    indexes=(Index(("item",), unique=True),),
)

OPEN_ORDER = "status IN ('open', 'assigned')"
"""An order still waiting to be fulfilled (the partial index on open orders, and the auditors' query)."""

ORDERS = Table(
    "service_orders", "服务订单", "service orders",
    "离退休干部“订单”,工作人员“送单”:状态、承接人、完成日期、满意度。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        choice("item", E.MENU_ITEM, "服务项目", "menu item"),
        day("requested_on", "下单日期", "requested on", required=True),
        choice("status", E.ORDER_STATUS, default="open"),
        ref("assigned_to", "staff", "承接人", "assigned to"),
        day("assigned_on", "派单日期", "assigned on"),
        day("fulfilled_on", "完成日期", "fulfilled on"),
        ref("provider_id", "community_resources", "服务资源", "community provider"),
        ref("venue_id", "venues", "就近阵地", "nearby venue used"),
        integer("satisfaction", "满意度(1-5)", "satisfaction (1-5)", lo=1, hi=5),
        text("notes", "备注", "notes", personal=True),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id",)), Index(("unit_id", "status", "requested_on")), Index(("unit_id", "item")),
             # the auditors' orders_overdue (open orders, oldest first) and menu_fulfilment (a month's orders)
             Index(("requested_on", "id", "unit_id"), where=OPEN_ORDER, added_in=2, central_only=True),
             Index(("unit_id", "requested_on", "item", "status", "fulfilled_on", "satisfaction"), added_in=2,
                   central_only=True)),
)

NOTICES = Table(
    "notices", "三必须事项", "three-musts notices",
    "市委老干部局或某一单位下发的文件、会议通知和上级精神:下发单位及其所有下级单位中属于发放范围的在世"
    "离退休干部,都应在送达期限前收到(文件必须送到、会议必须邀请、上级精神必须传达)。由上级在服务器上下发,"
    "平板只读,送达记入三必须记录。",
    (
        pk(), unit("下发单位", "issuing unit"),
        choice("kind", E.MUST_KIND, merge="server"),
        text("title", "标题", "title", required=True, merge="server"),
        day("issued_on", "下发日期", "issued on", required=True),
        day("due_by", "送达期限", "due by (every retiree in scope has it by then)", required=True),
        choice("for_category", E.CATEGORY, "发放范围(该类别及以上)",
               "due to retirees of this category and the ones above it (general: everyone)", default="general"),
    ),
    sync="down", scope="unit_id", shared_below=True, added_in=4,
    indexes=(Index(("unit_id", "due_by")),
             # the auditors' coverage and the report: the notices due in a period, province-wide
             Index(("due_by", "unit_id"), central_only=True)),
)

DOMAIN_TABLES: tuple[Table, ...] = (
    UNITS, STAFF, BRANCHES, VENUES, RESOURCES, RETIREES, FAMILY, HISTORY, CONTACTS, EVENTS, VISITS,
    MUSTS, HELPS, MENU, ORDERS, GROUPS, MEMBERS, MEETINGS, ATTENDANCE, HOME_STUDY, NOTICES,
)
