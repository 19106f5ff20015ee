"""Small-cell suppression: what may be shown, and what must be hidden so nothing hidden can be recovered.

Rules (stated on the methodology page, and enforced here on every build):

1. A count from 1 to 9 is suppressed (primary, shown "<10"); zeros and counts of 10 or more are shown.
2. Complementary suppression (shown "×"): more cells are hidden until no suppressed count can be
   recovered from row totals, sums over sub-units (including the derivable "本级" remainder) or
   part-of-whole bounds. A "×" may stand for any count, 0 included, so the reader learns nothing from
   the mark itself; it is used for a hidden zero or larger count, and for a 1–9 count whose "<10" would
   let the reader pin it (1 + 1 = 2, nine ones under a parent of 9). Both attacks of
   :mod:`reports_site.leaks` decide what is recoverable, and for small groups of hidden cells the
   exact search of :mod:`reports_site.disclosure_search` (what several equations pin together).
3. A rate, ratio or median is shown only when its denominator is at least 10 and none of the published
   counts it is made of is hidden (see :attr:`RateDef.linked`).

:meth:`Model.protect` decides (its last round is the full check); :meth:`Model.check` runs both
attacks again on the result and raises :class:`DisclosureError` if anything can be recovered, which
fails the build.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reports_site.definitions import AT_MOST, COUNTS, MIN_COUNT, SUMS, TOP_ONLY, RateDef
from reports_site.disclosure_search import searched
from reports_site.errors import DisclosureError
from reports_site.indicators import Values
from reports_site.leaks import INF, determined, pinned, reduce
from reports_site.units import UnitTree

Cell = tuple[str, str]
"""(count name, unit key)."""
PRIMARY = "primary"
SECONDARY = "secondary"


@dataclass(frozen=True)
class Disclosure:
    """The suppressed cells: cell → :data:`PRIMARY` or :data:`SECONDARY`."""

    status: dict[Cell, str]

    def of(self, name: str, unit: str) -> str | None:
        return self.status.get((name, unit))

    def shows_rate(self, rate: RateDef, unit: str, den: int) -> bool:
        if den < MIN_COUNT:
            return False
        return not any((c, unit) in self.status for c in rate.linked)


class Model:
    """Every count cell of every unit, the equations that tie them, and the suppression algorithm."""

    def __init__(self, tree: UnitTree, values: dict[str, Values], names: Iterable[str] | None = None) -> None:
        names = tuple(c.name for c in COUNTS) if names is None else tuple(names)
        order = {k: i for i, k in enumerate(tree.order)}
        self.value: dict[Cell, int] = {}
        self.order_key: dict[Cell, tuple[int, int, int]] = {}
        for u in tree.order:
            depth = tree.units[u].depth
            for j, n in enumerate(names):
                if u == tree.root or n not in TOP_ONLY:
                    self.value[(n, u)] = values[u].get(n)
                    self.order_key[(n, u)] = (-depth, order[u], j)
        self.equations: list[list[tuple[Cell, int]]] = []
        for u, kids in tree.children.items():
            for n in names:
                if n not in TOP_ONLY:
                    self.equations.append([((n, u), 1), *(((n, k), -1) for k in kids)])
        for u in tree.order:
            for total, parts in SUMS:
                if all((x, u) in self.value for x in (total, *parts)):
                    self.equations.append([((total, u), 1), *(((p, u), -1) for p in parts)])
        self.at_most = [((a, u), (b, u)) for u in tree.order for a, b in AT_MOST
                        if (a, u) in self.value and (b, u) in self.value]
        self.eqs_of: dict[Cell, list[int]] = {}
        for i, eq in enumerate(self.equations):
            for c, _ in eq:
                self.eqs_of.setdefault(c, []).append(i)
        self.rels_of: dict[Cell, list[Cell]] = {}
        for a, b in self.at_most:
            self.rels_of.setdefault(a, []).append(b)
            self.rels_of.setdefault(b, []).append(a)
        self._searched: dict[tuple[tuple[Cell, int, int], ...], frozenset[Cell]] = {}
        """Answers of the exact search per group of hidden cells (they depend on nothing else)."""

    # -- the attacks -------------------------------------------------------------------------------

    def leaks(self, status: dict[Cell, str], *, seed: int) -> set[Cell]:
        """Suppressed cells a reader can recover: by bounds, or if none by linear algebra."""
        return self._leaks_in(range(len(self.equations)), self.at_most, status, seed)

    def _leaks_in(self, eq_ids: Iterable[int], rels: Iterable[tuple[Cell, Cell]], status: dict[Cell, str],
                  seed: int) -> set[Cell]:
        eqs = [self.equations[i] for i in eq_ids]
        hidden = {c for eq in eqs for c, _ in eq if c in status}
        rels = [(a, b) for a, b in rels if a in status or b in status]
        hidden.update(c for rel in rels for c in rel if c in status)
        if not hidden:
            return set()
        red = reduce(eqs, rels, self.value, hidden, self.order_key)
        lo: dict[Cell, int] = {}
        hi: dict[Cell, int] = {}
        for c in hidden:
            lo[c], hi[c] = _bounds(status, c)
        return (pinned(red, lo, hi) or determined(red, random.Random(seed))
                or searched(red, lo, hi, self.value, self._searched))

    def check(self, disclosure: Disclosure, *, seed: int = 1) -> None:
        """Raise :class:`DisclosureError` if a 1–9 count is shown or a suppressed cell can be recovered."""
        small = sorted(c for c, v in self.value.items() if 0 < v < MIN_COUNT and c not in disclosure.status)
        if small:
            raise DisclosureError(f"{len(small)} counts between 1 and 9 would be shown, e.g. {small[0]}")
        found = self.leaks(dict(disclosure.status), seed=seed)
        if found:
            first = min(found, key=lambda c: self.order_key[c])
            raise DisclosureError(f"{len(found)} suppressed counts could be recovered, e.g. {first[0]}"
                                  f" of unit {first[1]}")

    # -- the defence -------------------------------------------------------------------------------

    def _exposed(self, eq: list[tuple[Cell, int]], status: dict[Cell, str]) -> bool:
        """One hidden cell, or every hidden cell at the end of its range the total forces (1+1=2, 9+9=18)."""
        hidden = [(c, s) for c, s in eq if c in status]
        if not hidden:
            return False
        if len(hidden) == 1:
            return True
        at_low = at_high = True
        for c, s in hidden:
            lo, hi = _bounds(status, c)
            v = self.value[c]
            at_low = at_low and v == (lo if s > 0 else hi)
            at_high = at_high and v == (hi if s > 0 else lo)
        return at_low or at_high

    def _cheapest(self, cells: Iterable[Cell], status: dict[Cell, str],
                  prefer: Callable[[Cell], int]) -> list[Cell]:
        """Shown counts among ``cells`` (0 or >= 10), preferred ones first, then smallest first."""
        pool = {c for c in cells if c not in status}
        return sorted(pool, key=lambda c: (prefer(c), self.value[c], self.order_key[c]))

    def _fix_equation(self, eq: list[tuple[Cell, int]], status: dict[Cell, str]) -> Cell | None:
        """Make ``eq`` unexposed with one change: switch a "<10" cell to "×" (nothing new is hidden,
        the reader only loses the 1–9 range), or else hide the smallest shown count — a part before the
        total, so the totals people look for first stay visible. Returns the cell changed."""
        for c in sorted((c for c, _ in eq if status.get(c) == PRIMARY),
                        key=lambda c: (-self.value[c], self.order_key[c])):
            status[c] = SECONDARY
            if not self._exposed(eq, status):
                return c
            status[c] = PRIMARY
        sign = dict(eq)
        for c in self._cheapest((c for c, _ in eq), status, lambda c: sign[c] > 0):
            status[c] = SECONDARY
            if not self._exposed(eq, status):
                return c
            del status[c]
        return None

    def _close_local(self, status: dict[Cell, str], start: Iterable[int]) -> None:
        """Fix every exposed equation (the cheap, common case; the full attacks find the rest)."""
        work = sorted(set(start))
        pending = set(work)
        while work:
            i = work.pop()
            pending.discard(i)
            eq = self.equations[i]
            if not self._exposed(eq, status):
                continue
            changed = self._fix_equation(eq, status)
            if changed is None:
                continue
            for j in self.eqs_of[changed]:
                if j not in pending:
                    pending.add(j)
                    work.append(j)

    def _fix_leak(self, r: Cell, status: dict[Cell, str]) -> Cell | None:
        """Change one cell so the leak of ``r`` can go away. A "<10" cell first becomes "×" (no bounds
        for the reader; nothing new is hidden). Otherwise hide a shown count from its equations
        or part-of-whole partners, or up to three equations further out: the one fewest levels above
        ``r`` (so the totals people look for first stay visible), then the nearest, then the smallest;
        failing that, switch a "<10" cell next to it to "×"."""
        if status[r] == PRIMARY:  # showing "×" instead of "<10" hides nothing new and lifts the 1–9 range
            status[r] = SECONDARY
            return r
        level = self.order_key[r][0]

        def gap(c: Cell) -> int:  # levels above r (order keys hold minus the depth)
            return max(0, self.order_key[c][0] - level)

        seen = set(self.eqs_of.get(r, []))
        frontier = sorted(seen)
        best: tuple[int, int, int, Cell] | None = None
        cells = [c for i in frontier for c, _ in self.equations[i]] + self.rels_of.get(r, [])
        for step in range(4):  # r's own equations, then one equation further out through hidden cells
            for c in self._cheapest(cells, status, gap)[:1]:
                if best is None or (gap(c), step, self.value[c]) < best[:3]:
                    best = (gap(c), step, self.value[c], c)
            if (best is not None and best[0] == 0) or not frontier:
                break
            frontier = sorted({j for i in frontier for c, _ in self.equations[i] if c in status
                               for j in self.eqs_of[c] if j not in seen})
            seen.update(frontier)
            cells = [c for i in frontier for c, _ in self.equations[i]]
        if best is not None:
            status[best[3]] = SECONDARY
            return best[3]
        around = {c for i in self.eqs_of.get(r, []) for c, _ in self.equations[i] if status.get(c) == PRIMARY}
        for c in [r, *sorted(around - {r}, key=lambda c: self.order_key[c])]:
            if status.get(c) == PRIMARY:
                status[c] = SECONDARY
                return c
        return None

    def protect(self, *, seed: int = 0) -> Disclosure:
        """Primary and complementary suppression until neither attack recovers anything (so the last
        round is the full check)."""
        status: dict[Cell, str] = {c: PRIMARY for c, v in self.value.items() if 0 < v < MIN_COUNT}
        self._close_local(status, (i for c in status for i in self.eqs_of.get(c, ())))
        for _ in range(2 * len(self.value) + 2):
            found = self.leaks(status, seed=seed)
            if not found:
                return Disclosure(status)
            touched: set[int] = set()
            changed: list[Cell] = []
            for r in sorted(found, key=lambda c: self.order_key[c]):
                # one change per equation and round, except in long sums over many units (a city's
                # column of townships), where leaks far apart are fixed far apart
                if any(i in touched and len(self.equations[i]) <= SHORT for i in self.eqs_of.get(r, [])):
                    continue
                c = self._fix_leak(r, status)
                if c is not None:
                    touched.update(self.eqs_of[c])
                    changed.append(c)
            if not changed:
                first = min(found, key=lambda c: self.order_key[c])
                raise DisclosureError(f"cannot protect the hidden count {first[0]} of unit {first[1]}")
            self._close_local(status, (i for c in changed for i in self.eqs_of[c]))
        raise DisclosureError("complementary suppression did not converge")


SHORT = 12
"""Equations with at most this many cells get one change per round of :meth:`Model.protect`."""


def _bounds(status: dict[Cell, str], c: Cell) -> tuple[int, int]:
    """What a reader knows of a hidden cell: "<10" is 1–9; "×" is any count, 0 included."""
    return (1, MIN_COUNT - 1) if status[c] == PRIMARY else (0, INF)


def protect(tree: UnitTree, values: dict[str, Values], *, seed: int = 0) -> Disclosure:
    """Suppress every unit's counts (see the module docstring)."""
    return Model(tree, values).protect(seed=seed)


def check(tree: UnitTree, values: dict[str, Values], disclosure: Disclosure, *, seed: int = 1) -> None:
    """Raise :class:`DisclosureError` if anything suppressed in ``disclosure`` can be recovered."""
    Model(tree, values).check(disclosure, seed=seed)
