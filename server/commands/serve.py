"""``laogan server init`` and ``laogan serve``."""

from __future__ import annotations

import click

from server.settings import load_settings


@click.group("server")
def server() -> None:
    """Set up the central server (中心服务器): database and keys."""


@server.command("init")
def init() -> None:
    """Create the central database and the server's key pair (private key files mode 0600).

    Paths come from LAOGAN_DATA_DIR (default ./var), LAOGAN_DB and LAOGAN_KEYS_DIR. Existing keys are
    kept, never overwritten.
    """
    from server.serverkeys import init_server

    db, keys, created = init_server(load_settings())
    click.echo(f"中心数据库 central DB: {db}")
    click.echo(f"服务器密钥 server keys: {keys} ({'created' if created else 'kept existing'})")


@click.command("serve")
@click.option("--host", default=None, help="Interface to bind (default LAOGAN_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default LAOGAN_PORT or 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the sync server with uvicorn (127.0.0.1:8000 by default)."""
    import uvicorn

    from server.app import create_app

    settings = load_settings()
    app = create_app(settings)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="warning",
                access_log=False)
