"""``bench_reports`` runs end to end on a small city (the full 2,000-unit run is ``make bench``)."""

from __future__ import annotations

from pathlib import Path

from reports_site.bench import bench_reports


def test_bench_reports_smoke(tmp_path: Path) -> None:
    result = bench_reports(tmp_path, counties=1)
    assert result["unit_pages"] == 1 + 1 + 28 + 12  # city, county, its townships and departments, city departments
    assert result["html_pages"] == result["unit_pages"] + 1  # and the methodology page
    assert result["report_seconds"] > 0 and result["baseline_seconds"] > 0
    assert 0 < result["max_page_bytes"] < 50_000
