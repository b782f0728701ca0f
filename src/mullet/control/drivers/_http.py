"""A minimal HTTP/1.1 JSON client on asyncio streams (one request per connection, bounded reply, timeout)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mullet.control.clock import io_in_flight
from mullet.control.drivers.base import DriverError

__all__ = ["http_json"]

_MAX_REPLY_BYTES = 1 << 20


async def http_json(
    host: str, port: int, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None, timeout_s: float = 2.0
) -> tuple[int, Any]:
    """Send one request and return (status, decoded JSON body or None).

    Raises
    ------
    DriverError
        Refused, timed out (``timeout_s`` wall seconds for the whole exchange), truncated or malformed reply.
    """
    data = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", "Accept: application/json", f"Content-Length: {len(data)}"]
    if body is not None:
        head.append("Content-Type: application/json")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    where = f"{host}:{port} {method} {path}"
    writer: asyncio.StreamWriter | None = None
    try:
        with io_in_flight():
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
                await writer.drain()
                raw = b""
                while len(raw) < _MAX_REPLY_BYTES:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    raw += chunk
    except TimeoutError:
        raise DriverError(f"{where}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise DriverError(f"{where}: {exc.strerror or exc}") from None
    finally:
        if writer is not None:
            writer.close()
    header, sep, payload = raw.partition(b"\r\n\r\n")
    if not sep:
        raise DriverError(f"{where}: truncated HTTP reply ({len(raw)} bytes)")
    lines = header.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise DriverError(f"{where}: malformed status line {lines[0][:60]!r}") from None
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip()) if v.strip().isdigit() else None
    if length is not None and len(payload) < length:
        raise DriverError(f"{where}: truncated body ({len(payload)} of {length} bytes)")
    if not payload.strip():
        return status, None
    try:
        return status, json.loads(payload[:length] if length is not None else payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DriverError(f"{where}: malformed JSON body") from None
