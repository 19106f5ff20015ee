"""How one published number is written: counts, rates, ratios and medians, with suppression applied."""

from __future__ import annotations

from dataclasses import dataclass

from reports_site.definitions import MIN_COUNT, RATE_BY_KEY, TRENDS
from reports_site.disclosure import PRIMARY, Disclosure
from reports_site.indicators import Values, median

SMALL = "<10"
HIDDEN = "×"
NONE = "—"
LEGEND = (f"“{SMALL}”表示1至9;“{HIDDEN}”表示为防止由合计推算而隐藏的数(可以是任何数,包括0);"
          f"“{NONE}”表示分母不足10或所依据的数已隐藏,不计算。")


@dataclass(frozen=True)
class UnitNumbers:
    """One unit's values as they may be published."""

    unit: str
    values: Values
    disclosure: Disclosure

    def count(self, name: str) -> str:
        status = self.disclosure.of(name, self.unit)
        if status is None:
            return str(self.values.get(name))
        return SMALL if status == PRIMARY else HIDDEN

    def count_value(self, name: str) -> int | None:
        return None if self.disclosure.of(name, self.unit) else self.values.get(name)

    def rate_value(self, key: str) -> float | None:
        """The rate (0–1), ratio or median of ``key``, or None when it may not be shown."""
        rate = RATE_BY_KEY[key]
        if rate.kind == "median":
            xs = self.values.samples.get(key, [])
            if not self.disclosure.shows_rate(rate, self.unit, len(xs)):
                return None
            return median(xs)
        num, den = self.values.pair(key)
        if not self.disclosure.shows_rate(rate, self.unit, den):
            return None
        return num / den

    def rate(self, key: str) -> str:
        x = self.rate_value(key)
        if x is None:
            return NONE
        kind = RATE_BY_KEY[key].kind
        if kind == "rate":
            return f"{100 * x:.1f}%"
        if kind == "median":
            return f"{x:g} 天"
        return f"{x:.1f}"

    def trend(self, key: str, months: int) -> list[float | None]:
        """Per month: the rate, or None where the denominator is under 10 (or, for the report month, where
        the rate itself is withheld)."""
        tdef = next(t for t in TRENDS if t.key == key)
        rate = RATE_BY_KEY[tdef.rate]
        series = self.values.trends.get(key) or [[0, 0] for _ in range(months)]
        out: list[float | None] = []
        for i, (num, den) in enumerate(series):
            last = i == len(series) - 1
            ok = self.disclosure.shows_rate(rate, self.unit, den) if last and key == rate.key else den >= MIN_COUNT
            out.append(num / den if ok else None)
        return out


def pct(x: float | None) -> str:
    return NONE if x is None else f"{100 * x:.1f}%"
