"""``python -m tests.bench [--quick] [--only NAME ...] [--update-doc]``: run the benchmarks, print a table.

Benchmarks (``--only`` takes these names, repeatable or comma-separated):

  changeset  one 100k-row changeset through the whole path vs raw apply; server peak RSS
  uploads    20-row uploads from 100 concurrent tablets (wrk) vs the server's /v1/health
  pull       incremental pull of 10 changed rows, province DB vs county DB
  tablet     tablet writes through TabletStore vs raw apsw writes
  reports    the report site (reports_site.bench) vs a bare mkdocs build
  audit      every canned auditor query on the province DB (server.audit.bench)

Generated databases are cached under var/bench/ (a province takes minutes the first time).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from tests.bench.common import CACHE, REPO, Ctx, Result, machine

BENCHMARKS: dict[str, str] = {
    "changeset": "tests.bench.changeset_path",
    "uploads": "tests.bench.upload_load",
    "pull": "tests.bench.pull_scaling",
    "tablet": "tests.bench.tablet_writes",
    "reports": "tests.bench.report_site",
    "audit": "tests.bench.audit_queries",
}
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"


def _num(v: float | None) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def rows_of(results: list[Result]) -> list[tuple[str, ...]]:
    return [(r.name, f"{_num(r.value)} {r.unit}".strip(), f"{_num(r.baseline)} {r.baseline_unit}".strip()
             if r.baseline is not None else "—", f"{r.ratio:.3g}" if r.ratio is not None else "—",
             r.target or "—", r.verdict, r.note) for r in results]


HEAD = ("benchmark", "value", "baseline", "ratio", "target", "result", "note")


def text_table(results: list[Result]) -> str:
    rows = [HEAD, *rows_of(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEAD) - 1)]
    lines = []
    for j, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
        if j == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def markdown(results: list[Result], info: dict[str, str], seconds: float, quick: bool) -> str:
    out = [f"Run: `python -m tests.bench{' --quick' if quick else ''}`, {time.strftime('%Y-%m-%d')}, "
           f"{seconds:.0f} s in all.", "",
           "| machine | |", "|---|---|", *[f"| {k} | {v} |" for k, v in info.items()], "",
           "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows_of(results)]
    return "\n".join(out)


def update_doc(md: str, extra: dict[str, object]) -> None:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} has no {BEGIN} … {END} markers")
    details = "```json\n" + json.dumps(extra, ensure_ascii=False, indent=1, default=str) + "\n```"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{md}\n\nDetails of this run:\n\n{details}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs (minutes, not tens)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help=f"run only these ({', '.join(BENCHMARKS)}); repeatable or comma-separated")
    p.add_argument("--regenerate", action="store_true", help="rebuild the cached databases in var/bench/")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (server logs, databases)")
    p.add_argument("--update-doc", action="store_true",
                   help="write the table and machine into docs/benchmarks.md between its result markers")
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = p.parse_args(argv)
    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in only if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="laogan-bench-", dir=CACHE))
    echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    ctx = Ctx(quick=args.quick, tmp=tmp, echo=echo, regenerate=args.regenerate)
    info = machine()
    echo("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    results: list[Result] = []
    t0 = time.perf_counter()
    failed = False
    try:
        for name in only:
            echo(f"[{name}]")
            t = time.perf_counter()
            try:
                mod = importlib.import_module(BENCHMARKS[name])
                got: list[Result] = mod.run(ctx)
            except Exception as exc:  # one broken benchmark must not hide the others
                traceback.print_exc()
                failed = True
                got = [Result(name, None, "", note=f"error: {type(exc).__name__}: {exc}"[:200])]
            results.extend(got)
            echo(f"  ({time.perf_counter() - t:.0f} s)")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            echo(f"scratch kept in {tmp}")
    seconds = time.perf_counter() - t0
    print(text_table(results))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": [r.__dict__ for r in results],
                                         "details": ctx.extra}, ensure_ascii=False, indent=1, default=str))
    if args.update_doc:
        update_doc(markdown(results, info, seconds, args.quick), ctx.extra)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
