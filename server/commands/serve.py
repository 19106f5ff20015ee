"""``laogan server init`` and ``laogan serve``."""

from __future__ import annotations

import click


@click.group("server")
def server() -> None:
    """Set up the central server (中心服务器): database and keys."""


@click.command("serve")
def serve() -> None:
    """Run the sync server (uvicorn on 127.0.0.1:8000 by default)."""
    raise click.ClickException("not implemented yet")
