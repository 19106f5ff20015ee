"""The party organisation (党建“全覆盖”): branches, party groups, members, meetings, attendance, home study.

The seed's principle for special branches (特设党支部) is “两不、一方、两双”: no transfer of formal
membership and no recruitment; a member's formal affiliation stays with one branch (一方隶属), while a
special branch — where they live, study or pursue a hobby — also manages them (双重管理) and they take part
in both branches' activities (双边活动). ``party_members`` therefore holds one row per (retiree, branch):
at most one ``formal`` row per retiree, and ``dual`` rows for the special branches that also manage them.
A membership row lives in the retiree's own unit (``unit_id`` = the retiree's), whichever unit the branch
belongs to, so every tablet that holds a membership also holds its person (see docs/architecture.md).
Party groups (党小组) are set up within a branch “根据居住地和兴趣爱好”.
"""

from __future__ import annotations

from dataclasses import replace

from schema import enums as E
from schema.columns import choice, day, pk, ref, text, unit
from schema.model import Index, Table

V_DUAL = 4
"""Schema version that brought party groups and dual membership."""

FORMAL = "relation = 'formal'"
"""A formal membership (一方隶属): at most one per retiree."""

BRANCHES = Table(
    "party_branches", "离退休干部党支部", "party branches",
    "单独组建、联合组建或特设的离退休干部党支部。",
    (
        pk(), unit("所属单位", "unit"),
        text("name", "支部名称", "branch name", required=True),
        choice("kind", E.BRANCH_KIND),
        choice("special_basis", E.SPECIAL_BASIS, required=False),
        day("founded_on", "成立日期", "founded on"),
    ),
    sync="both", scope="unit_id", shared_below=True,
    indexes=(Index(("unit_id",)),),
)

GROUPS = Table(
    "party_groups", "党小组", "party groups",
    "支部内根据居住地和兴趣爱好设置的党小组;与所属支部同属一个单位。",
    (
        pk(), unit("所属单位", "unit"),
        ref("branch_id", "party_branches", "所属支部", "branch", required=True),
        text("name", "小组名称", "group name", required=True),
        choice("basis", E.GROUP_BASIS),
    ),
    sync="both", scope="unit_id", shared_below=True, added_in=V_DUAL,
    indexes=(Index(("branch_id",), added_in=V_DUAL), Index(("unit_id",), added_in=V_DUAL)),
)

MEMBERS = Table(
    "party_members", "党员", "party members",
    "离退休干部党员在各支部的组织关系:正式组织关系只在一个支部(一方隶属),特设党支部另行管理的为双重管理"
    "(双边活动);记录在党员本人的责任单位。不能参加组织生活的党员需送学上门。",
    (
        pk(), unit(),
        ref("retiree_id", "retirees", "离退休干部", "retiree", required=True),
        ref("branch_id", "party_branches", "所在支部", "branch", required=True),
        choice("role", E.MEMBER_ROLE, default="member"),
        day("joined_on", "入党日期", "joined the party on"),
        replace(choice("relation", E.MEMBER_RELATION, default="formal"), added_in=V_DUAL),
        replace(ref("group_id", "party_groups", "所在党小组", "party group"), added_in=V_DUAL),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("retiree_id",), unique=True, dropped_in=V_DUAL), Index(("branch_id",)), Index(("unit_id",)),
             # 一方隶属: one formal membership per retiree; and one row per (retiree, branch)
             Index(("retiree_id", "relation"), unique=True, where=FORMAL, added_in=V_DUAL),
             Index(("retiree_id", "branch_id"), unique=True, added_in=V_DUAL),
             Index(("group_id",), added_in=V_DUAL),
             # the auditors' branch_membership: every branch's memberships by relation and group, from the
             # index alone; and the (few) dual memberships, one range
             Index(("branch_id", "relation", "group_id"), added_in=V_DUAL, central_only=True),
             Index(("relation", "retiree_id", "branch_id"), added_in=V_DUAL, central_only=True)),
    rows_since=((V_DUAL, "relation <> 'formal'"),),
)
MEETINGS = Table(
    "party_meetings", "组织生活", "party meetings",
    "“三会一课”、民主评议党员、主题学习。",
    (
        pk(), unit(),
        ref("branch_id", "party_branches", "支部", "branch", required=True),
        choice("kind", E.MEETING_KIND),
        day("held_on", "日期", "held on", required=True),
        text("topic", "主题", "topic"),
        ref("venue_id", "venues", "地点", "venue"),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("branch_id", "held_on")), Index(("unit_id", "held_on"))),
)

ATTENDANCE = Table(
    "meeting_attendance", "出席情况", "meeting attendance",
    "每次组织生活每名党员的出席情况;民主评议时记录评议等次。",
    (
        pk(), unit(),
        ref("meeting_id", "party_meetings", "组织生活", "meeting", required=True),
        ref("member_id", "party_members", "党员", "member", required=True),
        choice("status", E.ATTENDANCE),
        choice("appraisal", E.APPRAISAL, required=False),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("meeting_id", "member_id"), unique=True), Index(("member_id", "status", "meeting_id"))),
)

HOME_STUDY = Table(
    "home_study", "送学上门", "study delivered home",
    "为不能参加集中学习的党员送学上门。",
    (
        pk(), unit(),
        ref("member_id", "party_members", "党员", "member", required=True),
        ref("staff_id", "staff", "送学人", "staff member"),
        ref("meeting_id", "party_meetings", "补学的组织生活", "meeting made up for"),
        day("delivered_on", "送学日期", "delivered on", required=True),
        choice("form", E.STUDY_FORM),
        text("topic", "学习内容", "topic"),
    ),
    sync="both", scope="unit_id",
    indexes=(Index(("member_id", "delivered_on")), Index(("unit_id", "delivered_on"))),
)

