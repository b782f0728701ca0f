"""Wire protocols of the emulated miners: the CGMiner RPC (cgminer, LuxOS), Braiins OS REST and the Whatsminer API.

Each miner listens on its own port of a loopback address. The servers are asyncio protocols (no thread per
connection); a stalled connection costs nothing until the client gives up. Answers follow the public API
descriptions the drivers are written from; fault modes (see :data:`~mullet.control.emulator.miner.FAULTS`) bend
them the way failing firmware does.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from mullet.control.drivers.whatsminer import aes_key, decrypt, encrypt, key_of, sign_of
from mullet.control.emulator.miner import EmulatedMiner

__all__ = ["BraiinsProtocol", "ConnectionStats", "RpcProtocol", "WhatsminerAuth", "WhatsminerProtocol"]

_MAX_REQUEST_BYTES = 65536
_WRITE_COMMANDS = {"curtail", "profileset"}


def _status(firmware: str, ok: bool, code: int, msg: str, when: int) -> dict[str, Any]:
    desc = "LUXminer 2024.1 (mullet emulator)" if firmware == "luxos" else "bmminer 1.0.0 (mullet emulator)"
    return {"STATUS": "S" if ok else "E", "When": when, "Code": code, "Msg": msg, "Description": desc}


class ConnectionStats:
    """Open connections of a fleet's servers now and at most (checks the controller's concurrency cap)."""

    __slots__ = ("max_open", "open", "total")

    def __init__(self) -> None:
        self.open = 0
        self.max_open = 0
        self.total = 0

    def opened(self) -> None:
        """Count a new connection."""
        self.open += 1
        self.total += 1
        self.max_open = max(self.max_open, self.open)

    def closed(self) -> None:
        """Count a closed connection."""
        self.open -= 1


class _OneJsonRequest(asyncio.Protocol):
    """One connection of the TCP miner APIs: one JSON request (NUL or newline may end it), one answer, close."""

    def __init__(self, miner: EmulatedMiner, stats: ConnectionStats | None = None):
        self.miner = miner
        self.stats = stats
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.stats is not None:
            self.stats.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stats is not None:
            self.stats.closed()

    def data_received(self, data: bytes) -> None:
        if self.done or self.transport is None:
            return
        self.buf += data
        if len(self.buf) > _MAX_REQUEST_BYTES:
            self.transport.close()
            return
        try:
            req = json.loads(self.buf.rstrip(b"\x00\r\n "))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return  # wait for the rest of the request
        self.done = True
        self._answer(req if isinstance(req, dict) else {})

    def eof_received(self) -> bool | None:
        if not self.done and self.transport is not None:
            self.transport.close()
        return None

    def _answer(self, req: dict[str, Any]) -> None:
        raise NotImplementedError


class RpcProtocol(_OneJsonRequest):
    """One connection to an emulated CGMiner/LuxOS API: one JSON request, one answer ending in NUL, close."""

    def __init__(self, miner: EmulatedMiner, firmware: str, stats: ConnectionStats | None = None):
        super().__init__(miner, stats)
        self.firmware = firmware

    def _answer(self, req: dict[str, Any]) -> None:
        assert self.transport is not None
        m = self.miner
        faults = m.faults
        if "stall" in faults:
            return  # keep the connection open and silent; the client's timeout ends it
        command = str(req.get("command", ""))
        parameter = str(req.get("parameter", ""))
        if "reboot_mid_command" in faults and command in _WRITE_COMMANDS:
            m.reboot()
            self.transport.abort()
            return
        when = int(m.clock.utcnow().timestamp())
        if command == "summary+power+temps" and self.firmware == "luxos" and "error_status" not in faults:
            data = self._luxos_read(when)  # the poll, on every miner every few seconds: a template, not json.dumps
        else:
            parts = command.split("+")
            if len(parts) > 1:
                reply: dict[str, Any] = {p: [self.handle(p, parameter, when)] for p in parts}
                reply["id"] = 1
            else:
                reply = self.handle(command, parameter, when)
            data = json.dumps(reply).encode()
        if "truncated" in faults:
            data = data[: len(data) // 2]
        elif "malformed" in faults:
            data = data.replace(b'":', b'"=', 3)
        self.transport.write(data + b"\x00")
        self.transport.close()

    def _luxos_read(self, when: int) -> bytes:
        """``summary+power+temps`` of LuxOS, formatted directly (the same JSON ``handle`` would give)."""
        m = self.miner
        power_w, ths, temp_c = m.telemetry()
        st = f'"STATUS": "S", "When": {when}, "Description": "LUXminer 2024.1 (mullet emulator)"'
        temps = ", ".join(f'{{"Board": {b}, "Top": {temp_c!r}, "Bottom": {temp_c - 5!r}}}' for b in range(3))
        return (
            f'{{"summary": [{{"STATUS": [{{{st}, "Code": 11, "Msg": "Summary"}}], "id": 1, "SUMMARY": [{{"Elapsed": {int(m.clock.now())}, '
            f'"GHS 5s": {ths * 1000.0!r}, "GHS av": {ths * 1000.0!r}, "Accepted": 0}}]}}], '
            f'"power": [{{"STATUS": [{{{st}, "Code": 350, "Msg": "Power"}}], "id": 1, "POWER": [{{"Watts": {round(power_w)}, "PSU": true}}]}}], '
            f'"temps": [{{"STATUS": [{{{st}, "Code": 201, "Msg": "Temperatures"}}], "id": 1, "TEMPS": [{temps}]}}], "id": 1}}'
        ).encode()

    def handle(self, command: str, parameter: str, when: int | None = None) -> dict[str, Any]:
        """The answer to one command."""
        m, fw = self.miner, self.firmware
        if when is None:
            when = int(m.clock.utcnow().timestamp())

        def ok(code: int, msg: str, key: str | None = None, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {"STATUS": [_status(fw, True, code, msg, when)], "id": 1}
            if key:
                out[key] = rows or []
            return out

        def err(code: int, msg: str) -> dict[str, Any]:
            return {"STATUS": [_status(fw, False, code, msg, when)], "id": 1}

        if "error_status" in m.faults:
            return err(45, "Access denied to command")
        power_w, ths, temp_c = m.telemetry()
        if command == "version":
            return ok(22, "CGMiner versions", "VERSION", [{"CGMiner": "4.11.1", "API": "3.7", "Type": m.spec.model}])
        if command == "summary":
            return ok(11, "Summary", "SUMMARY", [{"Elapsed": int(m.clock.now()), "GHS 5s": ths * 1000.0, "GHS av": ths * 1000.0, "Accepted": 0}])
        if command == "stats" and fw == "cgminer":
            return ok(70, "CGMiner stats", "STATS", [{"Type": m.spec.model}, {"temp_chip1": temp_c, "temp_chip2": temp_c - 2, "chain_rate1": ths * 1000 / 3}])
        if fw != "luxos":
            return err(14, "Invalid command")
        # ---- LuxOS commands ----
        if command == "power":
            return ok(350, "Power", "POWER", [{"Watts": round(power_w), "PSU": True}])
        if command == "temps":
            return ok(201, "Temperatures", "TEMPS", [{"Board": b, "Top": temp_c, "Bottom": temp_c - 5} for b in range(3)])
        now = time.monotonic()  # session expiry is protocol time: wall seconds, whatever the physics clock's speed
        if m.session and now - m.session_t > 60.0:
            m.session = ""  # sessions expire after a minute unused
        if command == "session":
            return ok(319, "Session information", "SESSION", [{"SessionID": m.session}])
        if command == "logon":
            if m.session or "session_busy" in m.faults:
                return err(315, "Another session is active")
            m.session, m.session_t = secrets.token_hex(4), now
            return ok(316, "Session created", "SESSION", [{"SessionID": m.session}])
        sid, _, arg = parameter.partition(",")
        if command == "logoff":
            if not m.session or sid != m.session:
                return err(317, "Invalid session id")
            m.session = ""
            return ok(318, "Session closed")
        if command in _WRITE_COMMANDS:
            if not m.session or sid != m.session:
                return err(317, "Invalid session id")
            m.session_t = now
            if command == "curtail":
                if arg == "sleep":
                    m.sleep()
                    return ok(335, "Curtailment command sent", "CURTAIL", [{"Action": "sleep mode"}])
                if arg == "wakeup":
                    m.wake()
                    return ok(335, "Curtailment command sent", "CURTAIL", [{"Action": "wake up"}])
                return err(336, f"Invalid curtail action {arg!r}")
            if arg.endswith("W") and arg[:-1].isdigit():
                m.set_power_target(float(arg[:-1]))
                return ok(321, "Profile Set", "PROFILE", [{"Profile": f"{round(m.power_target_w)}W"}])
            return err(322, f"Invalid profile {arg!r}")
        return err(14, "Invalid command")


class BraiinsProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection to an emulated Braiins OS REST API (one request, then close)."""

    def __init__(self, miner: EmulatedMiner, tokens: dict[str, float], password: str, stats: ConnectionStats | None = None):
        self.miner = miner
        self.stats = stats
        self.tokens = tokens
        self.password = password
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        self.transport = transport  # type: ignore[assignment]
        if self.stats is not None:
            self.stats.opened()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        if self.stats is not None:
            self.stats.closed()

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self.done or self.transport is None:
            return
        self.buf += data
        if len(self.buf) > _MAX_REQUEST_BYTES:
            self.transport.close()
            return
        head, sep, body = self.buf.partition(b"\r\n\r\n")
        if not sep:
            return
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        length = int(headers.get("content-length", "0") or 0)
        if len(body) < length:
            return
        self.done = True
        method, path = [*lines[0].split(), "", ""][:2]
        self._answer(method, path, headers, body[:length])

    def eof_received(self) -> bool | None:  # noqa: D102
        if not self.done and self.transport is not None:
            self.transport.close()
        return None

    def _send(self, status: int, payload: Any) -> None:
        assert self.transport is not None
        body = json.dumps(payload).encode()
        if "malformed" in self.miner.faults:
            body = body.replace(b'":', b'"=', 3)
        reason = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error", 400: "Bad Request"}.get(status, "Error")
        data = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
        if "truncated" in self.miner.faults:
            data = data[: len(data) - len(body) // 2 - 1]
        self.transport.write(data)
        self.transport.close()

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        assert self.transport is not None
        m = self.miner
        if "stall" in m.faults:
            return
        now = time.monotonic()  # token expiry in wall seconds
        if "error_status" in m.faults:
            self._send(500, {"message": "internal error"})
            return
        if method == "POST" and path == "/api/v1/auth/login":
            try:
                cred = json.loads(body or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"message": "bad JSON"})
                return
            if cred.get("username") != "root" or cred.get("password", "") != self.password:
                self._send(401, {"message": "invalid credentials"})
                return
            token = secrets.token_hex(8)
            self.tokens[token] = now + 3600.0
            self._send(200, {"token": token, "timeout_s": 3600})
            return
        if self.tokens.get(headers.get("authorization", ""), -1.0) < now:
            self._send(401, {"message": "unauthorized"})
            return
        if "reboot_mid_command" in m.faults and method == "PUT":
            m.reboot()
            self.transport.abort()
            return
        power_w, ths, temp_c = m.telemetry()
        if method == "GET" and path == "/api/v1/miner/stats":
            self._send(
                200,
                {
                    "miner_stats": {"real_hashrate": {"last_5s": {"gigahash_per_second": ths * 1000.0}}},
                    "power_stats": {"approximated_consumption": {"watt": round(power_w)}},
                },
            )
        elif method == "GET" and path == "/api/v1/miner/details":
            self._send(200, {"status": "MINER_STATUS_PAUSED" if m.reported_sleeping() else "MINER_STATUS_NORMAL", "hostname": m.spec.model})
        elif method == "GET" and path == "/api/v1/cooling/state":
            self._send(200, {"highest_temperature": {"temperature": {"degree_c": temp_c}}})
        elif method == "PUT" and path == "/api/v1/actions/pause":
            was = m.reported_sleeping()
            m.sleep()
            self._send(200, {"already_paused": was})
        elif method == "PUT" and path == "/api/v1/actions/resume":
            was = not m.reported_sleeping()
            m.wake()
            self._send(200, {"already_running": was})
        elif method == "PUT" and path == "/api/v1/performance/power-target":
            try:
                watt = float(json.loads(body or b"{}")["watt"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                self._send(400, {"message": 'expected {"watt": N}'})
                return
            m.set_power_target(watt)
            self._send(200, {"power_target": {"watt": round(m.power_target_w)}})
        else:
            self._send(404, {"message": f"no route {method} {path}"})


class WhatsminerAuth:
    """One emulated Whatsminer's secrets: its admin password, fixed salt, derived AES key and the tokens it issued."""

    __slots__ = ("_aes", "_key", "password", "salt", "tokens")

    def __init__(self, password: str):
        self.password = password
        self.salt = secrets.token_hex(4)
        self._key: str | None = None
        self._aes: bytes | None = None
        self.tokens: dict[str, float] = {}

    @property
    def key(self) -> str:
        """MD5-crypt key of the admin password (computed once: 1 ms)."""
        if self._key is None:
            self._key = key_of(self.password, self.salt)
        return self._key

    @property
    def aes(self) -> bytes:
        """AES-256 key of the encrypted API."""
        if self._aes is None:
            self._aes = aes_key(self.key)
        return self._aes


class WhatsminerProtocol(_OneJsonRequest):
    """One connection to an emulated Whatsminer (btminer API v2): one JSON request, one answer, close."""

    def __init__(self, miner: EmulatedMiner, auth: WhatsminerAuth, stats: ConnectionStats | None = None):
        super().__init__(miner, stats)
        self.auth = auth

    def _send(self, reply: dict[str, Any]) -> None:
        assert self.transport is not None
        data = json.dumps(reply).encode()
        if "truncated" in self.miner.faults:
            data = data[: len(data) // 2]
        elif "malformed" in self.miner.faults:
            data = data.replace(b'":', b'"=', 3)
        self.transport.write(data)
        self.transport.close()

    def _plain(self, ok: bool, code: int, msg: Any, when: int) -> dict[str, Any]:
        return {"STATUS": "S" if ok else "E", "When": when, "Code": code, "Msg": msg, "Description": ""}

    def _answer(self, req: dict[str, Any]) -> None:
        assert self.transport is not None
        m, auth = self.miner, self.auth
        if "stall" in m.faults:
            return
        when = int(m.clock.utcnow().timestamp())
        if "error_status" in m.faults:
            self._send(self._plain(False, 45, "permission denied", when))
            return
        if req.get("enc") == 1:
            self._write(req, when)
            return
        cmd = str(req.get("cmd") or req.get("command") or "")
        power_w, ths, temp_c = m.telemetry()

        def listed(msg: str, key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
            return {"STATUS": [{"STATUS": "S", "When": when, "Code": 131, "Msg": msg, "Description": "btminer (mullet emulator)"}], key: rows, "id": 1}

        if cmd == "get_token":
            if "session_busy" in m.faults:
                self._send(self._plain(False, 136, "token over max times", when))
                return
            newsalt = secrets.token_hex(4)
            time_text = f"{int(time.time()) % 10_000:04d}"

            now = time.monotonic()  # tokens live 30 minutes of wall time (protocol time, not physics)
            auth.tokens = {k: v for k, v in auth.tokens.items() if v > now}
            auth.tokens[sign_of(auth.key, time_text, newsalt)] = now + 1800.0
            self._send(self._plain(True, 134, {"time": time_text, "salt": auth.salt, "newsalt": newsalt}, when))
        elif cmd == "summary":
            row = {
                "Elapsed": int(m.clock.now()),
                "MHS av": ths * 1e6,
                "MHS 5s": ths * 1e6,
                "Temperature": temp_c - 10.0,
                "Chip Temp Max": temp_c,
                "Power": round(power_w),
                "Power Limit": round(m.power_target_w),
                "Power Mode": "Normal",
            }
            self._send(listed("Summary", "SUMMARY", [row]))
        elif cmd == "devs":
            self._send(listed("6 ASC(s)", "DEVS", [{"ASC": b, "Slot": b, "Temperature": temp_c, "MHS 5s": ths * 1e6 / 3} for b in range(3)]))
        elif cmd == "pools":
            self._send(listed("1 Pool(s)", "POOLS", [{"POOL": 0, "URL": "stratum+tcp://emulated.invalid:3333", "Status": "Alive" if ths > 0 else "Dead"}]))
        elif cmd in ("version", "get_version"):
            self._send(listed("BTMiner versions", "VERSION", [{"BTMiner": "20230911.17.Rel (mullet emulator)", "API": "2.0.5", "Type": m.spec.model}]))
        else:
            self._send(self._plain(False, 14, "invalid API command or data", when))

    def _write(self, req: dict[str, Any], when: int) -> None:

        assert self.transport is not None
        m, auth = self.miner, self.auth
        try:
            cmd = decrypt(auth.aes, str(req.get("data", "")))
        except (ValueError, json.JSONDecodeError, UnicodeDecodeError):
            self._send(self._plain(False, 137, "base64 decode error", when))
            return
        if auth.tokens.get(str(cmd.get("token", "")), -1.0) < time.monotonic():
            self._send(self._plain(False, 135, "check token error", when))
            return
        name = str(cmd.get("cmd", ""))
        if "reboot_mid_command" in m.faults:
            m.reboot()
            self.transport.abort()
            return
        if name == "power_off":
            m.sleep()
        elif name == "power_on":
            m.wake()
        elif name == "adjust_power_limit":
            try:
                m.set_power_target(float(cmd["power_limit"]))
            except (KeyError, TypeError, ValueError):
                self._send({"enc": encrypt(auth.aes, self._plain(False, 132, "command error", when))})
                return
        else:
            self._send({"enc": encrypt(auth.aes, self._plain(False, 14, "invalid API command or data", when))})
            return
        self._send({"enc": encrypt(auth.aes, self._plain(True, 131, "API command OK", when))})
