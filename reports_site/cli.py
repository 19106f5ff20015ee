"""``laogan reports build``: the public service-report site (mounted on ``laogan`` by ``server/cli.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reports_site.errors import ReportError
from reports_site.serve import default_site_dir


@click.group("reports")
def reports() -> None:
    """The public service-report site (公开服务报告): aggregates only, built with MkDocs."""


@reports.command("build")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Central database file, read only (default: LAOGAN_DB or var/central.db).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of the built site, replaced whole (default: <LAOGAN_DATA_DIR>/site, i.e. var/site).")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM",
              help="Report month (default: the latest month the data covers to its last day).")
def build(db_path: Path | None, out: Path | None, as_of: str | None) -> None:
    """Compute the indicators, suppress small counts, write the pages and run the MkDocs build.

    Progress goes to stderr. The same database and --as-of give a byte-identical site. The site opens
    from disk (index.html) or through `laogan serve` at /reports/.
    """
    from reports_site.build import build_site
    from server.settings import load_settings

    settings = load_settings()
    db = db_path or settings.db_path
    target = out or default_site_dir(settings.data_dir)
    if not Path(db).is_file():
        click.echo(f"错误 error [no_database]: no central database at {db}", err=True)
        sys.exit(1)
    try:
        result = build_site(Path(db), target, as_of=as_of, progress=lambda m: click.echo(m, err=True))
    except ReportError as exc:
        click.echo(f"错误 error [{exc.code}]: {exc}", err=True)
        sys.exit(1)
    click.echo(f"报告网站 report site: {result.site} ({result.units} 个单位页面 unit pages, "
               f"{result.period.month}; {result.primary} 个“<10”, {result.secondary} 个“×”)")
