"""Every enumeration the seed names, with Chinese and English labels.

The CHECK constraints, Datasette labels, report labels and the data generator all read these.
"""

from __future__ import annotations

from schema.model import Enum, EnumValue


def _enum(name: str, zh: str, en: str, *values: tuple[str, str, str]) -> Enum:
    return Enum(name, zh, en, tuple(EnumValue(c, z, e) for c, z, e in values))


UNIT_LEVEL = _enum(
    "unit_level", "单位层级", "unit level",
    ("province", "省", "province"),
    ("city", "市", "city"),
    ("county", "县/区", "county or district"),
    ("township", "乡镇", "township"),
    ("department", "部门", "department"),
)

SEX = _enum("sex", "性别", "sex", ("male", "男", "male"), ("female", "女", "female"))

CATEGORY = _enum(
    "retiree_category", "人员类别", "retiree category",
    ("lixiu", "离休干部", "retired before 1949 cut-off (lixiu)"),
    ("county_level", "县级退休干部", "county-level retired cadre"),
    ("section_level", "科级退休干部", "section-level retired cadre"),
    ("general", "一般退休干部职工", "other retired cadre or worker"),
)

RESIDENCE = _enum(
    "residence_type", "居住情况", "residence",
    ("own_home", "自有住房", "own home"),
    ("with_children", "随子女居住", "lives with children"),
    ("care_home", "养老机构", "care home"),
    ("hospital", "长期住院", "long-term hospital"),
    ("rented", "租住", "rented"),
    ("other", "其他", "other"),
)

MARITAL = _enum(
    "marital_status", "婚姻情况", "marital status",
    ("married", "已婚", "married"),
    ("widowed", "丧偶", "widowed"),
    ("divorced", "离异", "divorced"),
    ("single", "未婚", "never married"),
)

HEALTH = _enum(
    "health_status", "身体状况", "health status",
    ("good", "良好", "good"),
    ("chronic", "患慢性病", "chronic illness"),
    ("serious", "重症", "seriously ill"),
    ("bedridden", "长期卧床", "long-term bedridden"),
)

RELATION = _enum(
    "relation", "关系", "relation",
    ("spouse", "配偶", "spouse"),
    ("son", "儿子", "son"),
    ("daughter", "女儿", "daughter"),
    ("son_in_law", "女婿", "son-in-law"),
    ("daughter_in_law", "儿媳", "daughter-in-law"),
    ("grandchild", "孙辈", "grandchild"),
    ("relative", "其他亲属", "other relative"),
    ("guardian", "监护人", "guardian"),
    ("neighbour", "邻居", "neighbour"),
)

STAFF_ROLE = _enum(
    "staff_role", "工作人员类型", "staff role",
    ("full_time", "专职", "full-time"),
    ("part_time", "兼职", "part-time"),
    ("supervisor", "老干部局督导", "office supervisor"),
)

CONTACT_CHANNEL = _enum(
    "contact_channel", "联系方式", "contact channel",
    ("phone", "电话", "phone"),
    ("in_person", "当面", "in person"),
    ("video", "视频", "video call"),
    ("message", "短信/微信", "text message"),
)

CONTACT_WITH = _enum(
    "contact_with", "联系对象", "contacted person",
    ("self", "本人", "the retiree"),
    ("family", "家属", "family member"),
)

VISIT_OCCASION = _enum(
    "visit_occasion", "走访事由(六必访)", "visit occasion (six must-visits)",
    ("holiday_birthday", "节日寿辰必访", "holiday or birthday"),
    ("illness", "生病住院必访", "illness or hospitalisation"),
    ("hardship", "遇到困难必访", "hardship"),
    ("bereavement", "丧葬吊唁必访", "bereavement and condolence"),
    ("complaint", "反映问题必访", "problem raised"),
    ("new_leader", "新领导上任必访", "new leader taking office"),
    ("routine", "日常走访", "routine visit"),
)

VISIT_KIND = _enum(
    "visit_kind", "慰问类型", "visit kind",
    ("material", "物质慰问", "material"),
    ("spiritual", "精神慰问", "spiritual"),
    ("both", "物质和精神慰问", "material and spiritual"),
)

VISIT_MODE = _enum(
    "visit_mode", "慰问方式", "how the visit was made",
    ("home", "上门", "at home"),
    ("hospital", "医院探望", "at hospital"),
    ("office_pickup", "通知家属到办公室领取", "family told to collect at the office"),
    ("venue", "活动阵地", "at an activity venue"),
)

EVENT_KIND = _enum(
    "event_kind", "需走访事项", "event needing a visit",
    ("hospitalised", "生病住院", "hospitalised"),
    ("illness", "患病", "fell ill"),
    ("hardship", "遇到困难", "hardship"),
    ("bereavement", "丧葬", "bereavement"),
    ("complaint", "反映问题", "problem raised"),
    ("new_leader", "新领导上任", "new leader took office"),
    ("holiday", "重要节日", "holiday"),
    ("birthday", "寿辰", "birthday"),
)

MUST_KIND = _enum(
    "must_kind", "三必须", "three musts",
    ("document", "文件必须送到", "document delivered"),
    ("meeting", "会议必须邀请", "meeting invitation sent"),
    ("guidance", "上级精神必须传达", "higher-level guidance conveyed"),
)

DELIVERY = _enum(
    "delivery_method", "送达方式", "delivery method",
    ("in_person", "当面送达", "in person"),
    ("mail", "邮寄", "by post"),
    ("phone", "电话传达", "by phone"),
    ("message", "短信/微信", "by message"),
    ("meeting", "会上传达", "at a meeting"),
)

HELP_KIND = _enum(
    "help_kind", "三帮助", "three helps",
    ("interests", "切身利益帮助落实", "interests secured"),
    ("hardship", "生活困难帮助解决", "hardship solved"),
    ("worries", "思想疙瘩帮助解开", "worries eased"),
)

HELP_STATUS = _enum(
    "help_status", "办理状态", "help status",
    ("open", "办理中", "open"),
    ("resolved", "已解决", "resolved"),
    ("referred", "已转办", "referred"),
    ("unresolved", "未能解决", "could not be resolved"),
)

MENU_ITEM = _enum(
    "menu_item", "服务菜单", "service menu item",
    ("group_study", "集中学习", "group study"),
    ("home_study", "送学上门", "study delivered home"),
    ("counselling", "心理疏导", "counselling"),
    ("cultural_sports", "文体活动", "cultural and sports activity"),
    ("emotional_comfort", "精神慰藉", "emotional comfort"),
    ("health_care", "医疗保健", "health care"),
    ("home_care", "上门生活照顾", "care at home"),
)

ORDER_STATUS = _enum(
    "order_status", "订单状态", "order status",
    ("open", "待派单", "open"),
    ("assigned", "已派单", "assigned"),
    ("fulfilled", "已完成", "fulfilled"),
    ("cancelled", "已取消", "cancelled"),
)

RESOURCE_KIND = _enum(
    "resource_kind", "社会服务资源", "community resource",
    ("meal_delivery", "送餐", "meal delivery"),
    ("love_supermarket", "爱心超市", "charity supermarket"),
    ("neighbour_help", "邻里互助", "neighbour help"),
    ("merchant", "社区商家", "local merchant"),
    ("volunteer", "志愿者", "volunteers"),
    ("medical", "医疗机构", "clinic or hospital"),
    ("cultural_group", "文艺团体", "arts group"),
)

BRANCH_KIND = _enum(
    "branch_kind", "党支部类型", "branch kind",
    ("regular", "单独组建", "regular branch"),
    ("joint", "联合组建", "joint branch"),
    ("special", "特设党支部", "special branch"),
)

SPECIAL_BASIS = _enum(
    "special_basis", "特设依据", "basis of a special branch",
    ("residence", "集中居住地(社区、楼宇)", "where members live"),
    ("venue", "学习活动场所", "activity venue"),
    ("interest", "兴趣爱好团体", "interest group"),
    ("association", "社团组织、涉老协会", "association"),
    ("lixiu", "离休干部", "lixiu cadres"),
    ("senior_rank", "处级以上退休干部", "retired at division level or above"),
    ("township_organs", "乡镇机关、站所", "township organs and stations"),
)

MEMBER_ROLE = _enum(
    "member_role", "党内职务", "party role",
    ("member", "党员", "member"),
    ("secretary", "支部书记", "branch secretary"),
    ("committee", "支委委员", "committee member"),
    ("group_leader", "党小组长", "group leader"),
)

MEMBER_RELATION = _enum(
    "member_relation", "组织关系", "membership relation",
    ("formal", "隶属(正式组织关系)", "formal affiliation"),
    ("dual", "双重管理", "dual management"),
)
"""“两不、一方、两双”: a member's formal affiliation (一方隶属) is with one branch; a special branch
(特设党支部) also manages the member (双重管理) and the member takes part in both (双边活动)."""

GROUP_BASIS = _enum(
    "group_basis", "党小组设置依据", "basis of a party group",
    ("residence", "居住地", "place of residence"),
    ("interest", "兴趣爱好", "hobbies and interests"),
    ("other", "其他", "other"),
)

MEETING_KIND = _enum(
    "meeting_kind", "组织生活类型", "meeting kind",
    ("member_assembly", "支部党员大会", "branch members' assembly"),
    ("committee", "支部委员会", "branch committee"),
    ("group", "党小组会", "party group meeting"),
    ("lecture", "党课", "party lecture"),
    ("appraisal", "民主评议党员", "democratic appraisal"),
    ("theme_study", "主题学习", "theme study"),
)

ATTENDANCE = _enum(
    "attendance", "出席情况", "attendance",
    ("present", "出席", "present"),
    ("absent_ill", "因病缺席", "absent: ill"),
    ("absent_away", "外出缺席", "absent: away"),
    ("absent_other", "其他原因缺席", "absent: other"),
)

APPRAISAL = _enum(
    "appraisal", "评议等次", "appraisal rating",
    ("excellent", "优秀", "excellent"),
    ("qualified", "合格", "qualified"),
    ("basic", "基本合格", "basically qualified"),
    ("unqualified", "不合格", "unqualified"),
)

STUDY_FORM = _enum(
    "study_form", "送学形式", "form of home study",
    ("in_person", "上门宣讲", "talk at home"),
    ("materials", "送学习资料", "materials delivered"),
    ("audio_video", "音视频", "audio or video"),
    ("phone", "电话学习", "by phone"),
)

ALL_ENUMS: tuple[Enum, ...] = (
    UNIT_LEVEL, SEX, CATEGORY, RESIDENCE, MARITAL, HEALTH, RELATION, STAFF_ROLE, CONTACT_CHANNEL,
    CONTACT_WITH, VISIT_OCCASION, VISIT_KIND, VISIT_MODE, EVENT_KIND, MUST_KIND, DELIVERY, HELP_KIND,
    HELP_STATUS, MENU_ITEM, ORDER_STATUS, RESOURCE_KIND, BRANCH_KIND, SPECIAL_BASIS, MEMBER_ROLE,
    MEMBER_RELATION, GROUP_BASIS, MEETING_KIND, ATTENDANCE, APPRAISAL, STUDY_FORM,
)
