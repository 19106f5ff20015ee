"""The same database and month give a byte-identical site, in this process or a fresh one."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

from reports_site.build import build_site
from reports_site.period import Period
from tests.conftest import REPO
from tests.reports_site.conftest import Built
from tests.reports_site.known import AS_OF


def _tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_two_builds_are_byte_identical(known_site: Built, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site(known_site.db, again, as_of=AS_OF)
    fresh = tmp_path / "fresh"  # a new interpreter: no state carried over (jieba, matplotlib, mkdocs)
    code = ("import sys; from pathlib import Path; from reports_site.build import build_site; "
            "build_site(Path(sys.argv[1]), Path(sys.argv[2]), as_of=sys.argv[3])")
    subprocess.run([sys.executable, "-c", code, str(known_site.db), str(fresh), AS_OF], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    first = _tree(known_site.site)
    for other in (_tree(again), _tree(fresh)):
        assert sorted(other) == sorted(first)
        differ = [name for name in first if first[name] != other[name]]
        assert differ == []


def test_sitemap_gzip_carries_the_report_month_not_the_clock(known_site: Built) -> None:
    raw = (known_site.site / "sitemap.xml.gz").read_bytes()
    (mtime,) = struct.unpack("<I", raw[4:8])
    assert mtime == Period.parse(AS_OF).epoch
    assert gzip.decompress(raw) == (known_site.site / "sitemap.xml").read_bytes()
