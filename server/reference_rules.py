"""Rules between rows that a foreign key cannot state, checked on an upload before anything is applied.

A foreign key says only that the referenced row exists; the scope check looks only at a row's own
unit. The party organisation and the three-musts notices need more (docs/architecture.md):

==========================  ===========================================================================
code                        rule (checked on the rows as the changeset leaves them)
==========================  ===========================================================================
``group_branch_unit``       a party group (``party_groups``) belongs to its branch's unit
``member_group_branch``     a membership's group (``party_members.group_id``) is a group of the
                            membership's own branch (``branch_id``)
``dual_branch_not_special`` a dual membership (``relation = 'dual'``, 双重管理) is in a special branch
                            (``kind = 'special'``, 特设党支部)
``notice_out_of_scope``     a delivery's notice (``three_musts.notice_id``) was issued by the row's unit
                            or a unit above it (notices are shared downwards only)
==========================  ===========================================================================

A row is checked when the changeset inserts it or changes one of the columns a rule reads (a group's
``unit_id``/``branch_id``, a membership's ``branch_id``/``relation``/``group_id``, a delivery's
``unit_id``/``notice_id``), and so are the rows that reference a row whose referenced columns the
changeset changes (the dual memberships of a branch that stops being special, the groups of a branch
that moves to another unit, the members of a group that moves to another branch). "As the changeset
leaves them": the server's row with the changeset's values over it, in changeset order, so a branch or
group inserted by the same changeset counts. A referenced row that exists nowhere is left to the
foreign-key check (``foreign_key``). Every lookup is by primary key or an indexed column, batched per
table; a changeset that touches none of these tables costs nothing here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import apsw

from schema.row_rules import ROW_RULES
from schema.tables import table as registry_table
from server.quarantine import Refusal

Row = dict[str, Any]
Change = tuple[str, str, tuple[Any, ...] | None, tuple[Any, ...] | None]
"""(table, op — insert, update or delete — old values, new values), as the plan met it."""

WATCHED: dict[str, frozenset[str]] = {
    "party_branches": frozenset({"unit_id", "kind"}),
    "party_groups": frozenset({"unit_id", "branch_id"}),
    "party_members": frozenset({"branch_id", "relation", "group_id"}),
    "three_musts": frozenset({"unit_id", "notice_id"}),
}
"""The tables whose changes the rules read, and the columns they read (besides ``id``)."""
_COLS: dict[str, tuple[str, ...]] = {name: ("id", *sorted(cols)) for name, cols in WATCHED.items()}
_COLS["notices"] = ("id", "unit_id")
_POS = {name: tuple((c, registry_table(name).column_names().index(c)) for c in cols)
        for name, cols in _COLS.items() if name in WATCHED}
_UP = ("WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT u.parent_id FROM units u JOIN up ON u.id = up.id"
       " WHERE u.parent_id IS NOT NULL) SELECT id FROM up")


def _sets_watched(ch: Change) -> bool:
    new = ch[3]
    return new is not None and any(i < len(new) and new[i] is not apsw.no_change
                                   for c, i in _POS[ch[0]] if c != "id")


class _State:
    """The watched rows as the changeset leaves them, over the server's rows (read lazily, batched)."""

    def __init__(self, conn: apsw.Connection, changes: list[Change]) -> None:
        self.conn = conn
        self.server: dict[str, dict[Any, Row | None]] = {name: {} for name in _COLS}
        self.final: dict[str, dict[Any, Row | None]] = {name: {} for name in WATCHED}
        self.dirty: dict[str, dict[Any, frozenset[str]]] = {name: {} for name in WATCHED}
        """Per table: the rows to check, with the watched columns the changeset set."""
        changes = [ch for ch in changes if ch[1] != "update" or _sets_watched(ch)]
        self.fetch({name: [old[0] for tname, op, old, _ in changes if tname == name and op == "update" and old]
                    for name in WATCHED})
        for tname, op, old, new in changes:
            self._overlay(tname, op, old, new)

    def _overlay(self, tname: str, op: str, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> None:
        final, dirty = self.final[tname], self.dirty[tname]
        if op == "delete":
            assert old is not None
            final[old[0]] = None
            dirty.pop(old[0], None)
            return
        assert new is not None
        if op == "insert":
            key = new[0]
            final[key] = {c: new[i] if i < len(new) else None for c, i in _POS[tname]}
            dirty[key] = WATCHED[tname]
            return
        assert old is not None
        key = old[0]
        base = final[key] if key in final else self.server[tname].get(key)
        if base is None:
            return  # not on the server: the apply records "edited after deletion"
        row = dict(base)
        changed = set()
        for c, i in _POS[tname]:
            v = new[i] if i < len(new) else apsw.no_change
            if v is not apsw.no_change and c != "id":
                row[c] = v
                changed.add(c)
        final[key] = row
        if changed:
            dirty[key] = dirty.get(key, frozenset()) | changed

    def fetch(self, wanted: dict[str, list[Any]]) -> None:
        """Read the server's rows of ``wanted`` not read yet: one query per table."""
        for name, keys in wanted.items():
            have = self.server[name]
            # only text can be a key here (a hostile value of another type matches nothing; the apply refuses it)
            todo = list({k for k in keys if k.__class__ is str and k not in have})
            if not todo:
                continue
            cols = ", ".join(f'"{c}"' for c in _COLS[name])
            for k in todo:
                have[k] = None
            for r in self.conn.execute(f'SELECT {cols} FROM "{name}" WHERE id IN (SELECT value FROM json_each(?))',
                                       (json.dumps(todo),)):
                have[r[0]] = dict(zip(_COLS[name], r, strict=True))

    def row(self, name: str, key: Any) -> Row | None:
        """The row as the changeset leaves it (``fetch`` first), None where there is none."""
        final = self.final.get(name, {})
        if key in final:
            return final[key]
        return self.server[name].get(key)

    def referencing(self, name: str, sql: str, key: Any, col: str) -> None:
        """Mark dirty the rows of ``name`` that reference ``key`` in ``col``: the server's (``sql``, an
        indexed lookup) and the changeset's."""
        dirty = self.dirty[name]
        for (k,) in self.conn.execute(sql, (key,)):
            dirty.setdefault(k, frozenset())
        for k, r in self.final[name].items():
            if r is not None and r[col] == key:
                dirty.setdefault(k, frozenset())


def check(conn: apsw.Connection, changes: list[Change]) -> None:
    """Raise :class:`Refusal` (see the module docstring for the codes) if a row the changeset writes, or
    a row referencing one it changes, breaks a rule; nothing is written either way."""
    if not changes:
        return
    s = _State(conn, changes)
    for key, cols in list(s.dirty["party_branches"].items()):
        if "kind" in cols:
            s.referencing("party_members", "SELECT id FROM party_members WHERE branch_id = ? AND relation = 'dual'",
                          key, "branch_id")
        if "unit_id" in cols:
            s.referencing("party_groups", "SELECT id FROM party_groups WHERE branch_id = ?", key, "branch_id")
    for key, cols in list(s.dirty["party_groups"].items()):
        if "branch_id" in cols:
            s.referencing("party_members", "SELECT id FROM party_members WHERE group_id = ?", key, "group_id")
    s.fetch({name: list(s.dirty[name]) for name in ("party_groups", "party_members")})
    groups = [(k, r) for k in s.dirty["party_groups"] if (r := s.row("party_groups", k)) is not None]
    members = [(k, r) for k in s.dirty["party_members"] if (r := s.row("party_members", k)) is not None]
    musts = [(k, r) for k in s.dirty["three_musts"] if (r := s.row("three_musts", k)) is not None
             and r["notice_id"] is not None]
    s.fetch({"party_groups": [r["group_id"] for _, r in members],
             "party_branches": [r["branch_id"] for _, r in groups]
             + [r["branch_id"] for _, r in members if r["relation"] == "dual"],
             "notices": [r["notice_id"] for _, r in musts]})
    for key, r in groups:
        branch = s.row("party_branches", r["branch_id"])
        if branch is not None and branch["unit_id"] != r["unit_id"]:
            raise Refusal("group_branch_unit", f"党小组 {key} 与所属支部 {r['branch_id']} 不属于同一单位",
                          f"party_groups row {key}: its branch {r['branch_id']} belongs to another unit"
                          " (a party group belongs to its branch's unit)")
    for key, r in members:
        group = s.row("party_groups", r["group_id"]) if r["group_id"] is not None else None
        if group is not None and group["branch_id"] != r["branch_id"]:
            raise Refusal("member_group_branch", f"党员记录 {key} 的党小组 {r['group_id']} 不属于其支部 {r['branch_id']}",
                          f"party_members row {key}: group {r['group_id']} is not a group of its branch"
                          f" {r['branch_id']}")
        branch = s.row("party_branches", r["branch_id"]) if r["relation"] == "dual" else None
        if branch is not None and branch["kind"] != "special":
            raise Refusal("dual_branch_not_special",
                          f"党员记录 {key} 为双重管理,但支部 {r['branch_id']} 不是特设党支部",
                          f"party_members row {key}: a dual membership must be in a special branch;"
                          f" branch {r['branch_id']} is not special")
    above: dict[Any, frozenset[Any]] = {}
    for key, r in musts:
        notice = s.row("notices", r["notice_id"])
        if notice is None:
            continue
        unit = r["unit_id"]
        if unit not in above:
            above[unit] = frozenset(u for (u,) in conn.execute(_UP, (unit,)))
        if notice["unit_id"] not in above[unit]:
            raise Refusal("notice_out_of_scope", f"三必须记录 {key} 的事项 {r['notice_id']} 不是本单位或上级单位下发的",
                          f"three_musts row {key}: notice {r['notice_id']} was not issued by the row's unit"
                          " or a unit above it")


def check_stored(conn: apsw.Connection, rows: Iterable[tuple[str, object]]) -> None:
    """Raise :class:`Refusal` if a row as now written — ``(table, id)``, e.g. the rows an upload's field merge
    wrote, which may keep the server's value of one column beside the tablet's of another — breaks a rule
    (:mod:`schema.row_rules`, the same queries the tablet runs)."""
    for name, key in rows:
        for code, _, sql in ROW_RULES.get(name, ()):
            if conn.execute(sql, (key,)).fetchone() is not None:
                raise Refusal(code, f"合并后的 {name} 记录 {key} 不符合数据之间的对应关系({code})",
                              f"the {name} row {key} as merged breaks the rule {code}")
