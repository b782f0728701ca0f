"""MD5-crypt (``$1$``), the salted password hash of FreeBSD and ``openssl passwd -1``, written from the published algorithm.

Poul-Henning Kamp's scheme (FreeBSD 2.0, 1994; the ``$1$`` format of glibc ``crypt(3)``): an MD5 over password,
magic and salt mixed with an alternate MD5 of password-salt-password, then 1,000 rounds of MD5 alternating password,
salt and the previous digest, encoded in a 64-character alphabet. Whatsminer's API derives its AES key and its
command signatures from it. No well-kept library offers it any more (``crypt`` is deprecated and leaves the
standard library in Python 3.13; passlib is unmaintained), so it is written here: about 1 ms of CPU per hash.
"""

from __future__ import annotations

import hashlib

__all__ = ["md5_crypt"]

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MAGIC = b"$1$"


def _to64(value: int, n: int) -> str:
    out = []
    for _ in range(n):
        out.append(_ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def md5_crypt(password: str | bytes, salt: str | bytes) -> str:
    """``$1$SALT$HASH`` of ``password`` with ``salt`` (at most 8 characters are used, as ``crypt(3)`` does).

    Examples
    --------
    >>> md5_crypt("Hello world!", "saltstring")
    '$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1'
    """
    pw = password.encode() if isinstance(password, str) else password
    sb = salt.encode() if isinstance(salt, str) else salt
    if sb.startswith(_MAGIC):
        sb = sb[len(_MAGIC) :]
    sb = sb.split(b"$", 1)[0][:8]
    alt = hashlib.md5(pw + sb + pw).digest()
    ctx = bytearray(pw + _MAGIC + sb)
    n = len(pw)
    while n > 0:
        ctx += alt[: min(16, n)]
        n -= 16
    i = len(pw)
    while i:
        ctx += b"\x00" if i & 1 else pw[:1]
        i >>= 1
    final = hashlib.md5(ctx).digest()
    for r in range(1000):
        buf = pw if r & 1 else final
        if r % 3:
            buf += sb
        if r % 7:
            buf += pw
        buf += final if r & 1 else pw
        final = hashlib.md5(buf).digest()
    f = final
    encoded = (
        _to64((f[0] << 16) | (f[6] << 8) | f[12], 4)
        + _to64((f[1] << 16) | (f[7] << 8) | f[13], 4)
        + _to64((f[2] << 16) | (f[8] << 8) | f[14], 4)
        + _to64((f[3] << 16) | (f[9] << 8) | f[15], 4)
        + _to64((f[4] << 16) | (f[10] << 8) | f[5], 4)
        + _to64(f[11], 2)
    )
    return f"$1${sb.decode('latin-1')}${encoded}"
