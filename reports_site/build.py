"""Run the whole pipeline: read the central DB, compute, suppress, write Markdown and SVG, build with MkDocs.

The Markdown goes to a temporary directory, never into the repository. MkDocs (Material) runs in
process with ``mkdocs.yml`` from the repository root, in strict mode, into a staging directory that
replaces ``out`` only when everything passed: the disclosure check, the strict build and the offline
scan. Nothing reads a clock or the environment to decide content: the report month is the only date,
so the same database and month give a byte-identical site.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.pages import Page

from reports_site.charts import TrendCharts
from reports_site.definitions import TRENDS
from reports_site.disclosure import PRIMARY, Model
from reports_site.errors import OfflineError, ReportError, SiteBuildError
from reports_site.htmlblock import unwrap_html
from reports_site.indicators import direct_values, rollup
from reports_site.methodology import ledger_head
from reports_site.offline import outside_urls, prune
from reports_site.pages import SiteData, render_pages
from reports_site.period import Period, default_period
from reports_site.search_terms import user_dictionary
from reports_site.units import load_units
from server.db import open_sqlite3_readonly

MKDOCS_YML = Path(__file__).resolve().parent.parent / "mkdocs.yml"
ASSETS = Path(__file__).resolve().parent / "assets" / "laogan"
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class BuildResult:
    site: Path
    period: Period
    units: int
    """Unit pages (the overview included)."""
    pages: int
    """HTML files in the site."""
    max_page_bytes: int
    primary: int
    secondary: int
    seconds: dict[str, float]


class _NoOptions(Config):  # type: ignore[no-untyped-call]
    """The plugin takes no options."""


class _SitePlugin(BasePlugin[_NoOptions]):  # type: ignore[no-untyped-call]
    """Pins every page's date to the report month (sitemap and its gzip header), lets search index only
    a unit page's header (title, path, introduction), and reports progress."""

    def __init__(self, period: Period, total: int, progress: Progress) -> None:
        super().__init__()
        self.date = period.start.isoformat()
        self.total = total
        self.progress = progress
        self.read = 0
        self.written = 0
        self.stash: dict[str, str] = {}

    def _tick(self, what: str, n: int) -> None:
        step = max(1, self.total // 10)
        if n % step == 0 or n == self.total:
            self.progress(f"MkDocs {what} {n}/{self.total}")

    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Any) -> str:
        page.update_date = self.date
        self.read += 1
        self._tick("读取页面 read", self.read)
        return markdown

    @event_priority(100)
    def _index_header_only(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        if page.file.src_uri.startswith("units/") and page.content is not None:
            self.stash[page.file.src_uri] = page.content
            page.content = page.content.split("<h2", 1)[0]
        return context

    @event_priority(-100)
    def _restore_content(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        full = self.stash.pop(page.file.src_uri, None)
        if full is not None:
            page.content = full
        return context

    on_page_context = CombinedEvent(_index_header_only, _restore_content)

    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Any) -> str:
        return unwrap_html(html)

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        self.written += 1
        self._tick("写出页面 write", self.written)
        return output


def load_site_config(config_file: Path, docs: Path, site: Path) -> MkDocsConfig:
    """``mkdocs.yml`` with the generated docs directory and the staging site directory."""
    try:
        return load_config(config_file=str(config_file), docs_dir=str(docs), site_dir=str(site), strict=True)
    except MkDocsException as exc:
        raise SiteBuildError(f"cannot load {config_file}: {exc}") from None


def run_mkdocs(cfg: MkDocsConfig, user_dict: Path, period: Period, pages: int, progress: Progress = _quiet) -> None:
    """``mkdocs build --strict`` with ``cfg``; any MkDocs warning raises :class:`SiteBuildError`."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    warnings: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    handler = _Collect(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    if "material/search" not in cfg.plugins:
        raise SiteBuildError("mkdocs.yml must enable Material's search plugin (Chinese search)")
    try:
        search = cfg.plugins["material/search"].config
        search.jieba_dict = str(Path(jieba.__file__).parent / "dict.txt")
        search.jieba_dict_user = str(user_dict)
        cfg.plugins["laogan/site"] = _SitePlugin(period, pages, progress)
        mkdocs_build(cfg)
    except MkDocsException as exc:
        detail = "; ".join(warnings[:5]) or str(exc)
        raise SiteBuildError(f"mkdocs build failed: {detail}") from None
    finally:
        logger.removeHandler(handler)
    if warnings:
        raise SiteBuildError("mkdocs build warned: " + "; ".join(warnings[:5]))


def _replaceable(out: Path) -> bool:
    if not out.exists():
        return True
    if not out.is_dir():
        return False
    return not any(out.iterdir()) or ((out / "methodology.html").is_file() and (out / "search").is_dir())


def _swap(staging: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _compute(db: Path, as_of: str | None, site_name: str, progress: Progress) -> SiteData:
    conn = open_sqlite3_readonly(db)
    try:
        conn.execute("BEGIN")  # one snapshot for every query, the ledger head included
        period = Period.parse(as_of) if as_of else default_period(conn)
        progress(f"报告月份 report month: {period.month}")
        tree = load_units(conn, site_name)
        direct = direct_values(conn, period)
        ledger = ledger_head(conn)
    finally:
        conn.close()
    tree, values = rollup(tree, direct)
    progress(f"指标 indicators: {len(tree.page_units())} 个单位 units")
    model = Model(tree, values)
    disclosure = model.protect()
    model.check(disclosure)  # both attacks again, with a fresh random draw
    primary = sum(1 for s in disclosure.status.values() if s == PRIMARY)
    progress(f"披露控制 disclosure: {primary} 个“<10”, {len(disclosure.status) - primary} 个“×”")
    return SiteData(tree, values, disclosure, period, ledger, site_name)


def _charts(data: SiteData, docs: Path, progress: Progress) -> None:
    charts = TrendCharts(data.period, [tr.zh for tr in TRENDS])
    units = data.tree.page_units()
    (docs / "charts").mkdir(parents=True, exist_ok=True)
    for i, u in enumerate(units, 1):
        n = data.numbers(u)
        svg = charts.render([n.trend(tr.key, len(data.period.months)) for tr in TRENDS])
        (docs / data.tree.chart(u)).write_text(svg, encoding="utf-8")
        if i % max(1, len(units) // 10) == 0 or i == len(units):
            progress(f"图表 charts {i}/{len(units)}")


def build_site(db: Path, out: Path, *, as_of: str | None = None, config_file: Path = MKDOCS_YML,
               progress: Progress = _quiet, clock: Callable[[], float] = time.perf_counter) -> BuildResult:
    """Build the public report site from the central database ``db`` into ``out`` (replaced whole)."""
    out = Path(out).resolve()
    if not _replaceable(out):
        raise ReportError(f"{out} exists and is not a previous report site; refusing to replace it")
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="laogan-site-src-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        cfg = load_site_config(config_file, docs, staging)
        t = clock()
        data = _compute(db, as_of, str(cfg.site_name), progress)
        seconds["indicators+disclosure"] = clock() - t
        t = clock()
        pages = render_pages(data)
        for rel, md in pages.items():
            path = docs / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(md, encoding="utf-8")
        shutil.copytree(ASSETS, docs / "assets" / "laogan")
        user_dict = Path(tmp) / "jieba_user_dict.txt"
        user_dict.write_text(user_dictionary(data.tree), encoding="utf-8")
        seconds["pages"] = clock() - t
        t = clock()
        _charts(data, docs, progress)
        seconds["charts"] = clock() - t
        t = clock()
        try:
            run_mkdocs(cfg, user_dict, data.period, len(pages), progress)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        seconds["mkdocs"] = clock() - t
    t = clock()
    prune(staging)
    bad = outside_urls(staging)
    if bad:
        shutil.rmtree(staging, ignore_errors=True)
        raise OfflineError(f"{len(bad)} references to outside hosts, e.g. {bad[0][1]} in {bad[0][0]}")
    html = list(staging.rglob("*.html"))
    max_page = max((p.stat().st_size for p in html), default=0)
    _swap(staging, out)
    seconds["checks"] = clock() - t
    progress(f"完成 done: {out} ({len(html)} pages)")
    primary = sum(1 for st in data.disclosure.status.values() if st == PRIMARY)
    return BuildResult(out, data.period, len(data.tree.page_units()), len(html), max_page, primary,
                       len(data.disclosure.status) - primary, seconds)
