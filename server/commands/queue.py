"""``laogan conflicts``, ``laogan quarantine`` and ``laogan supervisor``: what a person decides."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import click

from server.commands.common import db_option, open_writer
from server.settings import load_settings
from server.state import utc_now


def _j(v: object) -> str:
    return json.dumps(v, ensure_ascii=False)


@click.group("conflicts")
def conflicts() -> None:
    """The sync conflict queue (同步冲突): list, show, resolve."""


@conflicts.command("list")
@db_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved conflicts.")
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many rows.")
def conflicts_list(db_path: Path | None, show_all: bool, limit: int) -> None:
    """List open conflicts (待处理冲突)."""
    from server.conflicts import list_conflicts

    conn = open_writer(db_path)
    try:
        rows = list_conflicts(conn, status=None if show_all else "open", limit=limit)
    finally:
        conn.close()
    click.echo(f"{'id':>5}  {'status':8}  {'kind':20}  {'table.column':28}  row")
    for c in rows:
        click.echo(f"{c.id:>5}  {c.status:8}  {c.kind:20}  {c.tbl + '.' + (c.column_name or '*'):28}  {c.row_id}")
    click.echo(f"{len(rows)} conflict(s)")


@conflicts.command("show")
@db_option
@click.argument("conflict_id", type=int)
def conflicts_show(db_path: Path | None, conflict_id: int) -> None:
    """Show one conflict: base, server and tablet values (冲突详情)."""
    from server.conflicts import get_conflict

    conn = open_writer(db_path)
    try:
        c = get_conflict(conn, conflict_id)
    finally:
        conn.close()
    for label, value in (("id", c.id), ("kind 类型", c.kind), ("table 表", c.tbl), ("row 行", c.row_id),
                         ("column 字段", c.column_name), ("base 原值", _j(c.base_value)),
                         ("server 服务器值", _j(c.server_value)), ("tablet 平板值", _j(c.tablet_value)),
                         ("provisional 暂定", c.provisional), ("device 设备", c.device_id),
                         ("upload 上传", c.upload_id), ("status 状态", c.status),
                         ("resolution 处理", c.resolution), ("resolved by 处理人", c.resolved_by)):
        click.echo(f"{label:18} {value}")


@conflicts.command("resolve")
@db_option
@click.argument("conflict_id", type=int)
@click.option("--use", "choice", type=click.Choice(["tablet", "server", "value"]), required=True,
              help="Keep the tablet's value, the server's, or the --value given.")
@click.option("--value", "value_json", default=None, help="The value to set, as JSON (with --use value).")
@click.option("--by", "actor", default="cli", show_default=True, help="Who resolves (recorded in the ledger).")
def conflicts_resolve(db_path: Path | None, conflict_id: int, choice: str, value_json: str | None, actor: str) -> None:
    """Resolve a conflict (处理冲突); the change is ledgered and reaches the tablets on their next pull."""
    from server.conflicts import resolve

    if choice == "value" and value_json is None:
        raise click.UsageError("--use value needs --value JSON")
    try:
        value = json.loads(value_json) if value_json is not None else None
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"--value is not JSON: {exc}") from None
    conn = open_writer(db_path)
    try:
        c = resolve(conn, conflict_id, choice=choice, value=value, actor=f"supervisor:{actor}", now=utc_now())
    finally:
        conn.close()
    click.echo(f"conflict {c.id} resolved with {c.resolution}: {_j(c.resolved_value)}")


@click.group("quarantine")
def quarantine() -> None:
    """Refused uploads kept in quarantine (隔离区): list, show, retry."""


@quarantine.command("list")
@db_option
@click.option("--all", "show_all", is_flag=True, help="Include uploads already applied on retry.")
def quarantine_list(db_path: Path | None, show_all: bool) -> None:
    """List quarantined uploads with their reasons."""
    from server.quarantine import list_held

    conn = open_writer(db_path)
    try:
        rows = list_held(conn, status=None if show_all else "held")
    finally:
        conn.close()
    for q in rows:
        click.echo(f"{q.id:>5}  {q.status:8}  {q.reason_code:18}  seq {q.seq}  {q.reason_zh} ({q.reason_en})")
    click.echo(f"{len(rows)} upload(s)")


@quarantine.command("show")
@db_option
@click.argument("quarantine_id", type=int)
def quarantine_show(db_path: Path | None, quarantine_id: int) -> None:
    """Show one quarantined upload: device, sequence, reason, size."""
    conn = open_writer(db_path)
    try:
        row = conn.execute(
            "SELECT q.id, q.status, q.reason_code, q.reason_zh, q.reason_en, q.device_id, q.seq, q.created_at,"
            " q.retried_at, length(u.envelope), u.envelope_sha256 FROM quarantine q JOIN uploads u"
            " ON u.id = q.upload_id WHERE q.id = ?", (quarantine_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise click.ClickException(f"no quarantined upload {quarantine_id}")
    for label, v in zip(("id", "status", "reason code", "原因", "reason", "device", "seq", "quarantined at",
                         "retried at", "envelope bytes", "envelope sha256"), row, strict=True):
        click.echo(f"{label:16} {v}")


@quarantine.command("retry")
@db_option
@click.argument("quarantine_id", type=int)
@click.option("--force", is_flag=True, help="Also retry an upload from a device revoked since.")
@click.option("--by", "actor", default="cli", show_default=True, help="Who retries (recorded in the ledger).")
def quarantine_retry(db_path: Path | None, quarantine_id: int, force: bool, actor: str) -> None:
    """Apply a quarantined upload again, after its cause is fixed (重试)."""
    from server.retry import retry
    from server.serverkeys import load_server_keys

    keys = load_server_keys(load_settings())
    conn = open_writer(db_path)
    try:
        r = retry(conn, quarantine_id, keys=keys, now=utc_now(), actor=f"supervisor:{actor}", force=force)
    finally:
        conn.close()
    if r.applied:
        click.echo(f"applied: {r.status}, {r.conflicts} conflict(s) queued")
        return
    click.echo(f"still held: {r.reason}", err=True)
    sys.exit(1)


@click.group("supervisor")
def supervisor() -> None:
    """Supervisor credentials (督导人员) for the conflict API."""


@supervisor.command("add")
@db_option
@click.argument("name")
@click.option("--expires", "days", type=click.IntRange(min=1), default=None,
              help="Days until the token expires (at least 1; default never).")
@click.option("--by", "actor", default="cli", show_default=True, help="Who gives the token (recorded in the ledger).")
def supervisor_add(db_path: Path | None, name: str, days: int | None, actor: str) -> None:
    """Create a supervisor and print their token once (only its hash is kept; the ledger records who and when)."""
    from server.supervisors import add

    conn = open_writer(db_path)
    try:
        token = add(conn, name, now=utc_now(), rng=random.SystemRandom(), days=days, actor=actor)
    finally:
        conn.close()
    click.echo(token)


@supervisor.command("revoke")
@db_option
@click.argument("name")
@click.option("--by", "actor", default="cli", show_default=True, help="Who revokes it (recorded in the ledger).")
def supervisor_revoke(db_path: Path | None, name: str, actor: str) -> None:
    """Revoke a supervisor's token (again: nothing happens)."""
    from server.supervisors import revoke

    conn = open_writer(db_path)
    try:
        revoke(conn, name, now=utc_now(), actor=actor)
    finally:
        conn.close()
    click.echo(f"revoked {name}")
