"""``laogan device``: enrol, list and revoke tablets."""

from __future__ import annotations

import click


@click.group("device")
def device() -> None:
    """Manage tablets (平板设备): enrolment codes, list, revoke."""
