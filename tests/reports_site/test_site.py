"""The built site from the known database: pages, navigation, sizes, links, values, methodology."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reports_site.format import HIDDEN, SMALL
from server.db import open_sqlite3_readonly
from tests.reports_site.conftest import Built
from tests.reports_site.known import ORG
from tests.reports_site.sitefiles import article_text, html_pages

PAGE_LIMIT = 50_000


def test_one_page_per_unit_plus_overview_and_methodology(known_site: Built) -> None:
    site = known_site.site
    assert (site / "index.html").is_file() and (site / "methodology.html").is_file()
    for code in (ORG.town_a_code, ORG.town_b_code, ORG.dept_code):
        assert (site / "units" / f"{code}.html").is_file()
        assert (site / "charts" / f"{code}.svg").is_file()
    assert known_site.result.units == 4


def test_unit_pages_stay_out_of_the_navigation(known_site: Built) -> None:
    for page in html_pages(known_site.site):
        s = page.read_text(encoding="utf-8")
        start = s.find("md-nav--primary")
        nav = s[start: s.find("</nav>", start)]
        links = {Path(h).name for h in re.findall(r'href="([^"#][^"]*)"', nav)}
        assert links <= {"index.html", "methodology.html"}, page


def test_pages_are_small(known_site: Built) -> None:
    assert max(p.stat().st_size for p in html_pages(known_site.site)) < PAGE_LIMIT
    assert known_site.result.max_page_bytes < PAGE_LIMIT


def test_every_local_link_resolves(known_site: Built) -> None:
    site = known_site.site
    for page in html_pages(site):
        for ref in re.findall(r'(?:href|src)="([^"]*)"', page.read_text(encoding="utf-8")):
            parts = urlsplit(ref)
            if parts.scheme or not parts.path:
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.exists(), (page.relative_to(site), ref)


def test_overview_numbers(known_site: Built) -> None:
    text = article_text(known_site.site / "index.html")
    assert "离退休干部人数 38" in text
    assert "每月联系覆盖率(2026年10月) 73.7%" in text  # 28 of 38
    assert "离休干部 <10" in text  # 2 lixiu
    assert "娜姑镇 12 100.0%" in text  # children table: 12 retirees, all contacted
    assert "县财政局 <10 —" in text  # 5 retirees: count hidden, rate withheld (denominator under 10)
    assert "会泽县(本级) <10" in text  # the county's own retiree, derivable as a remainder


def test_unit_page_numbers(known_site: Built) -> None:
    text = article_text(known_site.site / "units" / f"{ORG.town_a_code}.html")
    assert "离退休干部人数 20" in text
    assert "每月联系覆盖率(2026年10月) 80.0%" in text  # 16 of 20
    assert "党员占比 50.0%" in text  # 10 of 20
    assert "精神慰问占比(含物质和精神慰问) 65.0%" in text  # 13 of 20 visits
    assert "通知家属到办公室领取占比 10.0%" in text
    # 12 orders, hidden so the single comfort order (13 - 12) cannot be recovered; the rate and median
    # do not give the count back: 10 of 11 (one cancelled), median of 1..10 days
    assert "医疗保健 × 90.9% 5.5 天" in text
    assert "精神慰藉 <10 — —" in text
    assert "2026年9月 100.0%" in text  # the September trend point
    assert f"{SMALL}" in text and "会泽县 › 金钟镇" in text
    assert "<script" not in text


def test_suppressed_cells_are_marked_not_shown(known_site: Built) -> None:
    text = article_text(known_site.site / "units" / f"{ORG.dept_code}.html")
    assert "离退休干部人数 <10" in text  # 5
    assert "县级退休干部 <10" in text
    for page in html_pages(known_site.site):
        cells = re.findall(r"<td>([^<]*)</td>", page.read_text(encoding="utf-8"))
        assert cells and not [c for c in cells if re.fullmatch(r"[1-9]", c)], page  # no count of 1-9 shown


def test_age_bands_only_on_the_overview(known_site: Built) -> None:
    assert "90岁及以上" in article_text(known_site.site / "index.html")
    assert "年龄结构" not in article_text(known_site.site / "units" / f"{ORG.town_a_code}.html")


def test_methodology_has_definitions_rules_and_ledger_head(known_site: Built) -> None:
    text = article_text(known_site.site / "methodology.html")
    conn = open_sqlite3_readonly(known_site.db)
    try:
        entry, head = conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert head in text and f"第 {entry} 条" in text
    assert "laogan ledger verify" in text
    for term in ("每月联系覆盖率", "六必访及时率(合计)", "“五有”达标率", "送学上门覆盖率", "完成天数中位数",
                 "分子", "分母", "统计期", SMALL, HIDDEN, "90岁及以上", "2026年10月"):
        assert term in text, term


def test_no_day_precision_dates_in_pages(known_site: Built) -> None:
    for page in [*html_pages(known_site.site), *known_site.site.rglob("*.svg"),
                 known_site.site / "search" / "search_index.json"]:
        assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", page.read_text(encoding="utf-8")), page


def test_charts_keep_text_as_text(known_site: Built) -> None:
    svg = (known_site.site / "charts" / f"{ORG.town_a_code}.svg").read_text(encoding="utf-8")
    assert svg.count("<text") >= 12
    assert "每月联系覆盖率" in svg and "精神慰问占比" in svg and "10月" in svg
    assert "<!DOCTYPE" not in svg and "<metadata" not in svg
    page = (known_site.site / "units" / f"{ORG.town_a_code}.html").read_text(encoding="utf-8")
    assert f'src="../charts/{ORG.town_a_code}.svg"' in page
    assert "月度趋势图,数据见下表" in page  # alt text pointing at the table beside the chart
