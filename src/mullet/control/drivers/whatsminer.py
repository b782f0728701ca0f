"""Whatsminer (MicroBT btminer) API v2: plain JSON reads, encrypted token-signed writes, on TCP port 4028.

Written from MicroBT's public "Whatsminer API V2.0.5" description. Reads: ``{"cmd": "summary"}`` answers in the
CGMiner layout (``STATUS`` list, ``SUMMARY[0]`` with ``Power`` [W], ``MHS 5s``, ``Temperature``). Writes need the
admin password and a token:

1. ``{"cmd": "get_token"}`` answers ``Msg = {"time", "salt", "newsalt"}``;
2. key = the hash field of MD5-crypt(admin password, salt) (``openssl passwd -1 -salt SALT PASSWORD``);
3. sign = the hash field of MD5-crypt(key + the last four characters of time, newsalt) (the description's reference
   command cuts ``${time:0-4}``; one public client hashes the whole value: unverified on hardware);
4. AES key = SHA-256(key); the command ``{"cmd": ..., "token": sign, ...}`` is NUL-padded to 16 bytes,
   AES-256-ECB encrypted, base64 encoded and sent as ``{"enc": 1, "data": ...}``;
5. the answer is ``{"enc": base64}`` (decrypt the same way) or a plain error (``Code`` 135: check token error,
   136: token over max times). Success is ``STATUS`` S with ``Code`` 131.

Commands used: ``power_off`` (``respbefore``: answer first, then stop hashing and the PSU output), ``power_on``,
``adjust_power_limit`` (``power_limit`` in W). A token lives 30 minutes on the miner; this driver reuses it for
25 and fetches a new one once when the miner refuses it. AES comes from ``cryptography`` (``pip install
'mullet[whatsminer]'``, in the dev install); a driver is refused at creation without it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from mullet.control.drivers._md5crypt import md5_crypt
from mullet.control.drivers.base import Capabilities, DriverError, MinerDriver, MinerReading
from mullet.control.drivers.cgminer import hashrate_ths_of, rpc_request
from mullet.errors import MulletError

__all__ = ["WhatsminerDriver", "aes_key", "decrypt", "encrypt", "key_of", "sign_of"]

TOKEN_REUSE_S = 25 * 60.0


def key_of(password: str, salt: str) -> str:
    """The key of Whatsminer's token scheme: the hash field of MD5-crypt(password, salt)."""
    return md5_crypt(password, salt).rsplit("$", 1)[1]


def sign_of(key: str, time_text: str, newsalt: str) -> str:
    """The token (``sign``) sent with each write: MD5-crypt(key + last four characters of time, newsalt)."""
    return md5_crypt(key + str(time_text)[-4:], newsalt).rsplit("$", 1)[1]


def aes_key(key: str) -> bytes:
    """The 32-byte AES-256 key: SHA-256 of the key."""
    return hashlib.sha256(key.encode()).digest()


def _cipher(aes: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        raise MulletError("firmware whatsminer: writes need AES from 'cryptography'; install it with: pip install 'mullet[whatsminer]'") from None
    return Cipher(algorithms.AES(aes), modes.ECB())  # the protocol's mode (ECB), not a choice made here


def encrypt(aes: bytes, payload: dict[str, Any]) -> str:
    """``payload`` as JSON, NUL-padded to 16 bytes, AES-256-ECB encrypted, base64 encoded."""
    raw = json.dumps(payload).encode()
    raw += b"\x00" * (-len(raw) % 16)
    enc = _cipher(aes).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def decrypt(aes: bytes, text: str) -> dict[str, Any]:
    """The JSON object inside an encrypted answer (raises ValueError when it is not one)."""
    raw = base64.b64decode(text, validate=True)
    if len(raw) % 16:
        raise ValueError("ciphertext is not a whole number of AES blocks")
    dec = _cipher(aes).decryptor()
    plain = (dec.update(raw) + dec.finalize()).split(b"\x00", 1)[0]
    out = json.loads(plain)
    if not isinstance(out, dict):
        raise ValueError("decrypted answer is not a JSON object")
    return out


def _status(reply: dict[str, Any], where: str) -> dict[str, Any]:
    """The status of a Whatsminer answer: a top-level ``STATUS`` string (writes) or a CGMiner-style list (reads)."""
    st = reply.get("STATUS")
    row = st[0] if isinstance(st, list) and st and isinstance(st[0], dict) else reply if isinstance(st, str) else None
    if row is None:
        raise DriverError(f"{where}: reply has no STATUS")
    if row.get("STATUS") != "S":
        raise DriverError(f"{where}: error status {row.get('Code')}: {row.get('Msg')}")
    return row


class WhatsminerDriver(MinerDriver):
    """Whatsminer: measured power, power off/on (sleep/wake), power limit (target); token-signed encrypted writes."""

    firmware = "whatsminer"
    capabilities = Capabilities(sleep=True, power_target=True, power_measured=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _cipher(bytes(32))  # fail when the driver is made, not at the first shed, if 'cryptography' is missing
        self._token: tuple[str, bytes, float] | None = None  # (sign, AES key, wall time fetched)
        self._keys: dict[str, str] = {}  # salt -> key: the salt is the miner's, the key changes only with it

    async def _plain(self, payload: dict[str, Any], what: str) -> dict[str, Any]:
        return await rpc_request(self.host, self.port, what, payload=payload, timeout_s=self.timeout_s)

    async def read(self) -> MinerReading:
        """``summary``: power, hashrate and temperature in one request."""
        where = f"{self.miner_id} ({self.host}:{self.port})"
        try:
            reply = await self._plain({"cmd": "summary"}, "summary")
            _status(reply, where)
            rows = reply.get("SUMMARY")
            if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
                raise DriverError(f"{where}: reply has no SUMMARY")
            summ = rows[0]
            ths = hashrate_ths_of(summ)
            watts = summ.get("Power")
            if not isinstance(watts, int | float) or isinstance(watts, bool):
                raise DriverError(f"{where}: SUMMARY has no Power")
            temp = summ.get("Chip Temp Max", summ.get("Temperature"))
            state = "sleeping" if ths <= 0.0 else "mining"
            return MinerReading(self.miner_id, True, float(watts), True, ths, float(temp) if isinstance(temp, int | float) else None, state)  # type: ignore[arg-type]
        except (DriverError, ValueError, TypeError) as exc:
            return MinerReading(self.miner_id, False, error=str(exc))

    async def _fetch_token(self) -> tuple[str, bytes, float]:
        where = f"{self.miner_id} get_token"
        reply = await self._plain({"cmd": "get_token"}, "get_token")
        _status(reply, where)
        msg = reply.get("Msg")
        if not isinstance(msg, dict) or not all(isinstance(msg.get(k), str | int) for k in ("time", "salt", "newsalt")):
            raise DriverError(f"{where}: Msg has no time, salt and newsalt ({str(msg)[:60]!r})")
        password = self.credentials.password if self.credentials else "admin"
        salt = str(msg["salt"])
        key = self._keys.get(salt) or key_of(password, salt)
        self._keys = {salt: key}
        self._token = (sign_of(key, str(msg["time"]), str(msg["newsalt"])), aes_key(key), time.monotonic())
        return self._token

    async def _write(self, payload: dict[str, Any]) -> None:
        cmd = str(payload["cmd"])
        where = f"{self.miner_id} {cmd}"
        for attempt in range(2):  # a second try with a fresh token when the miner refuses the cached one
            token = self._token
            if token is None or time.monotonic() - token[2] > TOKEN_REUSE_S:
                token = await self._fetch_token()
            sign, aes, _ = token
            reply = await self._plain({"enc": 1, "data": encrypt(aes, {**payload, "token": sign})}, cmd)
            if "enc" in reply:
                try:
                    reply = decrypt(aes, str(reply["enc"]))
                except ValueError as exc:
                    raise DriverError(f"{where}: undecipherable answer ({exc})") from None
            elif reply.get("Code") in (135, 136) and attempt == 0:  # check token error / token over max times
                self._token = None
                continue
            _status(reply, where)
            return
        raise DriverError(f"{where}: token refused after a fresh one")

    async def sleep(self) -> None:
        """``power_off`` (answer first): hashboards and PSU output off, control board on."""
        await self._write({"cmd": "power_off", "respbefore": "true"})

    async def wake(self) -> None:
        """``power_on``: the miner starts hashing again and ramps to its power limit."""
        await self._write({"cmd": "power_on"})

    async def set_power_target(self, power_w: float) -> None:
        """``adjust_power_limit`` with ``power_limit`` in W."""
        await self._write({"cmd": "adjust_power_limit", "power_limit": str(self._check_target(power_w))})
