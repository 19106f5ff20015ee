"""``laogan audit serve`` and ``laogan audit user add|revoke|list``: the auditors' Datasette."""

from __future__ import annotations

import random
import secrets
from pathlib import Path

import click

from server.commands.common import db_option, open_writer
from server.settings import load_settings
from server.state import utc_now


@click.group("audit")
def audit() -> None:
    """Auditors' read-only Datasette (审计查询): serve it, manage auditor accounts."""


@audit.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the masked-views file and the access log (default: <data dir>/audit).")
@click.option("--keys-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Server key folder, for ledger verification (default: LAOGAN_KEYS_DIR or var/keys).")
@click.option("--sql-time-limit-ms", type=click.IntRange(min=100), default=10_000, show_default=True,
              help="Time limit of one SQL query (canned queries and seniors' SQL).")
@click.option("--max-returned-rows", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Most rows one query page returns.")
@click.option("--session-hours", type=click.IntRange(min=1), default=8, show_default=True,
              help="How long a browser login lasts.")
@click.option("--base-url", default="/", show_default=True,
              help="URL prefix when served behind a reverse proxy under a sub-path (e.g. /audit/).")
def serve(db_path: Path | None, host: str, port: int, work_dir: Path | None, keys_dir: Path | None,
          sql_time_limit_ms: int, max_returned_rows: int, session_hours: int, base_url: str) -> None:
    """Serve the auditors' Datasette on its own port (127.0.0.1:8001 by default), read-only."""
    import uvicorn

    from server.audit.app import AuditConfig, build_audit_app

    settings = load_settings()
    config = AuditConfig.in_dir(
        (db_path or settings.db_path).resolve(), work_dir or settings.data_dir / "audit", keys_dir or settings.keys_dir,
        sql_time_limit_ms=sql_time_limit_ms, max_returned_rows=max_returned_rows, session_hours=session_hours,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
    )
    app = build_audit_app(config, clock=utc_now, secret=secrets.token_hex(32))
    try:
        click.echo(f"审计查询 audit Datasette: http://{host}:{port}{config.base_url} (access log {config.log})", err=True)
        uvicorn.run(app.asgi(), host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    finally:
        app.close()


@audit.group("user")
def user() -> None:
    """Auditor accounts (审计账号): add, revoke, list."""


@user.command("add")
@db_option
@click.argument("name")
@click.option("--role", type=click.Choice(["auditor", "senior"]), required=True,
              help="auditor: masked data and canned queries only; senior: everything, SQL, the access log.")
@click.option("--expires", "days", type=click.IntRange(min=1), default=None,
              help="Days until the credential expires (default: never).")
@click.option("--by", "actor", default="cli", show_default=True, help="Who grants it (recorded in the ledger).")
def user_add(db_path: Path | None, name: str, role: str, days: int | None, actor: str) -> None:
    """Create an account and print its token NAME.SECRET once (only a hash is kept)."""
    from server.audit.users import add

    conn = open_writer(db_path)
    try:
        token = add(conn, name, role, now=utc_now(), rng=random.SystemRandom(), days=days, actor=f"supervisor:{actor}")
    finally:
        conn.close()
    click.echo(token)
    click.echo("只显示这一次。浏览器登录:账号 + 密钥(“.”后面的部分);程序访问:Authorization: Bearer <上面的令牌>。\n"
               "Shown once. Browser: name + the part after the dot; API: Authorization: Bearer <token>.", err=True)


@user.command("revoke")
@db_option
@click.argument("name")
@click.option("--by", "actor", default="cli", show_default=True, help="Who revokes it (recorded in the ledger).")
def user_revoke(db_path: Path | None, name: str, actor: str) -> None:
    """Revoke an account: its token and every browser session stop working at once."""
    from server.audit.users import revoke

    conn = open_writer(db_path)
    try:
        revoke(conn, name, now=utc_now(), actor=f"supervisor:{actor}")
    finally:
        conn.close()
    click.echo(f"revoked {name}")


@user.command("list")
@db_option
def user_list(db_path: Path | None) -> None:
    """List accounts with role, state, creation and expiry."""
    from server.audit.users import list_users
    from server.db import open_reader

    conn = open_reader(db_path or load_settings().db_path)
    try:
        rows = list_users(conn)
    finally:
        conn.close()
    now = utc_now()
    click.echo(f"{'name':20}  {'role':8}  {'state':8}  {'created':19}  expires")
    for u in rows:
        click.echo(f"{u.name:20}  {u.role:8}  {u.state(now):8}  {u.created_at:19}  {u.expires_at or '-'}")
    click.echo(f"{len(rows)} account(s)")


@audit.command("check-summaries")
@db_option
@click.option("--repair", is_flag=True, help="Recompute the summaries that differ (one transaction).")
def check_summaries(db_path: Path | None, repair: bool) -> None:
    """Compare the summary tables (汇总表) with a recomputation; exit 1 if one differs."""
    from server.audit.summaries import check

    bad = check(db_path or load_settings().db_path, repair=repair)
    for name, n in sorted(bad.items()):
        click.echo(f"{name}: {n} rows differ from a recomputation")
    if not bad:
        click.echo("汇总表一致 (summaries exact)")
        return
    click.echo("已重算 (repaired)" if repair else "汇总表不一致 (summaries differ): run with --repair")
    if not repair:
        raise SystemExit(1)
