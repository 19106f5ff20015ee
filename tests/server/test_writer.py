"""The writer's group commit: jobs queued together share one commit, each undone alone on error,
and a failed commit keeps nothing of its group (every job told so)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import apsw
import pytest

from schema.keys import KeyPair
from server.errors import WriteFailed
from server.ledger import head, ledgered
from server.ledger_audit import verify
from server.settings import Settings
from server.writer import Writer
from tests.conftest import NOW, Org, make_db


def _add_unit(n: int, org: Org, *, fail: str | None = None) -> Any:
    """A job: one ledgered insert of a township; ``fail`` = 'inside' raises in the ledgered block
    (undone), 'after' raises after it (kept, as a refused upload that is stored and then answered 4xx)."""

    def job(conn: apsw.Connection) -> str:
        code = f"5303268{n:02d}"
        with ledgered(conn, kind="admin", actor="test", now=NOW):
            conn.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?,?,?,?,?)",
                         (f"00000000-0000-4000-8000-0000000009{n:02d}", code, f"镇{n}", "township", org.county))
            if fail == "inside":
                raise ValueError(f"job {n} refused inside")
        if fail == "after":
            raise LookupError(f"job {n} answered an error after its write")
        return code

    return job


def _busy(writer: Writer) -> tuple[threading.Event, Future[None]]:
    """Keep the writer thread busy until the returned gate is set (jobs queue up meanwhile)."""
    gate = threading.Event()
    started = threading.Event()

    def block(_: apsw.Connection) -> None:
        started.set()
        gate.wait(10)

    blocker = writer.submit(block)
    assert started.wait(10)
    return gate, blocker


def _held_group(writer: Writer, jobs: list[Any]) -> list[Future[Any]]:
    """Queue ``jobs`` while the writer is busy, so they are taken as one group."""
    gate, blocker = _busy(writer)
    futures = [writer.submit(j, grouped=True) for j in jobs]
    gate.set()
    blocker.result(10)
    for f in futures:
        f.exception(10)  # wait for every outcome
    return futures


def _codes(path: Path) -> set[str]:
    conn = apsw.Connection(str(path))
    try:
        return {str(r[0]) for r in conn.execute("SELECT code FROM units WHERE code LIKE '5303268%'")}
    finally:
        conn.close()


def test_jobs_queued_together_share_one_commit_and_fail_alone(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    org = Org()
    writer = Writer(path)
    try:
        before = writer.run_sync(lambda c: head(c)[0])
        jobs = [_add_unit(n, org, fail={3: "inside", 5: "after"}.get(n)) for n in range(10)]
        futures = _held_group(writer, jobs)
        assert writer.stats.groups == 1 and writer.stats.jobs == 10 and writer.stats.largest == 10
        for n, f in enumerate(futures):
            if n == 3:
                assert isinstance(f.exception(), ValueError)
            elif n == 5:
                assert isinstance(f.exception(), LookupError)
            else:
                assert f.result() == f"5303268{n:02d}"
        after = writer.run_sync(lambda c: head(c)[0])
    finally:
        writer.close()
    assert _codes(path) == {f"5303268{n:02d}" for n in range(10) if n != 3}
    assert after - before == 9  # one ledger entry per kept job, chained in order
    conn = apsw.Connection(str(path))
    try:
        verdict = verify(conn, KeyPair.generate().sign_key.public_key())
    finally:
        conn.close()
    assert verdict.ok, verdict.reason


def test_a_failed_group_commit_keeps_nothing_and_tells_every_job(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    org = Org()
    conn = apsw.Connection(str(path))
    conn.execute("CREATE TABLE probe_parent (id INTEGER PRIMARY KEY);"
                 "CREATE TABLE probe_child (pid INTEGER REFERENCES probe_parent (id) DEFERRABLE INITIALLY DEFERRED)")
    conn.close()

    def orphan(conn: apsw.Connection) -> str:
        with ledgered(conn, kind="admin", actor="test", now=NOW):
            conn.execute("INSERT INTO probe_child (pid) VALUES (99)")  # passes now, fails the COMMIT
        return "orphan"

    writer = Writer(path)
    try:
        before = writer.run_sync(lambda c: head(c)[0])
        futures = _held_group(writer, [_add_unit(1, org), orphan, _add_unit(2, org)])
        for f in futures:
            exc = f.exception()
            assert isinstance(exc, WriteFailed) and exc.code == "write_failed"
        assert writer.stats.failed == 3 and writer.stats.groups == 0
        assert writer.run_sync(lambda c: head(c)[0]) == before
        # the writer goes on: the next job commits
        assert writer.submit(_add_unit(4, org), grouped=True).result(10) == "530326804"
    finally:
        writer.close()
    assert _codes(path) == {"530326804"}


def test_a_lone_grouped_job_is_not_held_back(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    writer = Writer(path)
    try:
        assert writer.submit(_add_unit(7, Org()), grouped=True).result(10) == "530326807"
        assert writer.stats.groups == 1 and writer.stats.largest == 1
    finally:
        writer.close()
    with pytest.raises(WriteFailed):
        writer.submit(lambda c: None)


def test_the_wal_is_checkpointed_beside_the_writer(tmp_path: Path) -> None:
    """Past the threshold the checkpointer thread, not the committing writer, copies the WAL back."""
    path = make_db(tmp_path)
    conn = apsw.Connection(str(path))
    conn.execute("CREATE TABLE probe_blob (x BLOB)")
    conn.close()
    writer = Writer(path)
    try:
        assert writer.checkpoints == 0
        for n in range(6):  # 6 MiB of pages: past 1,000 pages of WAL
            writer.submit(lambda c, n=n: c.execute("INSERT INTO probe_blob VALUES (?)", (bytes([n]) * 2**20,)),
                          grouped=True).result(30)
        deadline = time.monotonic() + 30
        while writer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.checkpoints >= 1
    finally:
        writer.close()
    check = apsw.Connection(str(path))
    try:
        assert check.execute("SELECT count(*), sum(length(x)) FROM probe_blob").fetchone() == (6, 6 * 2**20)
    finally:
        check.close()


def test_a_job_that_leaves_its_transaction_open_is_not_reported_kept(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    org = Org()
    writer = Writer(path)
    try:
        def dangling(conn: apsw.Connection) -> str:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?,?,?,?,?)",
                         ("00000000-0000-4000-8000-000000000999", "530326899", "镇", "township", org.county))
            return "done"

        with pytest.raises(WriteFailed):
            writer.run_sync(dangling)
        assert writer.run_sync(lambda c: c.in_transaction) is False
        assert writer.submit(_add_unit(8, org), grouped=True).result(10) == "530326808"  # a group, not nested
    finally:
        writer.close()
    assert _codes(path) == {"530326808"}


class _BreakingWriter(Writer):
    """A writer whose group machinery fails once (as a failed ROLLBACK would), to see what it leaves."""

    def _group(self, conn: apsw.Connection, group: list[Any]) -> None:
        raise RuntimeError("the group machinery broke")


def test_jobs_queued_when_the_writer_stops_are_failed_not_left_waiting(tmp_path: Path) -> None:
    writer = _BreakingWriter(make_db(tmp_path))
    gate, _ = _busy(writer)
    broken = writer.submit(lambda c: "never", grouped=True)
    queued = [writer.submit(lambda c: "late"), writer.submit(lambda c: "later", grouped=True)]
    gate.set()
    for f in (broken, *queued):
        exc = f.exception(10)  # answered, not left waiting
        assert exc is not None
    assert all(isinstance(f.exception(), WriteFailed) for f in queued)
    with pytest.raises(WriteFailed):
        writer.submit(lambda c: None)
    writer.close()


def test_close_runs_what_is_queued(tmp_path: Path) -> None:
    writer = Writer(make_db(tmp_path))
    futures = [writer.submit(lambda c, n=n: n, grouped=n % 2 == 0) for n in range(6)]
    writer.close()
    assert [f.result(0) for f in futures] == list(range(6))


def test_health_says_when_the_writer_has_stopped(server_settings: Settings) -> None:
    """/v1/health is 200 ok while writes are taken, and 503 writer_stopped once they would all fail."""
    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(app=create_app(server_settings)) as client:
        ok = client.get("/v1/health")
        assert (ok.status_code, ok.json()["status"]) == (200, "ok")
        client.app.state.laogan.writer.close()
        down = client.get("/v1/health")
        assert (down.status_code, down.json()["status"], down.json()["schema_version"]) == (503, "writer_stopped", 4)
