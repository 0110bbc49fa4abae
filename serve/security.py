"""Safe by default: loopback only unless a token is set, and headers that keep the page to itself.

One ASGI middleware, on every request:
- With a token (required for any bind but loopback), a request must carry it: the `?token=` of the
  URL the server printed (the page is then redirected to itself without it, with an HttpOnly,
  SameSite=Strict cookie set), that cookie, or `Authorization: Bearer TOKEN`. Else 401.
- Without one, the Host header must name the loopback address (127.0.0.1, localhost, ::1), so a
  web page that rebinds its own domain name to 127.0.0.1 cannot read the collection. Else 421.
- Every response gets a Content-Security-Policy that allows no inline script or style and no other
  origin, `X-Content-Type-Options: nosniff`, no referrer and no framing.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devsearch.core.errors import UsageError

COOKIE = "devsearch_token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def is_loopback(host: str) -> bool:
    """Whether a bind address or Host name is this machine only."""
    host = host.strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token_off_loopback(host: str, token: str | None) -> None:
    """A bind any other machine can reach must have a token (and a token is never empty)."""
    if token is not None and not token.strip():
        raise UsageError("--token is empty: give a secret, or leave --token out")
    if token is None and not is_loopback(host):
        raise UsageError(f"--host {host} lets other machines in: give --token TOKEN (or leave it out to bind 127.0.0.1)")


def _host_name(header: str) -> str:
    """The name part of a Host header: `127.0.0.1:8765` -> 127.0.0.1, `[::1]:8765` -> ::1."""
    if header.startswith("["):
        return header[1:header.find("]")]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    def __init__(self, app: ASGIApp, *, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token is None:
            if not is_loopback(_host_name(headers.get("host", ""))):
                await _refuse(send_with_headers, 421, "this server answers only on 127.0.0.1, localhost or ::1")
                return
        else:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            if self._valid(query.get("token")):
                if scope["method"] == "GET" and scope["path"] == "/":
                    await self._enter(scope, query, send_with_headers)
                    return
            elif not (self._valid(_cookie(headers.get("cookie", ""))) or self._valid(_bearer(headers))):
                await _refuse(send_with_headers, 401, "a token is needed: open the URL `devsearch serve` printed, "
                                                      "or send Authorization: Bearer TOKEN")
                return
        await self.app(scope, receive, send_with_headers)

    def _valid(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def _enter(self, scope: Scope, query: dict, send: Send) -> None:
        """The page opened with ?token=: set the cookie, and send the browser to the URL without it."""
        rest = urlencode({k: v for k, v in query.items() if k != "token"})
        cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", ("/?" + rest if rest else "/").encode()), (b"set-cookie", cookie.encode()),
                                (b"content-length", b"0"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})


def _cookie(header: str) -> str | None:
    try:
        morsel = SimpleCookie(header).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def _bearer(headers: dict[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
