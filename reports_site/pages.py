"""Values → Markdown: the overview, one page per unit, the methodology page.

Only numbers, registry labels and unit names are written; no free-text column is ever read.
Tables are written as HTML inside a marker comment (:mod:`reports_site.htmlblock`), which Markdown passes
through as one token; the build's plugin unwraps it after the Markdown step. Thousands of
pages of small tables would otherwise spend most of the build in Markdown's inline processing and
HTML-block parsing. Everything put into them is escaped here. Only a unit page's header (title, path,
introduction) goes into the search index (see :mod:`reports_site.build`), so a search for a place
finds that place's page.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from reports_site.definitions import (
    AGE_BANDS,
    CASELOAD_STANDARD,
    LISTS,
    MUST_VISITS,
    NEARBY_LISTS,
    NEARBY_WHO,
    TARGETS,
    TRENDS,
)
from reports_site.disclosure import Disclosure
from reports_site.format import LEGEND, NONE, SMALL, UnitNumbers, pct
from reports_site.htmlblock import wrap_html
from reports_site.indicators import Values
from reports_site.methodology import LedgerHead, methodology_page
from reports_site.period import Period, month_zh
from reports_site.units import UnitTree
from schema.enums import CATEGORY, HELP_KIND, MEETING_KIND, MENU_ITEM, MUST_KIND, VISIT_OCCASION

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "&#42;", "_": "&#95;", "[": "&#91;",
                          "]": "&#93;", "`": "&#96;", "|": "&#124;", "\\": "&#92;", "{": "&#123;",
                          "}": "&#125;", "#": "&#35;", "\n": " ", "\r": " "})
METHODOLOGY = "methodology.md"


def text(s: str) -> str:
    """A name as inert Markdown text: no HTML, no emphasis, no table or attribute syntax."""
    return s.translate(_ESCAPES)


def esc(s: str) -> str:
    return html.escape(s, quote=True)


def _td(c: str) -> str:
    return "<td>&lt;10</td>" if c == SMALL else f"<td>{c}</td>"


def table(header: list[str], rows: list[list[str]], *, html_first: bool = False) -> list[str]:
    """An HTML table. ``header`` and each row's first cell (a label) are text and escaped here, unless
    ``html_first``; the other cells are numbers or markers from :mod:`reports_site.format`."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + _td(r[0] if html_first else esc(r[0])) + "".join(_td(c) for c in r[1:]) + "</tr>"
                   for r in rows)
    return [wrap_html(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"), ""]


@dataclass(frozen=True)
class SiteData:
    tree: UnitTree
    values: dict[str, Values]
    disclosure: Disclosure
    period: Period
    ledger: LedgerHead
    site_name: str

    def numbers(self, unit: str) -> UnitNumbers:
        return UnitNumbers(unit, self.values[unit], self.disclosure)


def _rel(src: str, dst: str) -> str:
    return posixpath.relpath(dst, posixpath.dirname(src) or ".")


class _Page:
    def __init__(self, data: SiteData, unit: str) -> None:
        self.d = data
        self.unit = unit
        self.path = data.tree.page(unit)
        self.n = data.numbers(unit)
        self.root = unit == data.tree.root
        self.lines: list[str] = []

    def h2(self, title: str) -> None:
        self.lines += [f"## {title}", ""]

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def link(self, unit: str) -> str:
        """A Markdown link to ``unit``'s page (checked by MkDocs)."""
        u = self.d.tree.units[unit]
        if u.is_self:
            return text(u.name)
        return f"[{text(u.name)}]({_rel(self.path, self.d.tree.page(unit))})"

    def html_link(self, unit: str) -> str:
        """An HTML link to ``unit``'s page, for tables (``.md`` → ``.html``, as MkDocs would write it)."""
        u = self.d.tree.units[unit]
        if u.is_self:
            return esc(u.name)
        href = _rel(self.path, self.d.tree.page(unit))[: -len(".md")] + ".html"
        return f'<a href="{esc(href)}">{esc(u.name)}</a>'


def _header(p: _Page) -> None:
    tree, period = p.d.tree, p.d.period
    u = tree.units[p.unit]
    p.add(f"# {text(u.name)}", "")
    if p.root:
        p.add(f"{text(p.d.site_name)}:{text(u.name)}离退休干部精准化服务情况(全部下级单位合计),"
              f"数据截至{period.zh}末。各项指标的定义见[方法说明]({_rel(p.path, METHODOLOGY)})。", "")
    else:
        crumbs = " › ".join(p.link(a) for a in tree.ancestors(p.unit))
        parent = tree.units[u.parent].name if u.parent else ""
        p.add(f"{crumbs} › {text(tree.short_name(p.unit))}", "",
              f"{text(u.name)}(简称{text(tree.short_name(p.unit))})是{text(parent)}下属的{u.level_zh}。"
              f"本页为该单位离退休干部精准化服务情况,数据截至{period.zh}末。"
              f"指标定义见[方法说明]({_rel(p.path, METHODOLOGY)})。", "")


def _overview(p: _Page) -> None:
    n = p.n
    p.h2("概况")
    p.add(f"*{text(LEGEND)}*", "")
    rows = [["离退休干部人数", n.count("retirees")], ["党员人数", n.count("members")],
            ["党员占比", n.rate("member_share")], [f"每月联系覆盖率({p.d.period.zh})", n.rate("contact")],
            ["六必访及时率(合计)", n.rate("timely")], ["精神慰问占比", n.rate("spiritual_share")],
            ["“三帮助”解决率", n.rate("helps_resolved_share")], ["组织生活出席率", n.rate("attendance")],
            *([["“四就近”纳入率", n.rate("nearby_share")]] if _nearby_published(p) else []),
            ["订单完成率(合计)", n.rate("fulfil")],
            [f"人均服务离退休干部数(参考标准{CASELOAD_STANDARD})", n.rate("caseload")],
            ["“五有”达标率", n.rate("five_haves")]]
    p.add(*table(["指标", "数值"], rows))


def _people(p: _Page) -> None:
    n = p.n
    p.h2("人员类别")
    rows = [[v.zh, n.count(f"cat:{v.code}")] for v in CATEGORY.values]
    p.add(*table(["人员类别", "人数"], [*rows, ["合计", n.count("retirees")]]))
    if p.root:  # ages are published for the whole site only (see definitions.TOP_ONLY)
        p.h2("年龄结构")
        rows = [[zh, n.count(f"age:{k}")] for k, zh in AGE_BANDS]
        p.add(*table(["年龄组", "人数"], [*rows, ["合计", n.count("retirees")]]))
    p.h2("重点人群名单")
    p.add("各名单可以重叠(一人可同时在多个名单中),不相加。", "")
    p.add(*table(["名单", "人数"], [[zh, n.count(f"list:{k}")] for k, zh, _ in LISTS]))
    if _nearby_published(p):
        p.h2("四就近服务")
        p.add(f"服务对象为{NEARBY_WHO}的离退休干部(一人只计一次)。", "")
        p.add(*table(["服务对象人数", "已纳入人数", "纳入率"],
                     [[n.count("nearby_target"), n.count("nearby_enrolled"), n.rate("nearby_share")]]))


def _nearby_published(p: _Page) -> bool:
    """The four-nearby figures appear for the whole site only, and only when none of its five lists is
    hidden there: the group is at most the sum of the lists, so a shown group (or enrolled count, or a
    share, whose denominator is at least MIN_COUNT) with four lists shown bounds a hidden fifth from
    below — which the suppression model, knowing only list ≤ group, cannot see."""
    n = p.n
    return p.root and all(n.disclosure.of(f"list:{k}", n.unit) is None for k in NEARBY_LISTS)


def _trends(p: _Page) -> None:
    period = p.d.period
    p.h2("月度趋势")
    names = "、".join(t.zh for t in TRENDS)
    chart = _rel(p.path, p.d.tree.chart(p.unit))
    p.add(f"![{text(p.d.tree.units[p.unit].name)}{names}的月度趋势图,数据见下表]({chart})", "")
    series = [p.n.trend(t.key, len(period.months)) for t in TRENDS]
    rows = [[month_zh(m), *(pct(s[i]) for s in series)] for i, m in enumerate(period.months)]
    p.add(*table(["月份", *(t.zh for t in TRENDS)], rows))


def _visits(p: _Page) -> None:
    n = p.n
    p.h2("六必访及时率")
    rows = [[VISIT_OCCASION.label(o), n.rate(f"timely:{o}")] for o in MUST_VISITS]
    p.add(*table(["走访事由", "7天内走访的比例"], [*rows, ["合计", n.rate("timely")]]))
    p.h2("走访慰问")
    p.add(*table(["指标", "数值"], [["走访慰问次数", n.count("visits")],
                                   ["精神慰问占比(含物质和精神慰问)", n.rate("spiritual_share")],
                                   ["物质慰问占比(含物质和精神慰问)", n.rate("material_share")],
                                   ["传达政策占比", n.rate("policy_share")],
                                   ["通知家属到办公室领取占比", n.rate("pickup_share")]]))


def _party(p: _Page) -> None:
    n = p.n
    p.h2("三必须")
    rows = [[v.zh, n.count(f"musts:{v.code}"), n.rate(f"musts_cov:{v.code}")] for v in MUST_KIND.values]
    p.add(*table(["事项", "送达人次", "覆盖率"], [*rows, ["合计", n.count("musts"), NONE]]))
    p.add(*table(["指标", "数值"], [["到期的三必须事项数(下发)", n.count("notices")],
                                   ["三必须事项按期送达率", n.rate("notice_reach")]]))
    p.h2("三帮助")
    # by kind for the whole site only (see definitions.TOP_ONLY)
    rows = [[f"{v.zh}(提出)", n.count(f"helps:{v.code}")] for v in HELP_KIND.values] if p.root else []
    p.add(*table(["指标", "数值"], [*rows, ["提出合计", n.count("helps")], ["已解决", n.count("helps_resolved")],
                                   ["解决率", n.rate("helps_resolved_share")]]))
    p.h2("党组织生活")
    p.add(*table(["指标", "数值"], [["党支部数", n.count("branches")], ["其中特设党支部数", n.count("branches_special")],
                                   ["党小组数", n.count("groups")], ["党员人数", n.count("members")],
                                   ["其中双重管理党员人数", n.count("members_dual")],
                                   ["组织生活出席率", n.rate("attendance")]]))
    rows = [[v.zh, n.count(f"meetings:{v.code}")] for v in MEETING_KIND.values]
    p.add(*table(["组织生活类型", "次数"], [*rows, ["合计", n.count("meetings")]]))
    p.h2("送学上门")
    p.add(*table(["指标", "数值"], [["需送学上门党员数", n.count("home_need")],
                                   ["送学上门覆盖率(近90天)", n.rate("home_study")]]))


def _services(p: _Page) -> None:
    n = p.n
    p.h2("订单式服务")
    rows = [[v.zh, n.count(f"orders:{v.code}"), n.rate(f"fulfil:{v.code}"), n.rate(f"days:{v.code}")]
            for v in MENU_ITEM.values]
    p.add(*table(["服务项目", "订单数", "完成率", "完成天数中位数"],
                 [*rows, ["合计", n.count("orders"), n.rate("fulfil"), n.rate("days")]]))
    p.h2("社会服务资源")
    rows = [["社会服务资源数", n.count("resources")]] if p.root else []  # whole site only (definitions.TOP_ONLY)
    p.add(*table(["指标", "数值"], [*rows, ["社会资源承接订单占比", n.rate("provider_share")]]))
    p.h2("精准服务对象")
    rows = [[f"{who}:{MENU_ITEM.label(item)}", n.rate(f"target:{k}")] for k, who, item, _ in TARGETS]
    p.add(*table(["服务对象与项目", "近90天获得服务的比例"], rows))


def _capacity(p: _Page) -> None:
    n = p.n
    p.h2("工作力量")
    month = p.d.period.zh
    p.add(*table(["指标", "数值"], [["工作人员数", n.count("staff")], ["人均服务离退休干部数", n.rate("caseload")],
                                   ["参考标准(人均服务)", str(CASELOAD_STANDARD)],
                                   [f"人均联系次数({month})", n.rate("contacts_per_staff")],
                                   [f"人均走访次数({month})", n.rate("visits_per_staff")]]))
    p.h2("活动阵地")
    p.add(*table(["活动阵地数", "达到“五有”的阵地数", "“五有”达标率"],
                 [[n.count("venues"), n.count("venues_five"), n.rate("five_haves")]]))


def _children(p: _Page) -> None:
    kids = p.d.tree.children.get(p.unit, ())
    if not kids:
        return
    p.h2("下级单位")
    rows = []
    for k in kids:
        c = p.d.numbers(k)
        rows.append([p.html_link(k), c.count("retirees"), c.rate("contact"), c.rate("timely"), c.rate("spiritual_share"),
                     c.rate("caseload")])
    p.add(*table(["单位", "离退休干部", "每月联系覆盖率", "六必访及时率", "精神慰问占比", "人均服务"], rows,
                 html_first=True))


SECTIONS: tuple[Callable[[_Page], None], ...] = (
    _header, _overview, _people, _trends, _visits, _party, _services, _capacity, _children,
)


def unit_page(data: SiteData, unit: str) -> str:
    p = _Page(data, unit)
    for section in SECTIONS:
        section(p)
    return "\n".join(p.lines).rstrip() + "\n"


def render_pages(data: SiteData) -> dict[str, str]:
    """Docs-relative path → Markdown, for every page of the site."""
    pages = {data.tree.page(u): unit_page(data, u) for u in data.tree.page_units()}
    pages[METHODOLOGY] = methodology_page(data.period, data.ledger, data.site_name)
    return pages
