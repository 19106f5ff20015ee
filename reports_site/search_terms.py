"""Words jieba should keep whole when it segments the site for search: unit names and domain terms.

Without them jieba splits 金钟镇 into 金钟 + 镇 and a search for the township's name finds nothing.
The list is written next to the generated Markdown and handed to Material's search plugin.
"""

from __future__ import annotations

import re

from reports_site.definitions import LISTS
from reports_site.units import UnitTree
from schema.enums import CATEGORY, MENU_ITEM, MUST_KIND, UNIT_LEVEL, VISIT_KIND, VISIT_OCCASION

_WORD = re.compile(r"^[\u4e00-\u9fff0-9A-Za-z]{2,40}$")
TERMS = (
    "离退休干部", "精准化服务", "服务数据库", "每月联系", "六必访", "三必须", "三帮助", "订单式服务", "送学上门",
    "活动阵地", "五有", "四就近", "特设党支部", "三会一课", "方法说明", "披露控制", "互补隐藏", "覆盖率", "及时率",
    "完成率", "达标率", "人均服务", "重点人群", "精神慰问", "物质慰问",
)


def user_dictionary(tree: UnitTree) -> str:
    """jieba user-dictionary text (one word per line, sorted, no duplicates)."""
    words = set(TERMS)
    for e in (CATEGORY, MENU_ITEM, MUST_KIND, VISIT_KIND, VISIT_OCCASION, UNIT_LEVEL):
        words.update(v.zh for v in e.values)
    words.update(zh for _, zh, _ in LISTS)
    for key in tree.page_units():
        words.add(tree.units[key].name)
        words.add(tree.short_name(key))
    return "".join(f"{w}\n" for w in sorted(w for w in words if _WORD.match(w)))
