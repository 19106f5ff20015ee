"""The public report site with ≥ 2,000 unit pages, against a bare ``mkdocs build`` of as many pages.

Calls ``reports_site.bench.bench_reports`` (written with the report site), which builds both in one
process and returns times and page sizes. Its synthetic database is cached in
``var/bench/reports-{counties}/``. ``--quick`` builds a tenth of the units (no verdict then).
"""

from __future__ import annotations

import shutil
from typing import Any

from tests.bench.common import CACHE, Ctx, Result, schema_matches

PAGE_LIMIT = 50 * 1000
SECONDS_LIMIT = 60.0
MIN_PAGES = 2000


def run(ctx: Ctx) -> list[Result]:
    try:
        from reports_site.bench import bench_reports
    except ImportError:
        return [Result("report_site", None, "", note="not available yet (reports_site.bench)")]
    counties = 7 if ctx.quick else 70
    work = CACHE / f"reports-{counties}"
    db = work / "bench.db"
    if db.exists() and not schema_matches(db):
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for sub in ("site", "baseline"):
        shutil.rmtree(work / sub, ignore_errors=True)
    got: dict[str, Any] = bench_reports(work, counties=counties)
    ctx.extra["reports"] = got
    pages = int(got["unit_pages"])
    full = pages >= MIN_PAGES
    secs, base = float(got["report_seconds"]), float(got["baseline_seconds"])
    size, base_size = int(got["max_page_bytes"]), int(got["baseline_max_page_bytes"])
    return [
        Result("report_site_build", secs, "s", base, "s bare mkdocs", secs / base if base else None,
               f"< {SECONDS_LIMIT:.0f} s, ≥ {MIN_PAGES:,} pages", (secs < SECONDS_LIMIT) if full else None,
               f"{pages:,} unit pages, {int(got['html_pages']):,} HTML pages"
               + ("" if full else " (quick: fewer pages than the target)")),
        Result("report_site_largest_page", size / 1000, "KB", base_size / 1000, "KB bare", size / base_size
               if base_size else None, "< 50 KB", (size < PAGE_LIMIT) if full else None, "largest HTML page"),
    ]
