"""``laogan org``: the organisation a fresh server needs before tablets can enrol (units, staff, menu)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import apsw
import click

from server.commands.common import db_option, open_writer
from server.org_import import OrgResult
from server.state import utc_now

_file = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_by = click.option("--by", "actor", default="office", show_default=True, help="Who imports (recorded in the ledger).")


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("文件不是 UTF-8 编码 (the file is not UTF-8)") from None


def _run(db_path: Path | None, work: Callable[[apsw.Connection], OrgResult]) -> None:
    conn = open_writer(db_path)
    try:
        r = work(conn)
    finally:
        conn.close()
    click.echo(f"新增 inserted {r.inserted}, 更新 updated {r.updated}, 未变 unchanged {r.unchanged}")


@click.group("org")
def org() -> None:
    """The organisation (组织架构): units, staff and the service menu, from CSV.

    A fresh server (`laogan server init`) has no unit; import the unit tree first, then the staff, then
    add the service menu. Each import is one ledgered transaction; one bad row refuses the whole file.
    """


@org.command("import-units")
@db_option
@_file
@_by
def import_units(db_path: Path | None, file: Path, actor: str) -> None:
    """Import units (单位) from a CSV FILE: code, name, level, parent_code (or 单位代码, 单位名称, 单位层级,
    上级单位代码). Known codes are updated, new ones added; parents may come later in the file."""
    from server.org_import import import_units as run

    text = _text(file)
    _run(db_path, lambda conn: run(conn, text, actor=f"import:{actor}", now=utc_now(), rng=random.SystemRandom()))


@org.command("import-staff")
@db_option
@_file
@click.option("--unit", "unit_code", default=None, help="Unit code (单位代码) for rows without a unit_code column.")
@_by
def import_staff(db_path: Path | None, file: Path, unit_code: str | None, actor: str) -> None:
    """Import staff (工作人员) from a CSV FILE: unit_code, name, role, phone, active, optional id (or the
    Chinese labels). A row without an id updates the one staff member of that name in that unit."""
    from server.org_import import import_staff as run

    text = _text(file)
    _run(db_path, lambda conn: run(conn, text, default_unit=unit_code, actor=f"import:{actor}", now=utc_now(),
                                   rng=random.SystemRandom()))


@org.command("init-menu")
@db_option
@_by
def init_menu(db_path: Path | None, actor: str) -> None:
    """Add the service menu items (订单式服务菜单) that are missing: group study, study at home,
    counselling, culture and sports, emotional comfort, health care, home care."""
    from server.org_import import ensure_menu

    _run(db_path, lambda conn: ensure_menu(conn, actor=actor, now=utc_now(), rng=random.SystemRandom()))
