"""Fixtures for the audit tests: the known-answer database, a real audit Datasette, a movable clock."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from server.audit.app import AuditApp, AuditConfig, build_audit_app
from tests.server.audit.fixture import NOW, Fixture, build_fixture

T = TypeVar("T")


@dataclass
class Clock:
    at: datetime = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="session")
def fixture_template(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """Built once; tests that write get their own copy (:func:`fx`)."""
    return build_fixture(tmp_path_factory.mktemp("audit-fixture"))


@pytest.fixture
def fx(fixture_template: Fixture, tmp_path: Path) -> Fixture:
    """A private copy of the known-answer database (and keys) for one test."""
    src = fixture_template.settings.data_dir
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    settings = fixture_template.settings.with_dir(dst)
    return Fixture(settings, dict(fixture_template.tokens), fixture_template.provenance_ledger_id)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_app(fx: Fixture, work: Path, clock: Callable[[], datetime], **kw: Any) -> AuditApp:
    config = AuditConfig.in_dir(fx.db, work, fx.settings.keys_dir, **kw)
    return build_audit_app(config, clock=clock, secret="test-secret-" + "0" * 40)


@pytest.fixture
def app(fx: Fixture, tmp_path: Path, clock: Clock) -> Iterator[AuditApp]:
    audit = make_app(fx, tmp_path / "audit", clock)
    try:
        yield audit
    finally:
        audit.close()


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(app: AuditApp, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    headers = {**kw.pop("headers", {}), **(bearer(token) if token else {})}
    response: httpx.Response = await app.datasette.client.get(path, headers=headers, **kw)
    return response


def file_digest(db: Path) -> str:
    """SHA-256 of the database file and its WAL (the -shm index holds only locks and is skipped)."""
    h = hashlib.sha256()
    for p in (db, db.with_name(db.name + "-wal")):
        h.update(p.read_bytes() if p.exists() else b"")  # an absent WAL and an empty one hold the same
    return h.hexdigest()
