"""The ``laogan seed-data`` command's work: progress on stderr, the file, the summary on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from server.db import open_reader
from server.seeddata.generate import GenerateStats, generate
from server.seeddata.summary import format_summary, summarise


class StderrProgress:
    """A one-line-per-step progress report (``stage done/total``), throttled to one line a second."""

    def __init__(self, out: TextIO = sys.stderr, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self._last = -1.0
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage == self._stage and done not in (0, total) and now - self._last < 1.0:
            return
        self._stage, self._last = stage, now
        width = 30
        filled = width * done // total if total else width
        print(f"生成 generating {stage} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
              file=self.out, flush=True)


def run(profile: str, seed: int, out: Path) -> tuple[GenerateStats, str]:
    """Generate ``out`` and return the stats and the printable summary.

    Raises :class:`FileExistsError` if ``out`` exists.
    """
    stats = generate(out, profile, seed, progress=StderrProgress())
    conn = open_reader(out)
    try:
        entries = summarise(conn)
    finally:
        conn.close()
    extra = (("写入 行/秒 insert rows per second", int(stats.insert_rows_per_second)),
             ("总行数 total rows", stats.total_rows))
    text = format_summary(entries, seconds=stats.seconds, rows_per_second=stats.rows_per_second, extra=extra)
    return stats, text
