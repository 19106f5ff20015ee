"""The recorder gives the changes an apsw session gives, over random workloads.

Two copies of the same database run the same random statements in one transaction: one with a
:class:`sync.recorder.Recorder` hooked in, one with a session attached to the same tables in the same
order. Their changesets must hold the same changes, table block by table block (the order of rows
within a table is the session's hash order, so it is compared sorted), and have the same length.
"""

from __future__ import annotations

import random
from pathlib import Path

import apsw
import pytest

from sync.recorder import Recorder, Shape, same, varint
from tests.sync.changeset_factory import changes_by_table

TABLES = {"a": ("id", "x", "y", "z"), "b": ("k", "id", "v"), "c": ("id", "w")}
"""Table -> columns; the key is ``id`` (not always the first column)."""


def _db(path: Path) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    for name, cols in TABLES.items():
        body = ", ".join(f"{c} PRIMARY KEY" if c == "id" else c for c in cols)
        conn.execute(f"CREATE TABLE {name} ({body})")
    # a trigger's writes are indirect changes
    conn.execute("CREATE TABLE log (n INTEGER PRIMARY KEY, what)")
    conn.execute("CREATE TRIGGER a_to_c AFTER INSERT ON a WHEN NEW.x = 7 BEGIN"
                 " INSERT OR REPLACE INTO c (id, w) VALUES ('t' || NEW.id, NEW.y); END")
    return conn


def _value(rng: random.Random) -> object:
    return rng.choice([
        None, rng.randint(-3, 3), rng.randint(-2**63, 2**63 - 1), rng.choice([0.0, -0.0, 1.0, 2.5, 1e300]),
        rng.choice(["", "a", "张三", "x" * 200]), rng.choice([b"", b"\x00\x01", bytes(rng.randbytes(20000))]),
        1, 1.0, "1",
    ])


def _statements(rng: random.Random, n: int) -> list[tuple[str, tuple[object, ...]]]:
    ids = [f"r{i}" for i in range(6)]
    out: list[tuple[str, tuple[object, ...]]] = []
    for _ in range(n):
        t = rng.choice(list(TABLES))
        cols = TABLES[t]
        other = [c for c in cols if c != "id"]
        kind = rng.randrange(9)
        key = rng.choice(ids)
        if kind <= 2:
            vals = tuple(key if c == "id" else (7 if t == "a" and c == "x" and rng.random() < 0.3 else _value(rng))
                         for c in cols)
            verb = rng.choice(["INSERT OR IGNORE", "INSERT OR REPLACE"])
            out.append((f"{verb} INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", vals))
        elif kind <= 4:
            col = rng.choice(other)
            out.append((f"UPDATE {t} SET {col} = ? WHERE id = ?", (_value(rng), key)))
        elif kind == 5:
            col = rng.choice(other)  # set a column to what it already holds
            out.append((f"UPDATE {t} SET {col} = {col} WHERE id = ?", (key,)))
        elif kind == 6:
            out.append((f"UPDATE OR IGNORE {t} SET id = ? WHERE id = ?", (rng.choice(ids), key)))
        elif kind == 7:
            out.append((f"DELETE FROM {t} WHERE id = ?", (key,)))
        else:
            out.append(("SAVEPOINT s", ()))
            out.extend(_statements(rng, rng.randint(1, 4)) if n > 1 else [])
            out.append((rng.choice(["ROLLBACK TO s", "RELEASE s"]), ()))
            if out[-1][0] == "ROLLBACK TO s":
                out.append(("RELEASE s", ()))
    return out


def _run(conn: apsw.Connection, base: list[tuple[str, tuple[object, ...]]],
         work: list[tuple[str, tuple[object, ...]]], record: str) -> bytes:
    with conn:
        for sql, args in base:
            conn.execute(sql, args)
    conn.execute("BEGIN")
    if record == "session":
        session = apsw.Session(conn, "main")
        for name in TABLES:
            session.attach(name)
    else:
        recorder = Recorder(Shape.of(n, cols, "id") for n, cols in TABLES.items())
        conn.preupdate_hook(recorder.hook)
    for sql, args in work:
        conn.execute(sql, args)
    if record == "session":
        out = bytes(session.changeset())
        session.close()
    else:
        out = recorder.take(conn, TABLES)
        conn.preupdate_hook(None)
    conn.execute("ROLLBACK")
    return out


def _both(tmp_path: Path, base: list[tuple[str, tuple[object, ...]]], work: list[tuple[str, tuple[object, ...]]],
          tag: str = "") -> tuple[bytes, bytes]:
    """The recorder's and a session's changeset of ``work`` on fresh copies of ``base``."""
    got = []
    for record in ("recorder", "session"):
        conn = _db(tmp_path / f"{tag}{record}.db")
        try:
            got.append(_run(conn, base, work, record))
        finally:
            conn.close()
    return got[0], got[1]


@pytest.mark.parametrize("seed", range(40))
def test_the_same_changes_as_a_session(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    base = [s for s in _statements(rng, 12) if not s[0].startswith(("SAVEPOINT", "ROLLBACK", "RELEASE"))]
    for round_ in range(5):
        work = _statements(rng, rng.randint(1, 25))
        mine, theirs = _both(tmp_path, base, work, f"{seed}-{round_}-")
        assert changes_by_table(mine) == changes_by_table(theirs), work
        assert len(mine) == len(theirs)


def test_a_single_insert_is_the_session_bytes(tmp_path: Path) -> None:
    work = [("INSERT INTO b (k, id, v) VALUES (?, 'one', ?)", (None, "张三" * 100))]
    got = _both(tmp_path, [], work)
    assert got[0] == got[1] and got[0].startswith(b"T\x03\x00\x01\x00b\x00\x12\x00")


def test_varint_is_sqlites() -> None:
    assert [varint(n).hex() for n in (0, 127, 128, 16383, 16384)] == ["00", "7f", "8100", "ff7f", "818000"]
    assert varint(2**56).hex() == "80c0808080808080" + "00"
    assert varint(2**64 - 1) == b"\xff" * 9


def test_same_means_the_same_storage_class_and_value() -> None:
    assert same(1, 1) and same("a", "a") and same(None, None) and same(b"x", b"x") and same(2.5, 2.5)
    assert same(0.0, -0.0)  # a session compares REAL values as doubles
    assert not same(1, 1.0) and not same("1", 1) and not same(b"a", "a") and not same(None, 0)


def test_real_zero_and_negative_zero_are_the_same_value(tmp_path: Path) -> None:
    base = [("INSERT INTO a (id, x, y, z) VALUES ('r1', 0.0, -0.0, 1)", ())]
    work = [("UPDATE a SET x = -0.0, y = 0.0 WHERE id = 'r1'", ()), ("UPDATE a SET z = 1.0 WHERE id = 'r1'", ())]
    got = _both(tmp_path, base, work)
    assert changes_by_table(got[0]) == changes_by_table(got[1])
    u = "<undefined>"  # only z changed: INTEGER 1 became REAL 1.0; x and y kept their value
    assert changes_by_table(got[0]) == [("a", [repr(("UPDATE", False, 4, ("r1", u, u, 1), (u, u, u, 1.0)))])]


def test_rows_with_a_null_key_are_ignored_as_by_a_session(tmp_path: Path) -> None:
    base = [("INSERT INTO c (id, w) VALUES (NULL, 'x')", ()), ("INSERT INTO c (id, w) VALUES ('k', 'y')", ())]
    work = [("INSERT INTO c (id, w) VALUES (NULL, 'z')", ()), ("UPDATE c SET w = 'v' WHERE id IS NULL", ()),
            ("UPDATE c SET id = NULL WHERE id = 'k'", ()), ("DELETE FROM c WHERE w = 'x'", ())]
    got = _both(tmp_path, base, work)
    assert changes_by_table(got[0]) == changes_by_table(got[1])
    assert len(got[0]) == len(got[1]) > 0
