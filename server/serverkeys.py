"""The server's own keys and its one-time initialisation (``laogan server init``)."""

from __future__ import annotations

from pathlib import Path

from schema.errors import SchemaError
from schema.keys import KeyPair, b64e
from server.db import open_central
from server.errors import ConfigError
from server.settings import Settings


def init_server(settings: Settings) -> tuple[Path, Path, bool]:
    """Create the central database and server key files (0600) if missing.

    Returns (db path, keys dir, whether keys were created). Never overwrites existing keys.
    """
    created = False
    if not (settings.keys_dir / "sign.key").exists():
        settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        KeyPair.generate().save(settings.keys_dir)
        created = True
    keys = load_server_keys(settings)
    conn = open_central(settings.db_path)
    try:
        sign_pub, box_pub = keys.public_bytes()
        with conn:
            conn.execute("INSERT OR REPLACE INTO server_meta (key, value) VALUES ('server_sign_pub', ?)",
                         (b64e(sign_pub),))
            conn.execute("INSERT OR REPLACE INTO server_meta (key, value) VALUES ('server_box_pub', ?)",
                         (b64e(box_pub),))
    finally:
        conn.close()
    return settings.db_path, settings.keys_dir, created


def load_server_keys(settings: Settings) -> KeyPair:
    """Load the server keys; refuses key files readable by group or others."""
    try:
        return KeyPair.load(settings.keys_dir)
    except SchemaError as exc:
        raise ConfigError(f"服务器密钥不可用 (server keys unusable): {exc}", code="server_keys") from None
