"""Starting laogan's own servers as child processes: a free loopback port, and readiness polling.

Used by the demo and by the tests that run the real servers; never a fixed sleep, always a deadline.
:func:`stop` ends one: SIGTERM (a clean shutdown signs the ledger head), SIGKILL after a grace period.
"""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], *, path: str = "/v1/health", deadline_s: float = 60.0,
               interval_s: float = 0.05) -> None:
    """Poll ``url + path`` until it answers 200; RuntimeError if ``proc`` exits or the deadline passes."""
    end = time.monotonic() + deadline_s
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"{url} exited with {proc.returncode} before it was ready")
            try:
                if http.get(url + path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(interval_s)  # the polling interval, bounded by the deadline
    raise RuntimeError(f"{url} did not become ready within {deadline_s:.0f} s")


def stop(proc: subprocess.Popen[bytes], *, grace_s: float = 10.0) -> None:
    """Ask ``proc`` to stop (SIGTERM); kill it if it has not within ``grace_s``. Idempotent."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace_s)
