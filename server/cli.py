"""The single ``laogan`` command-line entry point.

Each subcommand group lives in its own module under ``server/commands`` (the tablet's group in
``sync/cli.py``, the one piece of ``sync`` the server package may import); this module only wires
them together and turns laogan's errors into one-line messages with a non-zero exit.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from schema.errors import SchemaError
from server.errors import ServerError


class _Root(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SchemaError, ServerError) as exc:
            click.echo(f"错误 error [{getattr(exc, 'code', 'error')}]: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="laogan")
def main() -> None:
    """laogan: offline sync for the tablets that serve retired cadres (离退休干部).

    Tablets record contacts, visits and service orders offline and sync sealed SQLite changesets to
    this server; auditors read through Datasette; the public reads a generated report site.
    """


def _register() -> None:
    from reports_site.cli import reports
    from server.commands import audit, backup, data, device, ledger, notice, org, queue, roster, serve
    from sync.cli import tablet

    for group in (data.seed_data, data.demo, ledger.db, ledger.ledger, serve.server, serve.serve, device.device,
                  queue.conflicts, queue.quarantine, queue.supervisor, org.org, roster.roster, backup.backup, backup.restore,
                  audit.audit, notice.notice, reports, tablet):
        main.add_command(group)


_register()
