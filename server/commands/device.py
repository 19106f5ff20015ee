"""``laogan device``: enrol, list and revoke tablets."""

from __future__ import annotations

import random
from pathlib import Path

import click

from server.commands.common import db_option, open_writer
from server.settings import load_settings
from server.state import utc_now


@click.group("device")
def device() -> None:
    """Manage tablets (平板设备): enrolment codes, list, revoke."""


@device.command("enroll")
@db_option
@click.option("--unit", "unit_code", required=True, help="Code of the unit (单位代码) the tablet serves.")
def enroll(db_path: Path | None, unit_code: str) -> None:
    """Create a one-time enrolment code (登记码) for a tablet of UNIT, valid LAOGAN_ENROL_CODE_HOURS
    (24 by default). The tablet that redeemed it may present it again while it is valid."""
    from server.devices import create_code

    settings = load_settings()
    conn = open_writer(db_path)
    try:
        code = create_code(conn, unit_code, now=utc_now(), rng=random.SystemRandom(),
                           hours=settings.enrol_code_hours)
    finally:
        conn.close()
    click.echo(code)


@device.command("list")
@db_option
def list_(db_path: Path | None) -> None:
    """List enrolled tablets with unit, state and last upload (a tablet that only pulls is not seen)."""
    from server.devices import list_devices

    conn = open_writer(db_path)
    try:
        rows = list_devices(conn)
    finally:
        conn.close()
    click.echo(f"{'device id':36}  {'unit':10}  {'state':8}  {'next seq':>8}  last seen")
    for d, unit_code, seen in rows:
        state = "revoked" if d.revoked_at else "active"
        click.echo(f"{d.id:36}  {unit_code:10}  {state:8}  {d.next_seq:>8}  {seen or '-'}")


@device.command("revoke")
@db_option
@click.argument("device_id")
def revoke(db_path: Path | None, device_id: str) -> None:
    """Revoke a tablet (吊销设备): its uploads are refused with 403 and kept in quarantine."""
    from server.devices import revoke as do_revoke

    conn = open_writer(db_path)
    try:
        d = do_revoke(conn, device_id, now=utc_now())
    finally:
        conn.close()
    click.echo(f"revoked {d.id} at {d.revoked_at}")
