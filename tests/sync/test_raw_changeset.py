"""``push_raw_changeset``: changesets made by any SQLite are queued once they pass the checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import apsw
import pytest

from schema.migrations import migrate
from sync import errors
from sync.store import TabletStore
from tests.sync.changeset_factory import loose_db, record, tablet_db
from tests.sync.conftest import Seed, changes


def _contact_sql(cid: str, seed: Seed) -> str:
    return (
        "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached, notes)"
        f" VALUES ('{cid}', '{seed.unit_id}', '{seed.retiree_id}', '2024-05-02', 'phone', 'family', 1, '外部工具')"
    )


def test_changeset_from_another_connection_is_queued_as_next_seq(tmp_path: Path, store: TabletStore,
                                                                  seeded: Seed) -> None:
    other = apsw.Connection(str(tmp_path / "other.db"))
    migrate(other, "tablet")
    cid = store.new_id()
    data = record(other, ["contacts"], lambda c: c.execute(_contact_sql(cid, seeded)))
    seq = store.push_raw_changeset(data)
    assert seq == 2
    [entry] = store.pending()
    assert (entry.seq, entry.changeset) == (2, data)
    assert [(t, op) for t, op, _, _ in changes(entry.changeset)] == [("contacts", "INSERT")]
    assert store.conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0  # not applied locally


def test_unknown_table_is_refused(store: TabletStore) -> None:
    conn = apsw.Connection(":memory:")
    conn.execute("CREATE TABLE secrets (id TEXT PRIMARY KEY, v)")
    data = record(conn, ["secrets"], lambda c: c.execute("INSERT INTO secrets VALUES ('a', 1)"))
    with pytest.raises(errors.InvalidChangeset, match="secrets"):
        store.push_raw_changeset(data)
    assert store.outbox() == []


def test_pulled_only_table_is_refused(store: TabletStore) -> None:
    conn = tablet_db()
    data = record(conn, ["units"], lambda c: c.execute(
        "INSERT INTO units (id, code, name, level) VALUES ('00000000-0000-4000-8000-000000000001', 'X', 'X', 'city')"))
    with pytest.raises(errors.InvalidChangeset, match="units"):
        store.push_raw_changeset(data)


def test_wrong_column_count_is_refused(store: TabletStore) -> None:
    conn = loose_db(["contacts"], drop_last=2)
    data = record(conn, ["contacts"], lambda c: c.execute("INSERT INTO contacts (id) VALUES ('k')"))
    with pytest.raises(errors.InvalidChangeset, match="columns"):
        store.push_raw_changeset(data)


def test_wrong_primary_key_is_refused(store: TabletStore) -> None:
    conn = apsw.Connection(":memory:")
    cols = ", ".join(f'"{c}"' for c in store.columns("contacts") if c != "notes")
    conn.execute(f'CREATE TABLE contacts ({cols}, notes PRIMARY KEY)')
    data = record(conn, ["contacts"], lambda c: c.execute("INSERT INTO contacts (notes) VALUES ('k')"))
    with pytest.raises(errors.InvalidChangeset, match="primary key"):
        store.push_raw_changeset(data)


def test_patchset_is_refused(store: TabletStore, seeded: Seed) -> None:
    data = record(tablet_db(), ["contacts"], lambda c: c.execute(_contact_sql(store.new_id(), seeded)),
                  patchset=True)
    with pytest.raises(errors.InvalidChangeset, match="patchset"):
        store.push_raw_changeset(data)


@pytest.mark.parametrize("data", [b"", b"hello", b"T\xff\xff\xff"])
def test_garbage_is_refused(store: TabletStore, data: bytes) -> None:
    with pytest.raises(errors.InvalidChangeset):
        store.push_raw_changeset(data)
    assert store.outbox() == []


def test_truncated_changeset_is_refused(store: TabletStore, seeded: Seed) -> None:
    data = record(tablet_db(), ["contacts"], lambda c: c.execute(_contact_sql(store.new_id(), seeded)))
    with pytest.raises(errors.InvalidChangeset):
        store.push_raw_changeset(data[:-5])
    assert store.pending() == []


def _shell_has_sessions(shell: str) -> bool:
    probe = subprocess.run([shell, ":memory:", ".session"], capture_output=True, text=True, check=False)
    return "unknown command" not in (probe.stdout + probe.stderr).lower()


def test_changeset_from_the_sqlite3_shell_session_command(tmp_path: Path, store: TabletStore,
                                                          seeded: Seed) -> None:
    shell = shutil.which("sqlite3")
    if shell is None or not _shell_has_sessions(shell):
        pytest.skip("no sqlite3 shell with .session support")
    db = tmp_path / "shell.db"
    conn = apsw.Connection(str(db))
    migrate(conn, "tablet")
    conn.close()
    out = tmp_path / "contact.changeset"
    cid = store.new_id()
    script = "\n".join([
        ".session open main s", ".session s attach contacts", _contact_sql(cid, seeded) + ";",
        f".session s changeset {out}", ".session s close", "",
    ])
    subprocess.run([shell, str(db)], input=script, text=True, check=True, capture_output=True)
    seq = store.push_raw_changeset(out.read_bytes())
    [entry] = store.pending()
    assert entry.seq == seq
    [(t, op, _, new)] = changes(entry.changeset)
    assert (t, op, new[0]) == ("contacts", "INSERT", cid)
