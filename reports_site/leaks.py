"""Can a reader recover a suppressed cell? Two independent attacks, both run on every build.

The reader knows every published count, that each count equals the sum of its parts and the sum over
sub-units (:class:`System`), that "<10" means 1–9 and that a cell hidden to protect others ("×") is
at least 10, and that a part never exceeds its whole.

* **Linear algebra** (:func:`determined`): a suppressed cell is recoverable when the equations alone
  pin it, i.e. when every solution of the homogeneous system is zero there. We eliminate over
  GF(2^61-1) in a bottom-up order (sub-units first keeps fill-in small), draw one random null-space
  vector and report the cells where it is zero. A cell that really is undetermined comes out zero
  with probability 2^-61, which can only make us suppress more, never less.
* **Bounds** (:func:`pinned`): interval propagation over the same equations with the reader's
  bounds; a cell whose lower and upper bounds meet is recovered.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from reports_site.errors import DisclosureError

P = (1 << 61) - 1
INF = 1 << 62
REAL = 1 << 50
"""Bounds beyond this are treated as unbounded (no real count gets near it)."""
MAX_UPDATES = 2_000_000

V = TypeVar("V", bound=Hashable)


@dataclass(frozen=True)
class Reduced(Generic[V]):
    """The equations restricted to suppressed cells: sum(sign * x) == const, and x_small <= x_big."""

    equations: list[tuple[list[tuple[V, int]], int]]
    at_most: list[tuple[V | int, V | int]]
    """(part, whole) pairs; an ``int`` side is a published value."""
    order: list[V]
    """Every suppressed cell, in elimination order (deepest units first)."""


def determined(system: Reduced[V], rng: random.Random) -> set[V]:
    """Suppressed cells whose value the equations fix (see the module docstring)."""
    index = {v: i for i, v in enumerate(system.order)}
    rows: list[dict[int, int]] = []
    col: dict[int, set[int]] = {}
    for terms, _ in system.equations:
        row: dict[int, int] = {}
        for v, s in terms:
            i = index[v]
            row[i] = (row.get(i, 0) + s) % P
        row = {k: c for k, c in row.items() if c}
        if row:
            for k in row:
                col.setdefault(k, set()).add(len(rows))
            rows.append(row)
    used: set[int] = set()
    pivot_row: dict[int, int] = {}
    for j in range(len(system.order)):
        cand = sorted(ri for ri in col.get(j, ()) if ri not in used)
        if not cand:
            continue
        pr = min(cand, key=lambda ri: len(rows[ri]))
        used.add(pr)
        pivot_row[j] = pr
        prow = rows[pr]
        inv = pow(prow[j], P - 2, P)
        for k in prow:
            prow[k] = prow[k] * inv % P
        for ri in cand:
            if ri == pr:
                continue
            row = rows[ri]
            f = row[j]
            for k, c in prow.items():
                nv = (row.get(k, 0) - f * c) % P
                if nv:
                    if k not in row:
                        col.setdefault(k, set()).add(ri)
                    row[k] = nv
                elif k in row:
                    del row[k]
                    col[k].discard(ri)
    x = [0] * len(system.order)
    for j in range(len(system.order)):
        if j not in pivot_row:
            x[j] = rng.randrange(1, P)
    for j in range(len(system.order) - 1, -1, -1):
        if j in pivot_row:
            row = rows[pivot_row[j]]
            x[j] = -sum(c * x[k] for k, c in row.items() if k != j) % P
    return {system.order[j] for j in range(len(system.order)) if x[j] == 0}


def pinned(system: Reduced[V], lo: dict[V, int], hi: dict[V, int]) -> set[V]:
    """Suppressed cells whose reader's bounds (``lo``/``hi``) close to one value after propagation."""
    index = {v: i for i, v in enumerate(system.order)}
    low = [lo[v] for v in system.order]
    high = [hi[v] for v in system.order]
    eqs = [([index[v] for v, _ in terms], [s for _, s in terms], const) for terms, const in system.equations]
    rels = [(a if isinstance(a, int) else 0, -1 if isinstance(a, int) else index[a],
             b if isinstance(b, int) else 0, -1 if isinstance(b, int) else index[b])
            for a, b in system.at_most]
    n_eq = len(eqs)
    users: list[list[int]] = [[] for _ in system.order]
    for i, (xs, _, _) in enumerate(eqs):
        for x in xs:
            users[x].append(i)
    for r, (_, a, _, b) in enumerate(rels):
        for x in (a, b):
            if x >= 0:
                users[x].append(n_eq + r)
    queue: deque[int] = deque(range(n_eq + len(rels)))
    queued = [True] * (n_eq + len(rels))
    updates = 0

    def tighten(x: int, new_lo: int, new_hi: int) -> None:
        nonlocal updates
        changed = False
        if new_lo > low[x] and -REAL < new_lo <= REAL:
            low[x] = new_lo
            changed = True
        if new_hi < high[x] and -REAL <= new_hi < REAL:
            high[x] = new_hi
            changed = True
        if changed:
            updates += 1
            if updates > MAX_UPDATES:
                raise DisclosureError("the bounds check did not settle; refusing to publish")
            for j in users[x]:
                if not queued[j]:
                    queued[j] = True
                    queue.append(j)

    while queue:
        i = queue.popleft()
        queued[i] = False
        if i >= n_eq:
            a_val, a, b_val, b = rels[i - n_eq]
            if a >= 0:
                tighten(a, -INF, b_val if b < 0 else high[b])
            if b >= 0:
                tighten(b, a_val if a < 0 else low[a], INF)
            continue
        xs, signs, const = eqs[i]
        mins = [low[x] if s > 0 else -high[x] for x, s in zip(xs, signs, strict=True)]
        maxs = [high[x] if s > 0 else -low[x] for x, s in zip(xs, signs, strict=True)]
        tmin, tmax = sum(mins), sum(maxs)
        for x, s, mn, mx in zip(xs, signs, mins, maxs, strict=True):
            lo_x = const - (tmax - mx)
            hi_x = const - (tmin - mn)
            if s > 0:
                if lo_x > low[x] or hi_x < high[x]:
                    tighten(x, lo_x, hi_x)
            elif -hi_x > low[x] or -lo_x < high[x]:
                tighten(x, -hi_x, -lo_x)
    return {v for v, a, b in zip(system.order, low, high, strict=True) if a == b}


def reduce(equations: Sequence[Sequence[tuple[V, int]]], at_most: Sequence[tuple[V, V]], value: dict[V, int],
           hidden: set[V], order_key: Mapping[V, tuple[int, ...]]) -> Reduced[V]:
    """Substitute the published cells into ``equations`` (each ``sum(sign * cell) == 0``)."""
    eqs: list[tuple[list[tuple[V, int]], int]] = []
    for eq in equations:
        terms = [(c, s) for c, s in eq if c in hidden]
        if terms:
            eqs.append((terms, -sum(s * value.get(c, 0) for c, s in eq if c not in hidden)))
    rels: list[tuple[V | int, V | int]] = []
    for a, b in at_most:
        if a in hidden or b in hidden:
            rels.append((a if a in hidden else value.get(a, 0), b if b in hidden else value.get(b, 0)))
    return Reduced(eqs, rels, sorted(hidden, key=lambda c: order_key[c]))
