"""``laogan roster import``: the county office's bulk roster changes."""

from __future__ import annotations

import random
from pathlib import Path

import click

from server.commands.common import db_option, open_writer
from server.state import utc_now


@click.group("roster")
def roster() -> None:
    """The service database roster (服务数据库花名册): import from CSV."""


@roster.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="Unit code (单位代码) for rows without a unit_code column.")
@click.option("--by", "actor", default="office", show_default=True, help="Who imports (recorded in the ledger).")
def import_(db_path: Path | None, file: Path, unit_code: str | None, actor: str) -> None:
    """Import retirees from a CSV FILE (UTF-8; headers: column names or Chinese labels).

    New ID numbers are added, known ones updated (kept in the roster history). One bad value refuses
    the whole file — the error names the line, column and value — and nothing is written.
    """
    from server.roster_import import import_roster

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("文件不是 UTF-8 编码 (the file is not UTF-8)") from None
    conn = open_writer(db_path)
    try:
        r = import_roster(conn, text, default_unit=unit_code, actor=f"import:{actor}", now=utc_now(),
                          rng=random.SystemRandom())
    finally:
        conn.close()
    click.echo(f"新增 inserted {r.inserted}, 更新 updated {r.updated}, 未变 unchanged {r.unchanged}, "
               f"变更记录 history rows {r.history_rows}")
