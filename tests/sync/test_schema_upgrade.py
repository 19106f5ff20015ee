"""A tablet that migrates across a schema version that changes what a pull brings starts its pulls over."""

from __future__ import annotations

from pathlib import Path

import apsw

from schema import SCHEMA_VERSION
from schema.migrations import current_version, migrate
from sync.state import CURSOR, CURSOR_MARK, DEVICE_ID
from tests.sync.conftest import make_store


def _old_tablet(path: Path, version: int) -> None:
    conn = apsw.Connection(str(path))
    migrate(conn, "tablet", target=version)
    conn.execute("INSERT INTO sync_state (key, value) VALUES (?, '4711'), (?, 'abcdef0123456789'), (?, 'dev')",
                 (CURSOR, CURSOR_MARK, DEVICE_ID))
    conn.close()


def test_a_v3_tablet_pulls_everything_again_after_migrating_to_v4(tmp_path: Path) -> None:
    _old_tablet(tmp_path / "t.db", 3)
    store = make_store(tmp_path / "t.db")
    assert current_version(store.conn) == SCHEMA_VERSION == 4
    state = store.state()
    assert (store.cursor(), state[CURSOR_MARK], state[DEVICE_ID]) == (0, None, "dev")
    assert store.columns("party_members")[-2:] == ("relation", "group_id")
    store.close()
    store = make_store(tmp_path / "t.db")  # already at 4: the cursor it reaches from now on stays
    store.set_state({CURSOR: "12"})
    store.close()
    store = make_store(tmp_path / "t.db")
    assert store.cursor() == 12
    store.close()


def test_a_tablet_never_enrolled_has_no_cursor_to_reset(tmp_path: Path) -> None:
    conn = apsw.Connection(str(tmp_path / "t.db"))
    migrate(conn, "tablet", target=3)
    conn.close()
    store = make_store(tmp_path / "t.db")
    assert store.state()[CURSOR] is None and store.cursor() == 0
    store.close()
