"""SQLite values as JSON text, for conflict records (blobs as {"$hex": ...})."""

from __future__ import annotations

import json
from typing import Any

import apsw

__all__ = ["decode_value", "encode_value"]


def encode_value(v: Any) -> str:
    """JSON for a SQLite value (blobs as {"$hex": ...}), stored in conflict records."""
    if isinstance(v, bytes):
        return json.dumps({"$hex": v.hex()})
    if v is apsw.no_change:
        return json.dumps({"$no_change": True})
    return json.dumps(v, ensure_ascii=False)


def decode_value(text: str | None) -> Any:
    if text is None:
        return None
    v = json.loads(text)
    if isinstance(v, dict) and "$hex" in v:
        return bytes.fromhex(v["$hex"])
    return v
