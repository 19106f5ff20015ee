"""``laogan device``: enrol, list and revoke tablets."""

from __future__ import annotations

import random

import click

from server.commands.common import open_writer
from server.settings import load_settings
from server.state import utc_now


@click.group("device")
def device() -> None:
    """Manage tablets (平板设备): enrolment codes, list, revoke."""


@device.command("enroll")
@click.option("--unit", "unit_code", required=True, help="Code of the unit (单位代码) the tablet serves.")
def enroll(unit_code: str) -> None:
    """Create a one-time enrolment code (登记码) for a tablet of UNIT; valid 24 hours."""
    from server.devices import create_code

    settings = load_settings()
    conn = open_writer()
    try:
        code = create_code(conn, unit_code, now=utc_now(), rng=random.SystemRandom(),
                           hours=settings.enrol_code_hours)
    finally:
        conn.close()
    click.echo(code)


@device.command("list")
def list_() -> None:
    """List enrolled tablets with unit, state and last sync."""
    from server.devices import list_devices

    conn = open_writer()
    try:
        rows = list_devices(conn)
    finally:
        conn.close()
    click.echo(f"{'device id':36}  {'unit':10}  {'state':8}  {'next seq':>8}  last seen")
    for d, unit_code, seen in rows:
        state = "revoked" if d.revoked_at else "active"
        click.echo(f"{d.id:36}  {unit_code:10}  {state:8}  {d.next_seq:>8}  {seen or '-'}")


@device.command("revoke")
@click.argument("device_id")
def revoke(device_id: str) -> None:
    """Revoke a tablet (吊销设备): its uploads are refused with 403 and kept in quarantine."""
    from server.devices import revoke as do_revoke

    conn = open_writer()
    try:
        d = do_revoke(conn, device_id, now=utc_now())
    finally:
        conn.close()
    click.echo(f"revoked {d.id} at {d.revoked_at}")
