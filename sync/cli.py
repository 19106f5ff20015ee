"""``laogan tablet``: the tablet client's commands (init, sql, sync, resync, status, push-changeset).

This module is the tablet's edge: it is the only place in ``sync`` that reads the wall clock, sleeps
for real, draws system randomness and opens a network client; everything below gets them injected.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import apsw
import click
import httpx

from schema.errors import SchemaError
from schema.keys import KeyPair
from sync.client import SyncClient
from sync.errors import AlreadyEnrolled, NotEnrolled, SyncError
from sync.paths import TabletDir
from sync.store import TabletStore

HTTP_TIMEOUT_S = 30.0


def _now() -> datetime:
    return datetime.now(UTC)


def _fail(code: str, message: str) -> NoReturn:
    click.echo(f"错误 error [{code}]: {message}", err=True)
    sys.exit(1)


class _TabletGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SyncError, SchemaError) as exc:
            _fail(str(getattr(exc, "code", "error")), str(exc))


@click.group("tablet", cls=_TabletGroup)
def tablet() -> None:
    """Act as a tablet (平板): enrol, edit through the captured path, sync.

    A tablet directory holds tablet.db (SQLite, WAL) and keys/ (private keys, mode 0600).
    """


_dir_option = click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="平板目录 Tablet directory (tablet.db and keys/).",
)


@contextmanager
def _open(directory: Path, *, must_exist: bool = True) -> Iterator[TabletStore]:
    td = TabletDir(directory)
    if must_exist and not td.db_path.exists():
        raise NotEnrolled(f"{td.db_path} 不存在,请先运行 laogan tablet init (no tablet database; run init first)")
    store = TabletStore.open(td.db_path, now=_now, rng=random.SystemRandom())
    try:
        yield store
    finally:
        store.close()


def _client(store: TabletStore, http: httpx.Client, keys: KeyPair) -> SyncClient:
    return SyncClient(store, http, keys=keys, now=_now, sleep=time.sleep, rng=random.SystemRandom())


@tablet.command("init")
@_dir_option
@click.option("--server", "server_url", required=True, help="服务器地址 Server base URL, e.g. http://127.0.0.1:8000.")
@click.option("--code", required=True, help="一次性登记码 One-time enrolment code from `laogan device enroll --unit CODE`.")
@click.option("--label", default="", show_default=False, help="设备名称 A label for this tablet (optional).")
def init(directory: Path, server_url: str, code: str, label: str) -> None:
    """Create a tablet directory, generate its keys and enrol it (登记平板).

    Keys are generated once into DIR/keys; if enrolment fails they are reused on the next try.
    """
    td = TabletDir(directory)
    with _open(directory, must_exist=False) as store:
        if store.state()["device_id"]:
            raise AlreadyEnrolled(f"{directory} 已登记 (already enrolled as device {store.state()['device_id']})")
        if td.has_keys():
            keys = KeyPair.load(td.keys_dir)
        else:
            keys = KeyPair.generate()
            keys.save(td.keys_dir)
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
            enrolment = _client(store, http, keys).enroll(server_url, code, label)
    click.echo(f"已登记 enrolled: device {enrolment.device_id}, unit {enrolment.unit_id}")


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return "x'" + value.hex() + "'"
    return str(value)


@tablet.command("sql")
@_dir_option
@click.option("--staff", "staff_id", default=None, help="工作人员编号 Staff id recorded in the roster history (UUID).")
@click.argument("sql")
def sql(directory: Path, staff_id: str | None, sql: str) -> None:
    """Run SQL as one captured transaction (采集事务) and print the rows of any SELECT.

    Changes to uploadable tables (retirees 离退休干部, contacts 联系记录, visits 走访 ...) go to the
    outbox for the next sync; writes to pulled-only tables (units, staff, service_menu) are refused.
    """
    with _open(directory) as store:
        before = store.status()
        rows: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
        try:
            with store.capture(staff_id) as conn:
                cursor = conn.cursor()
                for row in cursor.execute(sql):
                    header = tuple(d[0] for d in cursor.getdescription())
                    if not rows or rows[-1][0] != header:
                        rows.append((header, []))
                    rows[-1][1].append(row)
        except apsw.Error as exc:
            _fail("sql_failed", f"SQL 执行失败,未做任何修改 (SQL failed, nothing changed): {exc}")
        after = store.status()
    for header, body in rows:
        click.echo("\t".join(header))
        for row in body:
            click.echo("\t".join(_cell(v) for v in row))
    if after.pending + after.sent > before.pending + before.sent:
        click.echo(f"已记录 captured: outbox now holds {after.pending} pending change set(s)", err=True)


@tablet.command("sync")
@_dir_option
def sync_command(directory: Path) -> None:
    """Upload the outbox, then pull the server's changes (同步)."""
    td = TabletDir(directory)
    with _open(directory) as store:
        store.enrolment()  # not enrolled: say so before looking for keys
        keys = KeyPair.load(td.keys_dir)
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
            summary = _client(store, http, keys).sync()
    click.echo(f"上传 uploaded: {summary.uploaded}  拉取 pulled: {summary.pulled_changes} change(s) "
               f"in {summary.pull_batches} batch(es)  游标 cursor: {summary.cursor}")
    for receipt in summary.receipts:
        if receipt.status != "applied":
            click.echo(f"  seq {receipt.seq}: {receipt.status} (conflicts {receipt.conflicts})"
                       + (f" {receipt.reason}" if receipt.reason else ""))


@tablet.command("resync")
@_dir_option
def resync_command(directory: Path) -> None:
    """Upload the outbox, then pull everything again from the start (重新同步).

    Every row this tablet may hold comes again with the server's current values. Run it once on a tablet
    enrolled before the server shared the rows of the units above (the county's venues, community
    resources and party branches), or to repair a tablet's copy. Nothing unsent is lost: the outbox goes
    first.
    """
    td = TabletDir(directory)
    with _open(directory) as store:
        store.enrolment()
        keys = KeyPair.load(td.keys_dir)
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
            summary = _client(store, http, keys).resync()
    click.echo(f"上传 uploaded: {summary.uploaded}  重新拉取 pulled again: {summary.pulled_changes} change(s) "
               f"in {summary.pull_batches} batch(es)  游标 cursor: {summary.cursor}")


@tablet.command("status")
@_dir_option
def status(directory: Path) -> None:
    """Show enrolment, outbox length, last sync and pull cursor (同步状态)."""
    with _open(directory) as store:
        s = store.status()
    click.echo(f"设备 device:        {s.device_id or '-(未登记 not enrolled)'}")
    click.echo(f"单位 unit:          {s.unit_id or '-'}")
    click.echo(f"服务器 server:      {s.server_url or '-'}")
    click.echo(f"待上传 outbox:      {s.pending} pending, {s.sent} sent")
    click.echo(f"最近同步 last sync: {s.last_sync_at or '-(从未 never)'}")
    click.echo(f"游标 cursor:        {s.cursor}")
    click.echo(f"数据版本 schema:    {s.schema_version}")


@tablet.command("push-changeset")
@_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def push_changeset(directory: Path, file: Path) -> None:
    """Queue an SQLite changeset FILE (e.g. from the sqlite3 shell's .session) for upload (导入变更集).

    The changeset is checked (parses, uploadable tables only, this tablet's columns) and becomes the
    next outbox entry; it is sent by the next `laogan tablet sync`.
    """
    with _open(directory) as store:
        seq = store.push_raw_changeset(file.read_bytes())
    click.echo(f"已加入待上传 queued as outbox seq {seq}")


@tablet.command("simulate")
@_dir_option
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True, help="模拟天数 Days of work to simulate.")
@click.option("--start", "start", default="2026-10-01", show_default=True, help="第一天 First simulated day (YYYY-MM-DD).")
@click.option("--seed", type=int, default=1, show_default=True, help="随机种子 Seed: same seed, same work.")
@click.option("--contest", is_flag=True, help="Also correct the phone of the unit's first retiree (to meet another tablet's edits).")
@click.option("--offline", is_flag=True, help="Stay offline the whole period, never syncing; run `laogan tablet sync` when back in reach (离线工作).")
def simulate(directory: Path, days: int, start: str, seed: int, contest: bool, offline: bool) -> None:
    """Simulate a month of field work (模拟一个月的走访工作) on an enrolled tablet, syncing as it goes.

    Contacts, visits for life events, service orders, three-musts deliveries and roster updates, one
    captured transaction each; offline stretches; prints a JSON summary on the last line.
    """
    import json
    from datetime import date

    from sync.simulate import Month, SimClock

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise click.BadParameter("--start must be YYYY-MM-DD") from None
    td = TabletDir(directory)
    clock = SimClock(first)
    rng = random.Random(seed)
    with TabletStore.open(td.db_path, now=clock, rng=rng) as store:
        store.enrolment()
        keys = KeyPair.load(td.keys_dir)
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
            client = _client(store, http, keys)
            if not offline:
                client.sync()  # the unit's roster first (an offline tablet works from what it holds)
            tally = Month(store, rng, contest=contest, offline=offline).run(first, days, clock.set_day, client.sync)
            status = store.status()
    click.echo(json.dumps({"transactions": tally.transactions, "rows": tally.rows, "syncs": tally.syncs,
                           "by_kind": tally.by_kind, "pending": status.pending, "cursor": status.cursor}))
