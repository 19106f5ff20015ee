"""The demo's convergence check: a tablet holds exactly its units' rows and the shared rows above them."""

from __future__ import annotations

from pathlib import Path

import apsw

from schema.migrations import migrate
from server.db import open_reader
from server.demo import converged
from server.settings import Settings
from tests.conftest import Org, uid
from tests.server.harness import retiree_sql

ORG = Org()


def _tablet(server_settings: Settings, path: Path) -> apsw.Connection:
    """A tablet of town A holding what it should: town A and the county (shared), and the menu."""
    tab = apsw.Connection(str(path))
    migrate(tab, "tablet")
    central = open_reader(server_settings.db_path)
    try:
        for name in ("units", "service_menu"):
            rows = central.execute(f"SELECT * FROM {name}").fetchall()
            if name == "units":
                rows = [r for r in rows if r[0] in (ORG.town_a, ORG.county)]
            with tab:
                tab.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    finally:
        central.close()
    tab.execute("INSERT INTO sync_state (key, value) VALUES ('unit_id', ?)", (ORG.town_a,))
    return tab


def test_converged_sees_a_row_the_tablet_should_not_hold(server_settings: Settings, tmp_path: Path) -> None:
    tab = _tablet(server_settings, tmp_path / "tablet.db")
    tab.close()
    assert converged(server_settings, tmp_path / "tablet.db")
    tab = apsw.Connection(str(tmp_path / "tablet.db"))
    sql, args = retiree_sql(ORG.town_b, uid(9101), 1)  # another township's retiree
    tab.execute(sql, args)
    tab.close()
    assert not converged(server_settings, tmp_path / "tablet.db")


def test_converged_sees_a_missing_row(server_settings: Settings, tmp_path: Path) -> None:
    tab = _tablet(server_settings, tmp_path / "tablet.db")
    tab.execute("DELETE FROM units WHERE id = ?", (ORG.county,))  # the county's unit row is shared with it
    tab.close()
    assert not converged(server_settings, tmp_path / "tablet.db")
