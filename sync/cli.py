"""``laogan tablet``: the tablet client's commands (init, sql, sync, status, push-changeset)."""

from __future__ import annotations

import click


@click.group("tablet")
def tablet() -> None:
    """Act as a tablet (平板): enrol, edit through the captured path, sync."""
