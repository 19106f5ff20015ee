"""Hostile changesets through the real receive path: sealed and signed by an enrolled device (so
they get past every envelope check), then opened, scanned, applied and ledgered by the engine.

The contract for a validly signed upload with the right sequence number is: **a receipt, never an
exception**. Either the changeset is applied — and then every row it touched satisfies the registry
(types, enumerations, dates, UUIDs, ranges) and every text it wrote is stored byte for byte — or it
is quarantined, and then the domain tables are exactly as before (checksums unchanged). Every upload,
applied or quarantined, is ledgered, and the ledger still verifies at the end.

Changesets are built byte by byte (:func:`changeset`), following the SQLite session format, so they
can hold what no well-behaved SQLite would write: invalid UTF-8, undefined values in an INSERT,
wrong column counts, absurd length prefixes.
"""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import apsw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema import SCHEMA_VERSION
from schema import envelope as env
from schema.model import Table
from schema.tables import synced_tables, table, uploadable_tables
from schema.validate import validate_row
from server.errors import SequenceConflict
from server.ledger_audit import table_checksums, verify
from tests.conftest import uid
from tests.server.crash_harness import sized
from tests.server.harness import Harness, retiree_sql
from tests.sync.changeset_factory import loose_db, record

DOMAIN = tuple(t.name for t in synced_tables())
BASE_RETIREE = uid(424_242)
UNDEFINED = object()
"""A value slot the session format marks "undefined" (0x00): unchanged columns of an UPDATE."""


class Text(bytes):
    """Raw bytes sent as a TEXT value (so invalid UTF-8 can be written)."""


# -- the SQLite session changeset format, written by hand --------------------------------------


def _varint(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _value(v: object) -> bytes:
    if v is UNDEFINED:
        return b"\x00"
    if v is None:
        return b"\x05"
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return b"\x01" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\x02" + struct.pack(">d", v)
    if isinstance(v, Text):
        return b"\x03" + _varint(len(v)) + bytes(v)
    if isinstance(v, str):
        raw = v.encode("utf-8")
        return b"\x03" + _varint(len(raw)) + raw
    if isinstance(v, bytes):
        return b"\x04" + _varint(len(v)) + v
    raise TypeError(v)


def header(name: str | bytes, ncol: int, pk: tuple[int, ...] = (0,)) -> bytes:
    raw = name.encode() if isinstance(name, str) else name
    return b"T" + _varint(ncol) + bytes(1 if i in pk else 0 for i in range(ncol)) + raw + b"\0"


def insert(row: list[object]) -> bytes:
    return b"\x12\x00" + b"".join(_value(v) for v in row)


def delete(row: list[object]) -> bytes:
    return b"\x09\x00" + b"".join(_value(v) for v in row)


def update(old: list[object], new: list[object]) -> bytes:
    return b"\x17\x00" + b"".join(_value(v) for v in old) + b"".join(_value(v) for v in new)


def changeset(name: str, *changes: bytes, ncol: int | None = None) -> bytes:
    return header(name, ncol if ncol is not None else len(table(name).columns)) + b"".join(changes)


# -- valid rows to start from -----------------------------------------------------------------


def _fuzzable(t: Table) -> bool:
    """Uploadable tables whose required references are only the unit and the base retiree."""
    return all(c.references in (None, "units", "retirees") or not c.required for c in t.columns)


TABLES = tuple(t.name for t in uploadable_tables() if _fuzzable(t) and t.name != "roster_history")


def valid_row(name: str, row_id: str, unit_id: str) -> list[object]:
    """A row of ``name`` that satisfies every rule, built from the registry."""
    out: list[object] = []
    for c in table(name).columns:
        if c.name == "id":
            v: object = row_id
        elif c.name == "unit_id":
            v = unit_id
        elif c.references == "retirees":
            v = BASE_RETIREE
        elif c.references is not None:
            v = None
        elif c.enum is not None:
            v = c.enum.codes()[0] if c.required or c.default is not None else None
        elif c.kind == "bool":
            v = 0
        elif c.kind == "date":
            v = "2026-10-01"
        elif c.kind == "datetime":
            v = "2026-10-01 08:00:00"
        elif c.kind == "int":
            v = c.min_value if c.min_value is not None else 1
        elif c.kind == "real":
            v = 0.0
        elif c.name == "id_number":
            v = f"{int(uuid.UUID(row_id)) % 10**18:018d}"
        else:
            v = "值" if c.required else None
        out.append(v)
    return out


INVALID_UTF8 = st.sampled_from([Text(b"\xff"), Text(b"\xc3\x28"), Text(b"\xed\xa0\x80"), Text(b"a\xf0\x28\x8c\xbc"),
                                Text(b"\xe2\x82")])
SQL_TEXT = st.sampled_from([
    "'", '"', "''", "'; DROP TABLE retirees; --", "Robert'); DELETE FROM ledger; --", "1 OR 1=1",
    "\x00", "a\x00b", "\x00' OR '1'='1", "😀", "👨‍👩‍👧‍👦", "\u202eevil", "\\", "%s%s%n", "NULL", "null", "",
    " ", "\n", "\r\n", "x" * 70_000, "長" * 30_000, "<script>alert(1)</script>", "{\"$hex\": \"00\"}",
    "2026-02-30", "2026-10-01 25:61:00", "00000000-0000-0000-0000-00000000000G", "A" * 36,
])
HOSTILE = st.one_of(
    st.none(), SQL_TEXT, st.text(max_size=40), INVALID_UTF8,
    st.integers(-(2**63), 2**63 - 1), st.sampled_from([2**63 - 1, -(2**63), 0, -1, 1, 2, 5, 6]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.inf, -math.inf, -0.0, 1e308]),
    st.binary(max_size=40), st.sampled_from([b"", b"\x00" * 36]),
)


def base_id(name: str) -> str:
    """The id of the one existing row of ``name`` that updates and deletes aim at."""
    return BASE_RETIREE if name == "retirees" else str(uuid.uuid5(uuid.NAMESPACE_URL, name))


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    sql, args = retiree_sql(harness.unit_id, BASE_RETIREE, 4242)
    harness.server_exec(sql, args, kind="import")
    for name in TABLES:
        if name != "retirees":
            cols = table(name).column_names()
            harness.server_exec(f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                                tuple(valid_row(name, base_id(name), harness.unit_id)), kind="import")
    yield harness
    harness.close()


class Tally:
    def __init__(self) -> None:
        self.cases = 0
        self.outcomes: dict[str, int] = {}

    def add(self, status: str) -> None:
        self.cases += 1
        self.outcomes[status] = self.outcomes.get(status, 0) + 1


def _domain(h: Harness) -> dict[str, str]:
    return table_checksums(h.conn, DOMAIN)


def _touched(cs: bytes) -> list[tuple[str, object]]:
    try:
        return [(c.name, (c.old or c.new or (None,))[0]) for c in apsw.Changeset.iter(cs)]
    except (apsw.Error, ValueError):
        return []


def _stored_ok(h: Harness, cs: bytes) -> None:
    """Every row the changeset touched and that exists satisfies the registry; texts are exact."""
    sent: dict[tuple[str, object], tuple[object, ...]] = {}
    for c in apsw.Changeset.iter(cs):
        if c.op == "INSERT" and c.new is not None:
            sent[(c.name, c.new[0])] = tuple(c.new)
    for name, key in _touched(cs):
        t = table(name)
        cols = t.column_names()
        row = h.conn.execute(f'SELECT {", ".join(chr(34) + n + chr(34) for n in cols)} FROM "{name}" WHERE id = ?',
                             (key,)).fetchone()
        if row is None:
            continue
        validate_row(name, dict(zip(cols, row, strict=True)))  # the DB never holds a registry-invalid row
        new = sent.get((name, key))
        if new is not None and h.one('SELECT count(*) FROM conflicts WHERE row_id = ?', (key,)) == (0,):
            for col, have, want in zip(cols, row, new, strict=False):
                if isinstance(want, str):
                    assert have == want, (name, col)  # no truncation at NUL, no mangling


def run_case(h: Harness, cs: bytes, tally: Tally) -> None:
    """Upload ``cs`` through the real receive path and check the contract (module docstring)."""
    before = _domain(h)
    try:
        receipt = h.upload(cs)  # any exception here is a failure: a signed upload always gets a receipt
    except BaseException:
        h.seq = int(str(h.one("SELECT next_seq FROM devices WHERE id = ?", (h.device_id,))[0])) - 1  # type: ignore[index]
        raise
    tally.add(receipt.status)
    if receipt.status == "quarantined":
        assert receipt.reason
        assert _domain(h) == before, receipt.reason
    else:
        _stored_ok(h, cs)


@st.composite
def hostile_changes(draw: st.DrawFn, h: Harness) -> bytes:
    """One table's INSERT, UPDATE or DELETE with hostile values in random columns.

    Everything is drawn before the database is looked at, so the draws never depend on its state.
    """
    name = draw(st.sampled_from(TABLES))
    t = table(name)
    cols = t.column_names()
    n = len(cols)
    op = draw(st.sampled_from(["insert", "insert", "update", "update_stale", "delete"]))
    key = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
    where = draw(st.lists(st.integers(0 if op == "insert" else 1, n - 1), min_size=op != "insert", max_size=3,
                          unique=True))
    values = [draw(HOSTILE) for _ in where]
    olds = [draw(HOSTILE) for _ in where]
    current = h.one(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{name}" WHERE id = ?',
                    (base_id(name),))
    if op == "insert" or current is None:
        row = valid_row(name, key, h.unit_id)
        for i, v in zip(where, values, strict=True):
            row[i] = v
        return changeset(name, insert(row))
    if op == "delete":
        row = list(current)
        for i, v in zip(where[:2], values, strict=False):
            row[i] = v  # a stale or hostile old row: a conflict, never a blind delete
        return changeset(name, delete(row))
    old: list[object] = [UNDEFINED] * n
    new: list[object] = [UNDEFINED] * n
    old[0] = current[0]
    for i, v, o in zip(where, values, olds, strict=True):
        old[i] = current[i] if op == "update" else o
        new[i] = v
    return changeset(name, update(old, new))


@pytest.mark.parametrize("examples", sized(200, 3000))
def test_hostile_values_get_a_receipt_and_write_nothing_bad(h: Harness, examples: int,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        run_case(h, data.draw(hostile_changes(h)), tally)

    run()
    assert verify(h.conn, h.server_keys.sign_public).ok
    with capsys.disabled():
        print(f"\n[fuzz: hostile values through receive] cases={tally.cases} outcomes={tally.outcomes} "
              f"exceptions=0 bad_rows_written=0", flush=True)
    assert tally.outcomes.get("applied", 0) > 0 and tally.outcomes.get("quarantined", 0) > 0


def _patchset(h: Harness, sql: str) -> bytes:
    """A patchset (old values left out) of ``sql`` on a copy of the base retiree."""
    loose = loose_db(["retirees"])
    cols = table("retirees").column_names()
    row = h.one(f"SELECT {', '.join(cols)} FROM retirees WHERE id = ?", (BASE_RETIREE,))
    loose.execute(f"INSERT INTO retirees VALUES ({', '.join('?' * len(cols))})", row)
    return record(loose, ["retirees"], lambda c: c.execute(sql, (BASE_RETIREE,)), patchset=True)


def _structural(h: Harness) -> dict[str, bytes]:
    """Named changesets that break the format or the schema, not just a value."""
    good = changeset("contacts", insert(valid_row("contacts", uid(77), h.unit_id)))
    n = len(table("retirees").columns)
    row = valid_row("retirees", uid(78), h.unit_id)
    return {
        "empty": b"",
        "one_byte": b"T",
        "truncated_half": good[: len(good) // 2],
        "truncated_last_byte": good[:-1],
        "trailing_junk": good + b"\x00\x01\x02",
        "patchset_insert": b"P" + good[1:],
        "patchset_update": _patchset(h, "UPDATE retirees SET phone = '13000000000' WHERE id = ?"),
        "patchset_delete": _patchset(h, "DELETE FROM retirees WHERE id = ?"),
        "unknown_table": changeset("evil", insert(["x"]), ncol=1),
        "sql_in_table_name": header("retirees\"; DROP TABLE ledger; --", 1) + insert(["x"]),
        "invalid_utf8_table_name": header(b"retir\xffees", n) + insert(row),
        "read_only_table": changeset("units", insert([uid(79), "999", "坏", "township", None])),
        "server_table": changeset("ledger", insert([1] * len(table("ledger").columns))),
        "roster_history_insert_only": changeset("roster_history", insert(valid_row("roster_history", uid(80),
                                                                                  h.unit_id))),
        "more_columns_than_server": header("retirees", n + 3) + insert([*row, "a", "b", "c"]),
        "fewer_columns": header("retirees", 5) + insert(row[:5]),
        "zero_columns": header("retirees", 0) + b"\x12\x00",
        "pk_on_second_column": header("retirees", n, pk=(1,)) + insert(row),
        "no_pk": header("retirees", n, pk=()) + insert(row),
        "huge_column_count": b"T" + _varint(2**31) + b"\x01" * 64,
        "huge_text_length": header("retirees", n) + b"\x12\x00\x03" + _varint(2**40) + b"abc",
        "huge_blob_length": header("retirees", n) + b"\x12\x00\x04" + _varint(2**62) + b"abc",
        "bad_op_byte": header("retirees", n) + b"\x42\x00" + b"".join(_value(v) for v in row),
        "bad_value_type": header("retirees", n) + b"\x12\x00" + b"\x07" * n,
        "undefined_in_insert": changeset("retirees", insert([UNDEFINED] * n)),
        "null_primary_key": changeset("retirees", insert([None, *row[1:]])),
        "integer_primary_key": changeset("retirees", insert([7, *row[1:]])),
        "blob_primary_key": changeset("retirees", insert([uid(81).encode(), *row[1:]])),
        "invalid_utf8_value": changeset("retirees", insert([*row[:2], Text(b"\xff\xfe"), *row[3:]])),
        "invalid_utf8_pk": changeset("retirees", insert([Text(b"\xff" * 36), *row[1:]])),
        "dashes_as_id": changeset("retirees", insert(["-" * 36, *row[1:]])),
        "upper_case_id": changeset("retirees", insert([uid(0xABCDEF).upper(), *row[1:]])),
        "update_changes_pk": changeset("retirees", update([BASE_RETIREE] + [UNDEFINED] * (n - 1),
                                                          [uid(82)] + [UNDEFINED] * (n - 1))),
        "update_nothing": changeset("retirees", update([BASE_RETIREE] + [UNDEFINED] * (n - 1), [UNDEFINED] * n)),
        "delete_missing_row": changeset("retirees", delete(valid_row("retirees", uid(83), h.unit_id))),
        "same_row_twice": changeset("retirees", insert(valid_row("retirees", uid(84), h.unit_id)),
                                    insert(valid_row("retirees", uid(84), h.unit_id))),
        "table_twice": good + good,
    }


def test_structural_breakage_is_quarantined(h: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    statuses = {}
    for name, cs in _structural(h).items():
        run_case(h, cs, tally)
        statuses[name] = h.one("SELECT status FROM uploads ORDER BY id DESC LIMIT 1")
    assert verify(h.conn, h.server_keys.sign_public).ok
    with capsys.disabled():
        print(f"\n[fuzz: structural changesets] cases={tally.cases} outcomes={tally.outcomes}", flush=True)
    must_refuse = {"unknown_table", "sql_in_table_name", "invalid_utf8_table_name", "read_only_table", "server_table",
                   "more_columns_than_server", "zero_columns", "pk_on_second_column", "no_pk", "huge_column_count",
                   "huge_text_length", "huge_blob_length", "bad_op_byte", "bad_value_type", "null_primary_key",
                   "integer_primary_key", "blob_primary_key", "invalid_utf8_value", "invalid_utf8_pk", "dashes_as_id",
                   "upper_case_id",
                   "truncated_half", "patchset_update", "patchset_delete"}
    wrongly_applied = {n for n in must_refuse if statuses[n] != ("quarantined",)}
    assert wrongly_applied == set()


def test_huge_counts(h: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """Many rows in one changeset: applied whole (or refused whole), never partly."""
    tally = Tally()
    base = int(str((h.one("SELECT count(*) FROM contacts") or (0,))[0]))
    rows = [insert(valid_row("contacts", str(uuid.UUID(int=10**9 + i, version=4)), h.unit_id)) for i in range(5000)]
    run_case(h, changeset("contacts", *rows), tally)
    assert h.one("SELECT count(*) FROM contacts") == (base + 5000,)
    wrong = valid_row("contacts", uid(99), h.unit_id)
    wrong[table("contacts").column_names().index("contacted_on")] = "2026-13-01"
    bad = [*rows[:4999], insert(wrong)]
    run_case(h, changeset("contacts", *bad), tally)  # one bad row among thousands: nothing of it applied
    assert h.one("SELECT count(*) FROM contacts") == (base + 5000,)
    assert tally.outcomes == {"applied": 1, "quarantined": 1}
    with capsys.disabled():
        print(f"\n[fuzz: huge counts] cases={tally.cases} outcomes={tally.outcomes}", flush=True)


def test_infinite_value_in_a_conflict_is_quarantined_not_a_crash(h: Harness) -> None:
    """A REAL +inf passes ``gift_yuan >= 0`` (any SQLite can store it); in a field conflict it must
    be queued or quarantined, never crash the upload (json.dumps(inf) is not JSON)."""
    vid = uid(90)
    row = valid_row("visits", vid, h.unit_id)
    names = table("visits").column_names()
    g = names.index("gift_yuan")
    row[g] = 100.0
    h.server_exec(f"INSERT INTO visits ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", tuple(row))
    h.server_exec("UPDATE visits SET gift_yuan = 200.0 WHERE id = ?", (vid,))
    old: list[object] = [UNDEFINED] * len(names)
    new: list[object] = [UNDEFINED] * len(names)
    old[0], old[g], new[g] = vid, 100.0, math.inf
    tally = Tally()
    run_case(h, changeset("visits", update(old, new)), tally)
    assert sum(tally.outcomes.values()) == 1


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_an_infinite_real_is_quarantined_not_stored(h: Harness, value: float) -> None:
    """Found by the hostile-values fuzz: ``gift_yuan >= 0`` lets +inf into the table, but the registry
    says finite; the scan refuses the changeset before anything is applied."""
    row = valid_row("visits", uid(95), h.unit_id)
    row[table("visits").column_names().index("gift_yuan")] = value
    tally = Tally()
    run_case(h, changeset("visits", insert(row)), tally)
    assert tally.outcomes == {"quarantined": 1}
    assert h.one("SELECT reason_code FROM quarantine ORDER BY id DESC LIMIT 1") == ("invalid_value",)
    assert h.one("SELECT count(*) FROM visits WHERE id = ?", (uid(95),)) == (0,)


@pytest.mark.parametrize("created_at", [2**62, 2**63 - 1, 253402300800, -(2**63)])
def test_absurd_capture_time_gets_a_receipt(h: Harness, created_at: int) -> None:
    """The envelope's created_at is a signed i64; any value must give a receipt, not a crash."""
    h.seq += 1
    data = env.seal(changeset("contacts", insert(valid_row("contacts", uid(91 + h.seq), h.unit_id))),
                    kind=env.KIND_UPLOAD, device_id=h.device_id, seq=h.seq, cursor=0, schema_version=SCHEMA_VERSION,
                    now=created_at, signing_key=h.device_keys.sign_key, recipient=h.server_keys.box_public)
    receipt = h.receive(data)
    assert receipt.status == "applied"
    (captured,) = h.one("SELECT captured_at FROM uploads ORDER BY id DESC LIMIT 1") or (None,)
    assert datetime.fromisoformat(str(captured)).year in (1970, 9999)  # clamped into what SQLite dates hold


@pytest.mark.parametrize("seq", [2**63 - 1, 2**63, 2**64 - 1])
def test_absurd_sequence_number_is_a_gap_not_a_crash(h: Harness, seq: int) -> None:
    with pytest.raises(SequenceConflict) as e:
        h.upload(changeset("contacts", insert(valid_row("contacts", uid(95), h.unit_id))), seq=seq)
    assert e.value.code == "sequence_gap" and e.value.expected_seq == 1
    assert h.one("SELECT count(*) FROM contacts WHERE id = ?", (uid(95),)) == (0,)


def test_values_the_registry_accepts_are_stored_exactly(h: Harness) -> None:
    """Hostile-looking but valid text (quotes, NUL, SQL, emoji, 70 kB) is data, stored byte for byte."""
    tally = Tally()
    for i, text in enumerate(["'; DROP TABLE retirees; --", "a\x00b", "😀👨‍👩‍👧‍👦", "\u202e", "x" * 70_000,
                              "Robert'); DELETE FROM ledger; --"]):
        row = valid_row("contacts", uid(300 + i), h.unit_id)
        row[table("contacts").column_names().index("notes")] = text
        run_case(h, changeset("contacts", insert(row)), tally)
        assert h.one("SELECT notes FROM contacts WHERE id = ?", (uid(300 + i),)) == (text,)
    assert tally.outcomes == {"applied": 6}


def test_an_id_of_36_dashes_is_refused(h: Harness) -> None:
    row = valid_row("retirees", uid(98), h.unit_id)
    receipt = h.upload(changeset("retirees", insert(["-" * 36, *row[1:]])))
    assert receipt.status == "quarantined"
