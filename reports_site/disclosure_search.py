"""The third attack: an exact search over small groups of suppressed cells.

Interval propagation (:func:`reports_site.leaks.pinned`) looks at one equation at a time, so it misses
a count pinned by a combination of equations. Example: a township's row gives ``lixiu + county + section
= 2`` with county "<10", so ``lixiu + county <= 2``; the city's row gives ``lixiu + county + section =
11`` and the columns give ``lixiu(city) = lixiu(a)`` and ``county(city) = county(a)``; so ``section(city)
= 9 + section(a)``, and the "<10" of the city's section makes both 9 and 0. No single equation shows it.

The reader who tries every value does see it, so we do too where that is cheap: the suppressed cells
are split into connected groups (cells sharing an equation or a part-of-whole pair), and in every group
of at most :data:`MAX_CELLS` cells we look, for each cell, for a solution of the whole group (integers,
within the reader's bounds) where that cell differs from its true value. A cell with no such solution
is recovered. The search branches on one cell's range at a time and prunes with interval propagation;
a group that needs more than :data:`NODE_LIMIT` nodes is left to the other two attacks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from reports_site.leaks import INF, Reduced

V = TypeVar("V", bound=Hashable)

MAX_CELLS = 80
"""Groups of suppressed cells larger than this are not searched."""
NODE_LIMIT = 4_000
"""Search nodes per group before giving up on it (the group is then left to the other attacks)."""


class _Infeasible(Exception):
    pass


class _OutOfNodes(Exception):
    pass


@dataclass
class _Part(Generic[V]):
    """One group: its cells, and the equations and part-of-whole pairs among them."""

    cells: list[V]
    equations: list[tuple[list[tuple[V, int]], int]]
    at_most: list[tuple[V | int, V | int]]


def groups(system: Reduced[V]) -> list[_Part[V]]:
    """The suppressed cells, split into groups tied by an equation or a part-of-whole pair."""
    parent: dict[V, V] = {v: v for v in system.order}

    def find(v: V) -> V:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    def union(tied: list[V]) -> None:
        roots = {find(v) for v in tied}
        if len(roots) > 1:
            first, *rest = roots
            for r in rest:
                parent[r] = first

    for terms, _ in system.equations:
        union([v for v, _ in terms])
    for a, b in system.at_most:
        union([x for x in (a, b) if not isinstance(x, int)])
    out: dict[V, _Part[V]] = {}
    for v in system.order:
        out.setdefault(find(v), _Part([], [], [])).cells.append(v)
    for terms, const in system.equations:
        out[find(terms[0][0])].equations.append((terms, const))
    for a, b in system.at_most:
        cell = b if isinstance(a, int) else a
        if not isinstance(cell, int):
            out[find(cell)].at_most.append((a, b))
    return list(out.values())


class _Group(Generic[V]):
    """One group's equations and bounds, with propagation that can be undone (a trail of old bounds)."""

    def __init__(self, part: _Part[V], lo: Mapping[V, int], hi: Mapping[V, int]) -> None:
        cells = part.cells
        index = {v: i for i, v in enumerate(cells)}
        self.n = len(cells)
        self.low = [lo[v] for v in cells]
        self.high = [hi[v] for v in cells]
        self.eqs: list[tuple[list[int], list[int], int]] = []
        for terms, const in part.equations:
            self.eqs.append(([index[v] for v, _ in terms], [s for _, s in terms], const))
        self.rels: list[tuple[int, int, int, int]] = []  # (a value, a index or -1, b value, b index or -1)
        for a, b in part.at_most:
            ia = -1 if isinstance(a, int) else index[a]
            ib = -1 if isinstance(b, int) else index[b]
            self.rels.append((a if isinstance(a, int) else 0, ia, b if isinstance(b, int) else 0, ib))
        n_eq = len(self.eqs)
        self.users: list[list[int]] = [[] for _ in cells]
        for i, (xs, _, _) in enumerate(self.eqs):
            for x in xs:
                self.users[x].append(i)
        for r, (_, a, _, b) in enumerate(self.rels):
            for x in (a, b):
                if x >= 0:
                    self.users[x].append(n_eq + r)
        self.trail: list[tuple[int, int, int]] = []
        self.nodes = 0

    def _set(self, x: int, new_lo: int, new_hi: int, queue: list[int], queued: set[int]) -> None:
        lo, hi = self.low[x], self.high[x]
        new_lo, new_hi = max(lo, new_lo), min(hi, new_hi)
        if new_lo > new_hi:
            raise _Infeasible
        if (new_lo, new_hi) != (lo, hi):
            self.trail.append((x, lo, hi))
            self.low[x], self.high[x] = new_lo, new_hi
            for j in self.users[x]:
                if j not in queued:
                    queued.add(j)
                    queue.append(j)

    def restrict(self, x: int, new_lo: int, new_hi: int) -> None:
        """Narrow ``x`` to ``[new_lo, new_hi]`` and propagate; raises :class:`_Infeasible`."""
        queue: list[int] = []
        queued: set[int] = set()
        self._set(x, new_lo, new_hi, queue, queued)
        self._propagate(queue, queued)

    def propagate_all(self) -> None:
        queue = list(range(len(self.eqs) + len(self.rels)))
        self._propagate(queue, set(queue))

    def _propagate(self, queue: list[int], queued: set[int]) -> None:
        n_eq = len(self.eqs)
        low, high = self.low, self.high
        while queue:
            i = queue.pop()
            queued.discard(i)
            if i >= n_eq:
                a_val, a, b_val, b = self.rels[i - n_eq]
                if a >= 0:
                    self._set(a, 0, b_val if b < 0 else high[b], queue, queued)
                if b >= 0:
                    self._set(b, a_val if a < 0 else low[a], INF, queue, queued)
                continue
            xs, signs, const = self.eqs[i]
            # sum(s * x) == const; every cell is >= 0, only upper bounds may be infinite (INF)
            tmin = tmax = 0
            inf_min = inf_max = 0
            for x, s in zip(xs, signs, strict=True):
                if s > 0:
                    tmin += low[x]
                    if high[x] >= INF:
                        inf_max += 1
                    else:
                        tmax += high[x]
                else:
                    tmax -= low[x]
                    if high[x] >= INF:
                        inf_min += 1
                    else:
                        tmin -= high[x]
            if (not inf_min and const < tmin) or (not inf_max and const > tmax):
                raise _Infeasible
            if inf_min > 1 and inf_max > 1:
                continue
            for x, s in zip(xs, signs, strict=True):
                # s * x == const - rest, with rest in [tmin - own min, tmax - own max]
                own_inf_min = s < 0 and high[x] >= INF
                own_inf_max = s > 0 and high[x] >= INF
                rest_inf_min = inf_min - own_inf_min > 0
                rest_inf_max = inf_max - own_inf_max > 0
                own_min = 0 if own_inf_min else (low[x] if s > 0 else -high[x])
                own_max = 0 if own_inf_max else (high[x] if s > 0 else -low[x])
                sx_lo = None if rest_inf_max else const - (tmax - own_max)
                sx_hi = None if rest_inf_min else const - (tmin - own_min)
                if s > 0:
                    new_lo = low[x] if sx_lo is None else sx_lo
                    new_hi = INF if sx_hi is None else sx_hi
                else:
                    new_lo = low[x] if sx_hi is None else -sx_hi
                    new_hi = INF if sx_lo is None else -sx_lo
                if new_lo > low[x] or new_hi < high[x]:
                    self._set(x, new_lo, new_hi, queue, queued)

    def undo(self, mark: int) -> None:
        while len(self.trail) > mark:
            x, lo, hi = self.trail.pop()
            self.low[x], self.high[x] = lo, hi

    def solve(self, hint: list[int]) -> list[int] | None:
        """A solution within the current bounds (values near ``hint`` first), or None if there is none."""
        self.nodes += 1
        if self.nodes > NODE_LIMIT:
            raise _OutOfNodes
        free = [x for x in range(self.n) if self.low[x] < self.high[x]]
        if not free:
            return list(self.low)
        x = min(free, key=lambda k: (self.high[k] - self.low[k], k))
        lo, hi, v = self.low[x], self.high[x], hint[x]
        if lo <= v <= hi:
            parts = [(v, v), (lo, v - 1), (v + 1, hi)]
        else:
            mid = lo if hi >= INF else (lo + hi) // 2
            parts = [(lo, mid), (mid + 1, hi)]
        for a, b in parts:
            found = self.solve_within(x, a, b, hint)
            if found is not None:
                return found
        return None

    def solve_within(self, x: int, a: int, b: int, hint: list[int]) -> list[int] | None:
        """A solution with cell ``x`` in ``a`` … ``b`` (None if there is none, or the range is empty); the
        bounds are left as they were."""
        if a > b:
            return None
        mark = len(self.trail)
        try:
            self.restrict(x, a, b)
            return self.solve(hint)
        except _Infeasible:
            return None
        finally:
            self.undo(mark)


def searched(system: Reduced[V], lo: Mapping[V, int], hi: Mapping[V, int], value: Mapping[V, int],
             cache: dict[tuple[tuple[V, int, int], ...], frozenset[V]] | None = None) -> set[V]:
    """Suppressed cells in small groups that only one integer solution value fits (see the module
    docstring). ``value`` holds the true counts (one solution). ``cache`` may keep answers between calls:
    a group's answer depends only on its cells and their bounds (the equations belong to the model)."""
    found: set[V] = set()
    for part in groups(system):
        if len(part.cells) > MAX_CELLS:
            continue
        key = tuple((v, lo[v], hi[v]) for v in part.cells)
        if cache is not None and key in cache:
            found.update(cache[key])
            continue
        out = _search_group(part, lo, hi, value)
        if cache is not None:
            cache[key] = frozenset(out)
        found.update(out)
    return found


def _search_group(part: _Part[V], lo: Mapping[V, int], hi: Mapping[V, int], value: Mapping[V, int]) -> set[V]:
    cells = part.cells
    g = _Group(part, lo, hi)
    truth = [value[v] for v in cells]
    try:
        g.propagate_all()
    except _Infeasible:  # cannot happen with the true counts inside the bounds; report nothing new
        return set()
    seen: list[set[int]] = [{t} for t in truth]
    hint = truth  # the last solution found: searching near it spreads the values seen faster
    out: set[V] = set()
    for x in range(g.n):
        if len(seen[x]) > 1:
            continue
        other = None
        try:
            for a, b in ((g.low[x], truth[x] - 1), (truth[x] + 1, g.high[x])):
                other = g.solve_within(x, a, b, hint)
                if other is not None:
                    break
        except _OutOfNodes:
            return out  # too big to search: what was found stays found, the rest is left to the others
        if other is None:
            out.add(cells[x])
        else:
            hint = other
            for k, val in enumerate(other):
                seen[k].add(val)
    return out
