"""The dashboard's gatekeeper: an ASGI middleware in front of every request.

In order it checks: the ``Host`` header (when no token is set, only loopback names are served, which
defeats DNS rebinding), the access token (when set: bearer header, cookie, or ``?token=`` once, which
sets the cookie), the ``Origin`` of state-changing requests (a page of another site cannot post a form
or start a job, even on loopback), and the request body size. Refusals are JSON with one ``detail`` line.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["LOOPBACK_HOSTS", "Guard", "send_json"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _host_name(host: str) -> str:
    """``host[:port]`` (or ``[v6]:port``) without the port, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware: Host, token, Origin and body-size checks (see the module docstring).

    Parameters
    ----------
    app
        The ASGI app to protect.
    token
        Access token required on every request, or None (loopback use).
    max_body_bytes
        Largest request body accepted.
    allowed_hosts
        Host names (without port) served when no token is set; default: loopback names.
    """

    def __init__(self, app: Any, token: str | None, max_body_bytes: int, allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body_bytes
        self.allowed_hosts = {h.lower().strip("[]") for h in (allowed_hosts or LOOPBACK_HOSTS)}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Check one request, then pass it on or answer with the refusal."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.token and _host_name(host) not in self.allowed_hosts:
            await send_json(send, 403, {"detail": f"host: got {host!r}; allowed: {sorted(self.allowed_hosts)} (set MULLET_TOKEN to serve other names)"})
            return
        set_cookie = False
        if self.token:
            supplied = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                supplied = auth[7:].strip()
            if supplied is None and "cookie" in headers:
                try:
                    morsel = SimpleCookie(headers["cookie"]).get("mullet_token")
                except Exception:  # a malformed cookie header is simply no token
                    morsel = None
                supplied = morsel.value if morsel else None
            if supplied is None:
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                if "token" in query:
                    supplied = query["token"][0]
                    set_cookie = True
            if supplied is None or not secrets.compare_digest(supplied.encode(), self.token.encode()):
                await send_json(send, 401, {"detail": "token: missing or wrong; send 'Authorization: Bearer <MULLET_TOKEN>'"})
                return
        if scope.get("method", "GET").upper() not in _SAFE_METHODS:
            refusal = self._cross_site(headers, host)
            if refusal:
                await send_json(send, 403, {"detail": refusal})
                return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await send_json(send, 413, {"detail": f"body: larger than the limit of {self.max_body} bytes"})
            return
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if set_cookie and message["type"] == "http.response.start":
                cookie = f"mullet_token={self.token}; HttpOnly; SameSite=Strict; Path=/"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_cookie)
        except _TooLarge:
            await send_json(send, 413, {"detail": f"body: larger than the limit of {self.max_body} bytes"})

    @staticmethod
    def _cross_site(headers: dict[str, str], host: str) -> str | None:
        """Why a state-changing request comes from another site, or None.

        Browsers send ``Origin`` on every cross-origin and same-origin POST; when it is absent,
        ``Sec-Fetch-Site`` decides. Clients that send neither (curl, scripts) are not browsers a
        page could drive, so they pass (the token, when set, still applies).
        """
        origin = headers.get("origin")
        if origin is not None:
            if origin == "null":
                return "origin: got 'null' (a sandboxed or file page); allowed: this dashboard's own pages"
            parts = urlsplit(origin)
            if parts.netloc.lower() != host.lower():
                return f"origin: got {origin!r}; allowed: this dashboard's own pages (http://{host})"
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"origin: a {site} request; allowed: this dashboard's own pages"
        return None


class _TooLarge(Exception):
    pass


async def send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    """Send a complete JSON response from ASGI middleware."""
    payload = json.dumps(body).encode()
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]}
    )
    await send({"type": "http.response.body", "body": payload})
