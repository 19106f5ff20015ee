"""``Recorder``: what a capture changed, as a changeset in SQLite's session format, without a session.

An apsw :class:`~apsw.Session` costs about 100 µs per capture whatever the capture holds: the session
extension reads each attached table's schema and prepares its statements anew for every changeset,
and a session can be neither reset nor reused. A capture writes two or three rows, so that was most
of what a capture cost beyond the rows themselves.

The recorder does what the session extension does, with what the store already knows (each table's
columns and key):

* a **preupdate hook**, registered only while a capture runs, notes the key of every row of a recorded
  table that is inserted, updated or deleted, and the row's values the first time it is seen (none for
  a row that did not exist) — the session's "initial values";
* at the end, each noted row is read again by its key and compared with its first-seen values, exactly
  as the session extension compares them when it makes a changeset: nothing then and nothing now, or
  the same values (with the same types) → no change; nothing then → INSERT of the row now; nothing
  now → DELETE of the row then; otherwise an UPDATE carrying the key and the old values of the columns
  that differ, and their new values. A value changed and changed back, a row inserted and deleted, and
  anything undone by ``ROLLBACK TO`` leave nothing, as with a session.

A change is *indirect* if every write to that row was made by a trigger (the hook's ``depth`` > 0),
as a session marks it. Rows are keyed by their primary key, not their rowid, so ``INSERT OR REPLACE``
of an existing key is one UPDATE, as a session records it.

The bytes follow the changeset format (``sqlite3session.c``, "CHANGESET FORMAT"): per table a header
``'T'``, the column count, one primary-key flag per column and the NUL-terminated name, then each change
as an operation byte, the indirect flag and its old and/or new record (type byte, then an 8-byte
big-endian integer or IEEE double, or a varint length and the UTF-8 text or blob bytes; undefined and
NULL are one byte each). Tables come in the order given, rows in the order first seen; a session orders
rows by an internal hash, so the bytes may differ from a session's while every change is the same
(``tests/sync/test_recorder.py`` compares them change by change over random workloads).

Never create an apsw ``Session`` on a connection while a recorder's hook is registered on it: apsw
documents that the session extension crashes the process then.

Unlike a session, which works on the stored bytes, the recorder reads values through Python: a TEXT
value that is not valid UTF-8 cannot be read, and a capture that touches such a row is refused
(``RecordingFailed``) rather than committed without it. Rows with a NULL key are ignored, as a session
ignores them (no uploadable table allows one).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apsw

_INSERT, _UPDATE, _DELETE = b"\x12", b"\x17", b"\x09"
_INSERTED, _UPDATED, _DELETED = ((op + b"\x01", op + b"\x00") for op in (_INSERT, _UPDATE, _DELETE))
"""Each operation byte with its indirect flag, indexed by whether the change is direct."""
_UNDEFINED, _NULL = b"\x00", b"\x05"
_pack_q = struct.Struct(">q").pack
_pack_d = struct.Struct(">d").pack


def varint(n: int) -> bytes:
    """SQLite's variable-length integer (``sqlite3PutVarint``) of ``0 <= n < 2**64``."""
    if n < 0x80:
        return bytes((n,))
    if n >= 1 << 56:  # nine bytes: eight of seven bits, the last of eight
        out = bytearray(9)
        out[8] = n & 0xFF
        n >>= 8
        for i in range(7, -1, -1):
            out[i] = (n & 0x7F) | 0x80
            n >>= 7
        return bytes(out)
    groups = []
    while n:
        groups.append(n & 0x7F)
        n >>= 7
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


_SHORT = tuple(varint(n) for n in range(1 << 14))
"""The varints of every length below 16,384 (one or two bytes), looked up rather than computed."""


def _text(v: str) -> bytes:
    b = v.encode()
    n = len(b)
    return b"\x03" + (_SHORT[n] if n < 16384 else varint(n)) + b


def _blob(v: bytes) -> bytes:
    b = bytes(v)
    n = len(b)
    return b"\x04" + (_SHORT[n] if n < 16384 else varint(n)) + b


def _int(v: int) -> bytes:
    return b"\x01" + _pack_q(v)


def _real(v: float) -> bytes:
    return b"\x02" + _pack_d(v)


def _null(_: None) -> bytes:
    return _NULL


_ENCODE: dict[type, Callable[[Any], bytes]] = {
    str: _text, int: _int, float: _real, type(None): _null, bytes: _blob, bytearray: _blob, memoryview: _blob,
}


def value(v: object) -> bytes:
    """One field of a changeset record."""
    return _ENCODE[type(v)](v)


_TEXT_HEAD = tuple(b"\x03" + _SHORT[n] for n in range(128))
"""The type byte and length of a TEXT field of fewer than 128 bytes, as one piece."""
_pack_int = struct.Struct(">Bq").pack
_pack_real = struct.Struct(">Bd").pack


def _fields(values: tuple[object, ...], out: list[bytes]) -> None:
    """Append the fields of a whole record to ``out`` (what :func:`record` joins): :func:`value` of each,
    with the common storage classes inline rather than a call each (a capture encodes every field of
    every row it inserts)."""
    app = out.append
    for v in values:
        t = type(v)
        if t is str:
            b = v.encode()  # type: ignore[attr-defined]
            n = len(b)
            app(_TEXT_HEAD[n] if n < 128 else b"\x03" + (_SHORT[n] if n < 16384 else varint(n)))
            app(b)
        elif t is int:
            app(_pack_int(1, v))
        elif v is None:
            app(_NULL)
        elif t is float:
            app(_pack_real(2, v))
        else:
            app(_ENCODE[t](v))


def record(values: tuple[object, ...]) -> bytes:
    """A whole record: every field defined (an INSERT's new or a DELETE's old values)."""
    out: list[bytes] = []
    _fields(values, out)
    return b"".join(out)


def same(a: object, b: object) -> bool:
    """Whether a session would see no change between ``a`` and ``b``: the same storage class and the same
    value — REAL compared as doubles (so ``0.0`` and ``-0.0`` are the same), TEXT and BLOB as bytes."""
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Shape:
    """What the recorder needs of one table: its name, column count, key column and how to read a row."""

    name: str
    columns: tuple[str, ...]
    key: int
    header: bytes
    select: str

    @property
    def ncols(self) -> int:
        return len(self.columns)

    @classmethod
    def of(cls, name: str, columns: tuple[str, ...], key: str) -> Shape:
        k = columns.index(key)
        flags = bytes(1 if i == k else 0 for i in range(len(columns)))
        header = b"T" + varint(len(columns)) + flags + name.encode() + b"\x00"
        cols = ", ".join(f'"{c}"' for c in columns)
        return cls(name, columns, k, header, f'SELECT {cols} FROM main."{name}" WHERE "{key}" = ?')


Update = tuple[str, int, tuple[object, ...], tuple[object, ...], list[int]]
"""One UPDATE :meth:`Recorder.take` encoded: (table, key column, the row's values when first seen, its
values now, the columns that differ, key excluded, in order)."""


class Recorder:
    """Notes a capture's rows (:meth:`hook`) and encodes their net change (:meth:`take`). One per
    store; :meth:`clear` between captures."""

    __slots__ = ("_direct", "_notes", "_seen", "_shapes", "_touched", "failure")

    def __init__(self, shapes: Iterable[Shape]) -> None:
        self._shapes = {s.name: s for s in shapes}
        self._seen: dict[str, dict[object, tuple[object, ...] | None]] = {n: {} for n in self._shapes}
        self._direct: dict[str, set[object]] = {n: set() for n in self._shapes}
        self._notes = {n: (n, s.key, self._seen[n], self._direct[n]) for n, s in self._shapes.items()}
        """Table -> what the hook needs of it, in one look-up."""
        self._touched: set[str] = set()
        self.failure: BaseException | None = None
        """The first error raised while noting a row (e.g. a TEXT value that is not UTF-8): the row may be
        missing from the notes, so the capture must not be committed (the store refuses it)."""

    @classmethod
    def for_tables(cls, names: Iterable[str], columns: Callable[[str], tuple[str, ...]],
                   key: Callable[[str], str]) -> Recorder:
        return cls(Shape.of(n, columns(n), key(n)) for n in names)

    def hook(self, u: apsw.PreUpdate) -> None:
        """The preupdate hook: note the row's key and, the first time, its values. SQLite goes on with the
        statement whatever happens here, so an error is kept (:attr:`failure`) rather than raised.
        (Called for every row a capture writes: one function, no further calls of its own.)"""
        try:
            notes = self._notes.get(u.table_name)
            if notes is None or u.database_name != "main":
                return
            name, k, seen, direct = notes
            if u.op == "INSERT":
                inserted = u.new
                assert inserted is not None
                key = inserted[k]
                if key is None:  # a session ignores rows whose key is NULL
                    return
                self._touched.add(name)
                if key not in seen:
                    seen[key] = None
                if u.depth == 0:
                    direct.add(key)
                return
            old = u.old
            assert old is not None
            key = old[k]
            is_direct = u.depth == 0
            if key is not None:
                self._touched.add(name)
                if key not in seen:
                    seen[key] = old
                if is_direct:
                    direct.add(key)
            if u.op == "UPDATE":
                new = u.new
                assert new is not None
                new_key = new[k]
                if new_key != key and new_key is not None:  # a new key: its row did not exist before
                    self._touched.add(name)
                    if new_key not in seen:
                        seen[new_key] = None
                    if is_direct:
                        direct.add(new_key)
        except BaseException as exc:  # kept; the store refuses the capture at its end
            if self.failure is None:
                self.failure = exc

    def touched(self) -> frozenset[str]:
        """The tables with noted rows not yet taken."""
        return frozenset(self._touched)

    def touched_among(self, names: frozenset[str]) -> frozenset[str]:
        """Those of ``names`` that :meth:`touched` holds (without copying the notes first)."""
        return names & self._touched

    def noted_rows(self, conn: apsw.Connection, names: Iterable[str]
                   ) -> Iterator[tuple[str, object, tuple[object, ...] | None, tuple[object, ...] | None]]:
        """For each noted row of ``names`` that the capture changed (as :meth:`take` would record it):
        (table, key, its values when first seen, its values now); ``None`` where the row did not exist."""
        for name in names:
            shape = self._shapes[name]
            for key, then in self._seen[name].items():
                now = conn.execute(shape.select, (key,)).fetchone()
                if then is None and now is None:
                    continue
                if then is not None and now is not None and all(map(same, then, now)):
                    continue
                yield name, key, then, None if now is None else tuple(now)

    def column_index(self, name: str, column: str) -> int:
        """Where ``column`` is in the rows :meth:`noted_rows` gives for table ``name``."""
        return self._shapes[name].columns.index(column)

    def noted_units(self, conn: apsw.Connection, names: Iterable[str], column: Callable[[str], str]
                    ) -> Iterator[tuple[str, object, tuple[object, object]]]:
        """For each noted row of ``names`` that the capture changed: (table, key, (its ``column(table)``
        value when first seen, and now)); ``None`` where the row did not exist."""
        for name, key, then, now in self.noted_rows(conn, names):
            i = self.column_index(name, column(name))
            yield name, key, (None if then is None else then[i], None if now is None else now[i])

    def take(self, conn: apsw.Connection, names: Iterable[str], updates: list[Update] | None = None) -> bytes:
        """The changeset of the noted rows of ``names`` (in that order), read against ``conn`` now; those
        tables' notes are then forgotten. ``updates``: if given, every UPDATE encoded is also appended to
        it (see :data:`Update`), for what derives from the net change without decoding the bytes again."""
        touched = self._touched
        if not touched:
            return b""
        out: list[bytes] = []
        app = out.append
        for name in names:
            if name not in touched:
                continue
            touched.discard(name)
            seen = self._seen[name]
            shape = self._shapes[name]
            direct = self._direct[name]
            select, k, ncols = shape.select, shape.key, shape.ncols
            start = len(out)
            app(shape.header)
            for key, then in seen.items():
                now = conn.execute(select, (key,)).fetchone()
                if then is None:
                    if now is not None:
                        app(_INSERTED[key in direct])
                        _fields(now, out)
                elif now is None:
                    app(_DELETED[key in direct])
                    _fields(then, out)
                else:
                    # the columns a session sees changed: another storage class or another value (same())
                    diff = [i for i, a, b in zip(range(ncols), then, now, strict=False)
                            if i != k and (type(a) is not type(b) or a != b)]
                    if diff:
                        old = [_UNDEFINED] * ncols
                        new = old.copy()
                        old[k] = value(then[k])
                        for i in diff:
                            old[i] = value(then[i])
                            new[i] = value(now[i])
                        app(_UPDATED[key in direct])
                        out += old
                        out += new
                        if updates is not None:
                            updates.append((name, k, then, now, diff))
            seen.clear()
            direct.clear()
            if len(out) == start + 1:  # nothing changed: no block for this table
                del out[start]
        return b"".join(out)

    def clear(self) -> None:
        """Forget every note (a capture rolled back)."""
        for seen in self._seen.values():
            seen.clear()
        for direct in self._direct.values():
            direct.clear()
        self._touched.clear()
        self.failure = None
