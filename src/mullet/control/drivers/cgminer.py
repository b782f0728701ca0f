"""The CGMiner/BMMiner RPC: one JSON request per TCP connection (port 4028 by default), reads only.

Wire format (CGMiner API-README): the client sends ``{"command": "summary", "parameter": ""}``; the miner answers
one JSON object, usually followed by a NUL byte, and closes the connection. Several commands may be joined with
``+`` ("summary+stats"); the answer then has one key per command. Every answer carries ``STATUS`` with
``STATUS`` = S (success), I (info), W (warning), E (error) or F (fatal). Stock Antminer firmware reports no power,
so power is estimated from hashrate at the model's nominal efficiency, and the driver cannot curtail.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import ipaddress
import json
import socket
from typing import Any

from mullet.control.clock import io_in_flight
from mullet.control.drivers.base import Capabilities, DriverError, MinerDriver, MinerReading

__all__ = ["CGMinerDriver", "exchange", "request_bytes", "rpc_request", "status_of"]

_MAX_REPLY_BYTES = 1 << 20


class _Collect(asyncio.Protocol):
    """Client side of one RPC exchange: send the request, gather the reply until the miner closes (bounded)."""

    def __init__(self, payload: bytes, done: asyncio.Future[bytes]):
        self.payload = payload
        self.done = done
        self.parts: list[bytes] = []
        self.size = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a WriteTransport (asyncio's or uvloop's)
        transport.write(self.payload)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= _MAX_REPLY_BYTES and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if exc is not None and not self.parts:
                self.done.set_exception(exc)
            else:
                self.done.set_result(b"".join(self.parts)[:_MAX_REPLY_BYTES])


def _safe(text: str) -> bool:
    """True when ``text`` needs no JSON escaping (commands and parameters this package sends)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def request_bytes(command: str, parameter: str = "") -> bytes:
    """The JSON request of one command, without ``json.dumps`` on the hot path (an escaped fallback otherwise)."""
    if _safe(command) and _safe(parameter):
        if parameter == "":
            return b'{"command": "' + command.encode() + b'"}'
        return b'{"command": "' + command.encode() + b'", "parameter": "' + parameter.encode() + b'"}'
    return json.dumps({"command": command} if parameter == "" else {"command": command, "parameter": parameter}).encode()


async def rpc_request(
    host: str, port: int, command: str, parameter: str = "", *, timeout_s: float = 2.0, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Send one CGMiner-style RPC command and return the decoded answer.

    ``payload`` replaces the ``{"command", "parameter"}`` request with another JSON object (Whatsminer's
    ``{"cmd": ...}``); ``command`` then only names the exchange in errors.

    Raises
    ------
    DriverError
        Refused connection, timeout (``timeout_s`` wall seconds for the whole exchange), a reply that is not
        one JSON object, or a reply larger than 1 MiB.
    """
    data = await exchange(host, port, request_bytes(command, parameter) if payload is None else json.dumps(payload).encode(), timeout_s, command)
    text = data.rstrip(b"\x00 \r\n")
    if not text:
        raise DriverError(f"{host}:{port} {command}: empty reply")
    try:
        reply = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DriverError(f"{host}:{port} {command}: malformed or truncated JSON ({len(text)} bytes)") from None
    if not isinstance(reply, dict):
        raise DriverError(f"{host}:{port} {command}: reply is not a JSON object")
    return reply


async def exchange(host: str, port: int, payload: bytes, timeout_s: float, what: str) -> bytes:
    """Send ``payload`` to ``host:port`` and read the reply until the miner closes (at most 1 MiB).

    The whole exchange is bounded by ``timeout_s`` (wall) with a lean timeout: one timer that cancels this task
    (``asyncio.timeout`` costs a quarter of a loopback exchange); a cancel from outside is passed on untouched. On
    uvloop the exchange uses a transport and protocol; on asyncio's own loop plain socket calls, a quarter cheaper
    there (each the cheaper of the two on its loop, measured).
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    fired = [False]
    cancelling = task.cancelling() if task is not None else 0

    def expire() -> None:
        fired[0] = True
        if task is not None:
            task.cancel()

    timer = loop.call_later(timeout_s, expire)
    try:
        with io_in_flight():
            if isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
                return await _exchange_socket(loop, host, port, payload)
            return await _exchange_transport(loop, host, port, payload)
    except asyncio.CancelledError:
        if not fired[0] or task is None or task.uncancel() > cancelling:
            raise  # cancelled from outside (also when that came with the timeout): not ours to swallow
        raise DriverError(f"{host}:{port} {what}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise DriverError(f"{host}:{port} {what}: {exc.strerror or exc}") from None
    finally:
        timer.cancel()


async def _exchange_transport(loop: asyncio.AbstractEventLoop, host: str, port: int, payload: bytes) -> bytes:
    done: asyncio.Future[bytes] = loop.create_future()
    transport: asyncio.BaseTransport | None = None
    try:
        transport, _ = await loop.create_connection(lambda: _Collect(payload, done), host, port)
        return await done
    finally:
        if transport is not None:
            transport.close()


async def _exchange_socket(loop: asyncio.AbstractEventLoop, host: str, port: int, payload: bytes) -> bytes:
    try:
        targets: list[tuple[Any, Any]] = [(socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET, (host, port))]
    except ValueError:  # a host name: resolved by asyncio (in its executor); its addresses are tried in order
        targets = [(info[0], info[4]) for info in await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    for i, (family, addr) in enumerate(targets):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, addr)
            except OSError:
                if i + 1 < len(targets):
                    continue
                raise
            await loop.sock_sendall(sock, payload)
            parts: list[bytes] = []
            size = 0
            while size < _MAX_REPLY_BYTES:
                try:
                    chunk = await loop.sock_recv(sock, 65536)
                except OSError:
                    if not parts:
                        raise
                    break  # reset after part of an answer: what came is judged as the transport path judges it
                if not chunk:
                    break
                parts.append(chunk)
                size += len(chunk)
            return b"".join(parts)[:_MAX_REPLY_BYTES]
        finally:
            sock.close()
    raise OSError(f"no address for {host!r}")


def status_of(reply: dict[str, Any], where: str) -> dict[str, Any]:
    """The first ``STATUS`` entry of a reply; raises :class:`DriverError` on E/F or when it is missing."""
    st = reply.get("STATUS")
    if not isinstance(st, list) or not st or not isinstance(st[0], dict):
        raise DriverError(f"{where}: reply has no STATUS")
    if st[0].get("STATUS") in ("E", "F"):
        raise DriverError(f"{where}: error status {st[0].get('Code')}: {st[0].get('Msg')}")
    return st[0]


def section(reply: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """The first entry of section ``key`` (e.g. SUMMARY) of a successful reply."""
    status_of(reply, where)
    rows = reply.get(key)
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        raise DriverError(f"{where}: reply has no {key}")
    return rows[0]


def hashrate_ths_of(summary: dict[str, Any]) -> float:
    """Hashrate [TH/s] of a SUMMARY entry ("GHS 5s" on BMMiner, "MHS 5s" on CGMiner/LUXminer)."""
    for key, scale in (("GHS 5s", 1e-3), ("MHS 5s", 1e-6), ("GHS av", 1e-3), ("MHS av", 1e-6)):
        if key in summary:
            return float(summary[key]) * scale
    raise DriverError("SUMMARY has no hashrate field (GHS 5s / MHS 5s)")


class CGMinerDriver(MinerDriver):
    """Stock CGMiner/BMMiner: reads hashrate and temperature; power is estimated; no curtailment commands."""

    firmware = "cgminer"
    capabilities = Capabilities(sleep=False, power_target=False, power_measured=False)

    async def read(self) -> MinerReading:
        """Read SUMMARY and STATS in one request ("summary+stats")."""
        where = f"{self.miner_id} ({self.host}:{self.port})"
        try:
            reply = await rpc_request(self.host, self.port, "summary+stats", timeout_s=self.timeout_s)
            summ = section(_sub(reply, "summary", where), "SUMMARY", where)
            ths = hashrate_ths_of(summ)
            temp = None
            try:
                stats = _sub(reply, "stats", where).get("STATS") or []
                temps = [float(v) for row in stats if isinstance(row, dict) for k, v in row.items() if k.startswith("temp") and _num(v)]
                temp = max(temps) if temps else None
            except DriverError:
                pass
            state = "mining" if ths > 0.01 * self.nominal_hashrate_ths else "sleeping"
            return MinerReading(self.miner_id, True, self.estimate_power_w(ths), False, ths, temp, state)  # type: ignore[arg-type]
        except (DriverError, ValueError, TypeError) as exc:
            return MinerReading(self.miner_id, False, error=str(exc))


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _sub(reply: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """The part of a multi-command reply for ``key`` (a single reply is returned as is)."""
    if key in reply:
        part = reply[key]
        if isinstance(part, list) and part and isinstance(part[0], dict):
            return part[0]
        raise DriverError(f"{where}: malformed '{key}' part of a multi-command reply")
    if "STATUS" in reply:
        status_of(reply, where)  # a multi-command refused as a whole
        return reply
    raise DriverError(f"{where}: reply has neither '{key}' nor STATUS")
