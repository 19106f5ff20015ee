"""No personal data in the published site: every name, phone, ID number, address and other personal
value in a generated database is searched for in every output file — zero hits."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from reports_site.build import build_site
from reports_site.units import load_units
from schema.tables import personal_columns
from server.db import open_sqlite3_readonly
from tests.reports_site.conftest import Built
from tests.reports_site.sitefiles import readable_text, site_files

MIN_LEN = 2


def personal_values(conn: sqlite3.Connection) -> set[str]:
    """Every personal text value in the database (the registry's personal columns, all tables)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out: set[str] = set()
    for table, cols in personal_columns().items():
        if table not in tables:
            continue
        for col in cols:
            for (v,) in conn.execute(f'SELECT DISTINCT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL'):
                s = str(v).strip()
                if len(s) >= MIN_LEN:
                    out.add(s)
    return out


def public_names(conn: sqlite3.Connection) -> list[str]:
    """Unit names (full and short) are published on purpose: a person called 马平 is not leaked by a town
    called 马平镇, nor a hobby 旅游 by 文化和旅游局. Longest first, so they are blanked whole."""
    tree = load_units(conn, "")
    names = {tree.units[k].name for k in tree.page_units()} | {tree.short_name(k) for k in tree.page_units()}
    return sorted(names, key=len, reverse=True)


def hits(site: Path, values: set[str], public: Sequence[str] = ()) -> list[tuple[str, str]]:
    by_len: dict[int, set[str]] = {}
    for v in values:
        by_len.setdefault(len(v), set()).add(v)
    found = []
    for f in site_files(site):
        text = readable_text(f)
        for name in public:
            text = text.replace(name, "\0")
        for n, vs in by_len.items():
            found += [(f.name, text[i:i + n]) for i in range(len(text) - n + 1) if text[i:i + n] in vs]
    return found


def test_generated_database_leaves_no_personal_data(tmp_path: Path) -> None:
    from server.seeddata import generate

    db = tmp_path / "generated.db"
    generate(db, "county", 11)  # 4,000 retirees with their families, staff, notes
    site = tmp_path / "site"
    build_site(db, site, as_of="2026-10")
    conn = open_sqlite3_readonly(db)
    try:
        values = personal_values(conn)
        public = public_names(conn)
        names = {r[0] for r in conn.execute("SELECT name FROM retirees UNION SELECT name FROM family_contacts"
                                            " UNION SELECT name FROM staff")}
    finally:
        conn.close()
    assert len(values) > 10_000 and names <= values | {n for n in names if len(n) < MIN_LEN}
    assert hits(site, values, public) == []


def test_known_database_leaves_no_personal_data(known_site: Built) -> None:
    conn = open_sqlite3_readonly(known_site.db)
    try:
        values = personal_values(conn)
    finally:
        conn.close()
    assert "测试人员01" in values and "13900000001" in values and "会泽县测试路1号" in values
    assert "测试帮助详情01" in values  # three helps' details (the help counts are published)
    assert hits(known_site.site, values) == []


@pytest.mark.parametrize("value", ["测试人员01", "13900000001"])
def test_scan_would_see_a_leak(known_site: Built, tmp_path: Path, value: str) -> None:
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    (leaky / "page.html").write_text(f"<p>{value[:2]}&#x{ord(value[2]):x};{value[3:]}</p>", encoding="utf-8")
    assert hits(leaky, {value}) == [("page.html", value)]
