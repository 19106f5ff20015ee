"""The smallest HTTP/1.1 keep-alive server we can write: reads a request (headers and body), answers
``200 {}``. Only for measuring the load generator's own ceiling: ``python -m tests.bench.trivial_server PORT``.

It does no work per request, so what wrk reaches against it bounds what wrk can drive at all (from
below: this server is one Python thread itself).
"""

from __future__ import annotations

import asyncio
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


class _Proto(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        out = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            length = 0
            for line in bytes(self.buf[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            total = end + 4 + length
            if len(self.buf) < total:
                break
            del self.buf[:total]
            out.append(RESPONSE)
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


async def _main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Proto, "127.0.0.1", port, backlog=1024)
    print(f"ready {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1])))
