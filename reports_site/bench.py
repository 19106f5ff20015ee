"""``bench_reports``: build a report site of 2,000+ unit pages and a bare MkDocs baseline, in one run.

The database comes from the realistic generator (``server.seeddata``) with a city-shaped profile of
70 counties/districts, 14 townships and 14 departments each, and 12 city departments (2,043 units,
about 39,000 retirees). The baseline is a bare ``mkdocs build`` (Material theme, default plugins) of as many
trivial pages, in the same process, with only the home page in the navigation like the report site
(left to itself MkDocs puts every page into every page's sidebar, which grows with pages²: 577 KB
pages at 2,000 units). No assertion on time: the caller prints the ratio.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

from reports_site.build import build_site

BENCH_MONTH = "2026-10"


def make_bench_db(path: Path, *, counties: int = 70, per_county: int = 14, seed: int = 7) -> None:
    """A central database with ``counties * 2 * per_county + 12`` serving units (townships and
    departments) and about 20 retirees each, in the seed city's category mix."""
    from server.db import open_central
    from server.seeddata import PROFILES, generate_into

    leaves = counties * 2 * per_county + 12
    total = 20 * leaves
    city = (32, 80, 810, 12000)
    head = [round(total * n / sum(city)) for n in city[:3]]
    mix = (*head, total - sum(head))
    profile = replace(
        PROFILES["city"], name="bench", counties=counties, townships=(per_county, per_county),
        departments=(per_county, per_county), city_departments=12,
        categories=tuple(zip(("lixiu", "county_level", "section_level", "general"), mix, strict=True)),
        branches=max(4, leaves // 5), members=total // 7, venues=max(3, leaves // 4), staff=2 * leaves,
    )
    conn = open_central(path)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        generate_into(conn, profile, random.Random(seed))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def bare_mkdocs(root: Path, pages: int) -> float:
    """Seconds for a bare ``mkdocs build`` (Material, default plugins, home page in the nav) of
    ``pages`` trivial pages."""
    docs = root / "docs"
    (docs / "units").mkdir(parents=True, exist_ok=True)
    (docs / "index.md").write_text("# 首页\n\n基准。\n", encoding="utf-8")
    for i in range(pages - 1):
        (docs / "units" / f"p{i:05d}.md").write_text(f"# 页面 {i}\n\n内容。\n", encoding="utf-8")
    cfg_file = root / "mkdocs.yml"
    cfg_file.write_text("site_name: baseline\nuse_directory_urls: false\ntheme:\n  name: material\n"
                        "nav:\n  - index.md\n", encoding="utf-8")
    t = time.perf_counter()
    mkdocs_build(load_config(config_file=str(cfg_file), site_dir=str(root / "site")))
    return time.perf_counter() - t


def bench_reports(tmp_dir: Path, *, counties: int = 70, clock: Callable[[], float] = time.perf_counter
                  ) -> dict[str, float | int]:
    """Build the synthetic 2,000+-unit site and the bare baseline; return both times and page sizes."""
    tmp_dir = Path(tmp_dir)
    db = tmp_dir / "bench.db"
    t = clock()
    if not db.exists():
        make_bench_db(db, counties=counties)
    generate = clock() - t
    t = clock()
    result = build_site(db, tmp_dir / "site", as_of=BENCH_MONTH, clock=clock)
    report = clock() - t
    baseline_root = tmp_dir / "baseline"
    baseline = bare_mkdocs(baseline_root, result.units)
    base_pages = list((baseline_root / "site").rglob("*.html"))
    out: dict[str, float | int] = {
        "unit_pages": result.units,
        "html_pages": result.pages,
        "report_seconds": round(report, 2),
        "baseline_seconds": round(baseline, 2),
        "ratio": round(report / baseline, 2) if baseline else 0.0,
        "max_page_bytes": result.max_page_bytes,
        "baseline_max_page_bytes": max(p.stat().st_size for p in base_pages),
        "suppressed_small": result.primary,
        "suppressed_complementary": result.secondary,
        "generate_seconds": round(generate, 2),
    }
    out.update({f"seconds_{k}": round(v, 2) for k, v in result.seconds.items()})
    return out


if __name__ == "__main__":  # pragma: no cover - manual run: python -m reports_site.bench DIR
    import json
    import sys

    print(json.dumps(bench_reports(Path(sys.argv[1])), ensure_ascii=False, indent=2))
