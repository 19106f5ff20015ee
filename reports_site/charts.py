"""Trend charts as SVG, drawn by matplotlib with text kept as text.

Every unit's chart shares its axes, ticks, Chinese labels and legend (the report months and the 0–100%
scale are the same on every page), so :class:`TrendCharts` draws that frame once per build and draws
each unit's lines on an identical, invisible set of axes; the two SVG layers are merged into one
standalone SVG per unit. Drawing the text once makes thousands of charts cheap (a few milliseconds each)
without changing what a chart shows.

Reproducible: a fixed ``svg.hashsalt`` (different per layer so ids never clash), no metadata (no
date, no creator URL), no DOCTYPE. matplotlib's global ``rcParams`` are only touched inside
``rc_context`` blocks, and no pyplot state is used.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from reports_site.period import Period

FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei", "Source Han Sans SC",
         "DejaVu Sans"]
_RC: dict[str, Any] = {"svg.fonttype": "none", "font.family": "sans-serif", "font.sans-serif": FONTS, "font.size": 9.0,
       "axes.unicode_minus": False, "path.simplify": False, "svg.image_inline": True}
_METADATA: dict[str, str | None] = {"Date": None, "Creator": None, "Format": None, "Type": None}
_SIZE = (6.4, 2.6)
_RECT = (0.085, 0.2, 0.895, 0.62)
COLORS = ("#3949ab", "#e65100", "#2e7d32")
MARKERS = ("o", "s", "^")
_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>\s*")
_SVG_OPEN = re.compile(r"<svg[^>]*>")
_STYLE_DEFS = re.compile(r"\s*<defs>\s*<style[^<]*</style>\s*</defs>")


@contextmanager
def _style(salt: str) -> Iterator[None]:
    rc: Any = {**_RC, "svg.hashsalt": salt}
    with matplotlib.rc_context(rc):
        yield


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_METADATA)
    return _DOCTYPE.sub("", buf.getvalue())


def _limits(ax: Axes, n: int) -> None:
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0.0, 1.04)


class TrendCharts:
    """Charts of several monthly rates (0–1) over the report's months, one standalone SVG per call."""

    def __init__(self, period: Period, series: Sequence[str]) -> None:
        if len(series) > len(COLORS):
            raise ValueError("too many series for one chart")
        self.months = period.months
        n = len(self.months)
        with _style("laogan-trend-frame"):
            frame = Figure(figsize=_SIZE)
            ax = frame.add_axes(_RECT)
            _limits(ax, n)
            ax.set_xticks(range(n), [f"{int(m[5:])}月" for m in self.months])
            ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0], ["0", "25%", "50%", "75%", "100%"])
            ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.set_xlabel(f"月份({period.year_zh})")
            handles = [Line2D([], [], color=c, marker=mk, markersize=4, linewidth=1.6, label=s)
                       for s, c, mk in zip(series, COLORS, MARKERS, strict=False)]
            frame.legend(handles=handles, loc="upper center", ncols=len(series), frameon=False,
                         bbox_to_anchor=(0.5, 1.0))
            self._frame = _svg(frame)
        with _style("laogan-trend-data"):
            self._fig = Figure(figsize=_SIZE)
            self._fig.patch.set_visible(False)
            self._fig.set_gid("trend-data")
            data_ax = self._fig.add_axes(_RECT)
            data_ax.set_gid("trend-data-axes")
            data_ax.set_axis_off()
            _limits(data_ax, n)
            self._lines = [data_ax.plot(range(n), [math.nan] * n, color=c, marker=mk, markersize=4,
                                        linewidth=1.6, gid=f"trend-series-{i + 1}")[0]
                           for i, (c, mk) in enumerate(zip(COLORS[:len(series)], MARKERS, strict=False))]

    def render(self, values: Sequence[Sequence[float | None]]) -> str:
        """One SVG: the frame plus these series (None where a month's value is not published)."""
        if len(values) != len(self._lines):
            raise ValueError("one list of values per series")
        with _style("laogan-trend-data"):
            for line, ys in zip(self._lines, values, strict=True):
                if len(ys) != len(self.months):
                    raise ValueError("one value per month")
                line.set_ydata([math.nan if y is None else y for y in ys])
            data = _svg(self._fig)
        start = _SVG_OPEN.search(data)
        end = data.rfind("</svg>")
        if start is None or end < 0:
            raise RuntimeError("unexpected SVG from matplotlib")
        inner = _STYLE_DEFS.sub("", data[start.end():end], count=1)
        cut = self._frame.rfind("</svg>")
        return self._frame[:cut] + inner.strip("\n") + "\n" + self._frame[cut:]
