"""The methodology page (方法说明): every indicator's definition, the suppression rules, the data's
as-of time and the ledger head the site was built from, with the command that verifies it."""

from __future__ import annotations

import html
import sqlite3
from dataclasses import dataclass

from reports_site.definitions import (
    AGE_BANDS,
    CASELOAD_STANDARD,
    COUNTS,
    MIN_COUNT,
    P_EVENTS,
    P_MONTH,
    P_RECENT,
    P_YEAR,
    RATES,
    TRENDS,
)
from reports_site.format import HIDDEN, NONE, SMALL
from reports_site.htmlblock import wrap_html
from reports_site.period import Period, month_zh
from server.ledger import GENESIS_HASH


@dataclass(frozen=True)
class LedgerHead:
    entry: int
    hash: str
    month: str | None
    """Month (YYYY-MM) of the head entry; None for an empty ledger."""


def ledger_head(conn: sqlite3.Connection) -> LedgerHead:
    row = conn.execute("SELECT id, hash, at FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return LedgerHead(0, GENESIS_HASH, None)
    return LedgerHead(int(row[0]), str(row[1]), str(row[2])[:7])


def _cell(s: str) -> str:
    return s.replace("|", "&#124;").replace("<", "&lt;")


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    """A table of text (left-aligned, unlike the number tables), as a wrapped HTML block."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return wrap_html(f'<div class="lg-text"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def methodology_page(period: Period, ledger: LedgerHead, site_name: str) -> str:
    lines = [
        "# 方法说明", "",
        f"本站({_cell(site_name)})只发布汇总数,不含任何个人信息。所有数字均由中心数据库只读计算生成,"
        "同一数据库、同一报告月份生成的网站逐字节相同。", "",
        "## 数据时点", "",
        f"- 报告月份:{period.zh}。存量指标(人数、名单、“四就近”、党员、党支部、党小组、工作人员、阵地、社会服务资源)"
        f"按{period.zh}末计算。",
        f"- {P_YEAR}:{period.year_zh}。",
        f"- {P_RECENT}:{period.recent_start.year}年{period.recent_start.month}月至{period.zh}末。",
        f"- 六必访及时率统计{P_EVENTS}。",
        "- 人员属性(类别、婚姻、身体状况、独居等)取数据库中的当前登记值。", "",
        "## 数据来源与核验", "",
        f"本站生成时,中心数据库账本(哈希链)的最新条目为第 {ledger.entry} 条"
        + (f"(记录于{month_zh(ledger.month)})" if ledger.month else "") + ",其哈希为:", "",
        f"`{ledger.hash}`", "",
        "任何人可用下面的命令离线重算整条哈希链;命令成功时打印的最新哈希应与上面一致:", "",
        "```", "laogan ledger verify --db central.db", "```", "",
        "## 披露控制", "",
        f"- 人数、次数等计数在1至{MIN_COUNT - 1}之间的,显示为“{SMALL}”;0和不小于{MIN_COUNT}的数照常显示。",
        f"- 互补隐藏:为防止由行合计、下级单位合计(含“本级”余数)或“部分不超过整体”推算出被隐藏的数,"
        f"另有一些数显示为“{HIDDEN}”。“{HIDDEN}”可以是任何数(包括0,也包括1至{MIN_COUNT - 1})。"
        "每次生成网站都会用线性代数和上下界两种方法检查,任何被隐藏的数可被推算出时,生成即失败。",
        f"- 比率、人均数和中位数只在分母不小于{MIN_COUNT}时计算;分母(或分子)本身是本站公布的计数而该计数被"
        "隐藏时也不计算(如党员占比、每月联系覆盖率、人均服务人数、人均联系和走访次数、“五有”达标率、"
        f"“三帮助”解决率、“四就近”纳入率),显示“{NONE}”。",
        f"- 年龄只在全站概览按5岁分组发布({AGE_BANDS[0][1]}、…、{AGE_BANDS[-1][1]});“三帮助”分类事项数和"
        "社会服务资源数也只在全站概览发布;日期只精确到月;"
        "不发布姓名、身份证号、电话、住址和任何自由文本。", "",
        "## 单位归属", "",
        "- 以人为对象的指标(人数、名单、联系覆盖、三必须覆盖、“四就近”、送学上门、精准服务对象)按离退休干部的"
        "责任单位统计;以记录为对象的计数(走访、送达、“三帮助”、订单、组织生活及其出席记录)按记录的责任单位统计;"
        "工作人员、党支部、党小组、阵地和社会服务资源按其所属单位统计;人均联系次数和人均走访次数按工作人员所在单位统计。",
        "- 上级单位的数为全部下级单位之和;上级单位本身登记的人员和记录作为“本级”计入。",
        "- 党员按“两不、一方、两双”原则登记:正式组织关系只在一个支部(一方隶属);特设党支部另行管理的"
        "(双重管理)在两个支部都参加组织生活(双边活动),其出席记录计入召开组织生活的支部,而党员人数、"
        "双重管理党员人数和需送学上门党员数按人计算,每人只计一次。",
        f"- 人均服务离退休干部数与参考标准{CASELOAD_STANDARD}人比较(会泽县离退休干部4000余人,"
        "专(兼)职工作人员120余人,平均每人服务33人)。", "",
        "## 计数", "",
        _text_table(["计数", "定义"], [[c.zh, c.definition] for c in COUNTS]), "",
        "## 比率、人均数与中位数", "",
        _text_table(["指标", "分子", "分母", "统计期"], [[r.zh, r.numerator, r.denominator, r.period] for r in RATES]),
        "",
        "## 月度趋势", "",
        *(f"- {t.zh}:按月计算的“{t.zh}”,分母不足{MIN_COUNT}的月份不计算。" for t in TRENDS),
        f"- 每月联系覆盖率的统计期为{P_MONTH},分母为当月末在世的离退休干部人数。", "",
    ]
    return "\n".join(lines).rstrip() + "\n"
