"""A central database, one enrolled device and its tablet database, without HTTP.

For engine-level tests of reconcile, quarantine and the ledger. End-to-end tests use the real server.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import apsw

from schema import SCHEMA_VERSION
from schema import envelope as env
from schema.keys import KeyPair, b64e
from schema.migrations import migrate
from schema.tables import uploadable_tables
from schema.wire import Receipt
from server import devices, uploads
from server.db import open_writer
from server.ledger import ledgered
from tests.conftest import NOW, Org, make_org


class Harness:
    def __init__(self, tmp_path: Path, *, unit: str = "530326101", seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.now = NOW
        self.conn = open_writer(tmp_path / "central.db")
        self.org: Org = make_org(self.conn)
        self.server_keys = KeyPair.generate(lambda n: self.rng.randbytes(n))
        self.device_keys = KeyPair.generate(lambda n: self.rng.randbytes(n))
        code = devices.create_code(self.conn, unit, now=self.now, rng=self.rng)
        sp, bp = self.device_keys.public_bytes()
        got = devices.enroll(self.conn, code=code, sign_pub=b64e(sp), box_pub=b64e(bp), label="t",
                             now=self.now, rng=self.rng)
        self.device_id = got.device.id
        self.unit_id = got.device.unit_id
        self.seq = 0
        self.tablet = apsw.Connection(str(tmp_path / "tablet.db"))
        migrate(self.tablet, "tablet")

    def tick(self, seconds: int = 60) -> datetime:
        self.now = self.now + timedelta(seconds=seconds)
        return self.now

    def server_exec(self, sql: str, args: tuple[object, ...] = (), *, kind: str = "admin") -> None:
        with ledgered(self.conn, kind=kind, actor="test", now=self.tick()):
            self.conn.execute(sql, args)

    def both_exec(self, sql: str, args: tuple[object, ...] = ()) -> None:
        """The same write on the server (ledgered) and the tablet (not captured): a shared base."""
        self.server_exec(sql, args, kind="import")
        self.tablet.execute(sql, args)

    def capture(self, fn: Callable[[apsw.Connection], object]) -> bytes:
        """Run ``fn`` on the tablet with a session; return the changeset."""
        session = apsw.Session(self.tablet, "main")
        for t in uploadable_tables():
            session.attach(t.name)
        with self.tablet:
            fn(self.tablet)
        cs = session.changeset()
        session.close()
        return cs

    def seal(self, changeset: bytes, *, seq: int | None = None, captured: datetime | None = None,
             schema_version: int = SCHEMA_VERSION) -> bytes:
        if seq is None:
            self.seq += 1
            seq = self.seq
        return env.seal(changeset, kind=env.KIND_UPLOAD, device_id=self.device_id, seq=seq, cursor=0,
                        schema_version=schema_version, now=int((captured or self.tick()).timestamp()),
                        signing_key=self.device_keys.sign_key, recipient=self.server_keys.box_public)

    def receive(self, data: bytes) -> Receipt:
        return uploads.receive(self.conn, data, keys=self.server_keys, now=self.tick())

    def upload(self, changeset: bytes, **kw: object) -> Receipt:
        return self.receive(self.seal(changeset, **kw))  # type: ignore[arg-type]

    def one(self, sql: str, args: tuple[object, ...] = ()) -> tuple[object, ...] | None:
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None else tuple(row)

    def close(self) -> None:
        self.tablet.close()
        self.conn.close()


RETIREE_COLS = ("id", "unit_id", "name", "sex", "birth_date", "id_number", "category", "phone", "address")


def retiree_sql(unit_id: str, rid: str, n: int = 0) -> tuple[str, tuple[object, ...]]:
    vals = (rid, unit_id, f"王{n}", "male", "1940-01-01", f"53032619400101{n:04d}", "general", "13800000000",
            "金钟镇1号")
    return f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * len(vals))})", vals
