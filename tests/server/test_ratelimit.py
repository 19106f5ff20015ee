"""Per-device rate limits: 429 with Retry-After, charged only to authenticated devices."""

from __future__ import annotations

from pathlib import Path

import httpx

from schema.wire import ENVELOPE_MEDIA_TYPE
from server.ratelimit import RateLimiter
from server.settings import Settings
from tests.conftest import Org, start_server, stop_server, uid
from tests.server.e2e import make_tablet
from tests.server.harness import RETIREE_COLS


def test_bucket_arithmetic() -> None:
    rl = RateLimiter(rate=2.0, burst=3)
    for _ in range(3):
        assert rl.check("d", 100.0) == 0
        rl.charge("d", 100.0)
    assert rl.check("d", 100.0) == 0.5
    assert rl.check("other", 100.0) == 0
    assert rl.check("d", 100.5) == 0  # one token back after half a second
    assert RateLimiter(rate=0, burst=0).check("d", 1.0) == 0  # off


def test_server_answers_429_and_spoofers_do_not_drain(server_settings: Settings, tmp_path: Path) -> None:
    server = start_server(server_settings, tmp_path / "s.log",
                          extra_env={"LAOGAN_DEVICE_RATE_PER_S": "0.01", "LAOGAN_DEVICE_BURST": "3"})
    try:
        t = make_tablet(server, tmp_path, Org().town_a_code, "rl", 31)
        for n in range(5):
            vals = (uid(9_100_000 + n), t.unit_id, f"周{n}", "male", "1940-01-01", f"53032619400101{n:04d}",
                    "general", "1", "x")
            with t.store.capture() as c:
                c.execute(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * 9)})", vals)
        entries = t.store.pending()
        bodies = [t.store.save_envelope(e.seq, t.client._seal(t.store.enrolment(), e)) for e in entries]
        with httpx.Client(base_url=server.url) as http:
            # junk that claims to be this device is refused and not charged
            for _ in range(5):
                forged = bytearray(bodies[0])
                forged[-1] ^= 1
                r = http.post("/v1/changesets", content=bytes(forged), headers={"content-type": ENVELOPE_MEDIA_TYPE})
                assert r.status_code == 401
            statuses = [http.post("/v1/changesets", content=b, headers={"content-type": ENVELOPE_MEDIA_TYPE})
                        for b in bodies]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        limited = statuses[3]
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        t.close()
    finally:
        stop_server(server)
