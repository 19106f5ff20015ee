"""Trend charts: standalone SVG, text as text, deterministic, gaps where a month is not published."""

from __future__ import annotations

import re

from reports_site.charts import TrendCharts
from reports_site.period import Period

SERIES = ["每月联系覆盖率", "精神慰问占比"]


def test_chart_is_deterministic_and_text_stays_text() -> None:
    values = [[0.9, None, 0.8, *([0.85] * 9)], [None] * 11 + [0.4]]
    one = TrendCharts(Period("2026-10"), SERIES).render(values)
    two = TrendCharts(Period("2026-10"), SERIES).render(values)
    assert one == two
    assert "每月联系覆盖率" in one and "2025年11月至2026年10月" in one and "<text" in one
    assert "font-family" in one and "<!DOCTYPE" not in one
    assert set(re.findall(r"https?://[^\"\s]+", one)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert one.count("<svg") == 1 and one.rstrip().endswith("</svg>")
    ids = re.findall(r'id="([^"]+)"', one)
    assert len(ids) == len(set(ids))  # frame and data layer never clash


def test_values_change_only_the_data_layer() -> None:
    charts = TrendCharts(Period("2026-10"), SERIES)
    a = charts.render([[0.5] * 12, [0.2] * 12])
    b = charts.render([[0.6] * 12, [0.2] * 12])
    assert a != b
    cut = a.find('<g id="trend-data"')
    assert cut > 0 and a[:cut] == b[:cut]
