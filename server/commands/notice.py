"""``laogan notice``: issue and list three-musts notices (三必须事项)."""

from __future__ import annotations

import random
from pathlib import Path

import click

from schema import enums as E
from server.commands.common import db_option, open_writer
from server.state import utc_now


@click.group("notice")
def notice() -> None:
    """Three-musts notices (三必须事项): documents to deliver, meetings to invite to, guidance to convey.

    A notice of a unit is due to the living retirees of that unit and of every unit below it; the tablets
    of those units pull it and record each delivery against it.
    """


@notice.command("add")
@db_option
@click.option("--unit", "unit_code", required=True, help="Code of the issuing unit (下发单位代码).")
@click.option("--kind", required=True, type=click.Choice(E.MUST_KIND.codes()),
              help="document 文件必须送到, meeting 会议必须邀请, guidance 上级精神必须传达.")
@click.option("--title", required=True, help="Title (标题) of the document, meeting or guidance.")
@click.option("--issued", "issued_on", required=True, help="Issue date (下发日期), YYYY-MM-DD.")
@click.option("--due", "due_by", required=True, help="Due date (送达期限), YYYY-MM-DD, not before --issued.")
@click.option("--for-category", "for_category", type=click.Choice(E.CATEGORY.codes()), default="general",
              show_default=True, help="Due to retirees of this category and the ones above it (发放范围); "
              "general: everyone.")
@click.option("--by", "actor", default="office", show_default=True, help="Who issues it (recorded in the ledger).")
def add(db_path: Path | None, unit_code: str, kind: str, title: str, issued_on: str, due_by: str,
        for_category: str, actor: str) -> None:
    """Issue a notice (下发三必须事项) for a unit and every unit below it; prints its id."""
    from server.notices import add_notice

    conn = open_writer(db_path)
    try:
        n = add_notice(conn, unit_code=unit_code, kind=kind, title=title, issued_on=issued_on, due_by=due_by,
                       for_category=for_category, actor=f"notice:{actor}", now=utc_now(), rng=random.SystemRandom())
    finally:
        conn.close()
    click.echo(f"已下发 issued {n.id}: {n.unit_code} {n.unit_name} {E.MUST_KIND.label(n.kind)}《{n.title}》"
               f" {n.issued_on} → {n.due_by}")


@notice.command("list")
@db_option
@click.option("--unit", "unit_code", default=None,
              help="Only the notices due to this unit's retirees (its own and those of the units above it).")
def list_(db_path: Path | None, unit_code: str | None) -> None:
    """List notices (三必须事项), latest due date first."""
    from server.notices import list_notices

    conn = open_writer(db_path)
    try:
        rows = list_notices(conn, unit_code)
    finally:
        conn.close()
    click.echo(f"{'notice id':36}  {'unit':10}  {'kind':8}  {'issued':10}  {'due':10}  {'for':13}  title")
    for n in rows:
        click.echo(f"{n.id:36}  {n.unit_code:10}  {n.kind:8}  {n.issued_on:10}  {n.due_by:10}  "
                   f"{n.for_category:13}  {n.title}")
