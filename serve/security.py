"""Safe by default: loopback only unless a token is set, and headers that keep the page to itself.

One ASGI middleware, on every request:
- With a token (required for any bind but loopback), a request must carry it: the `?token=` of the
  URL the server printed (percent-encoded there; the page is then redirected to itself without it,
  with an HttpOnly, SameSite=Strict cookie set, which holds a digest of the token, so any token fits
  in a cookie), that cookie, or `Authorization: Bearer TOKEN` (the token's UTF-8 bytes). Else 401.
  A token must be one a client can send back: no control characters, no space at either end.
- Without one, the Host header must be exactly one loopback host (127.0.0.1, localhost, [::1])
  with an optional port, nothing else, so a web page that rebinds its own domain name to 127.0.0.1
  cannot read the collection. Else 421.
- A request another site's page makes (the browser says so: `Sec-Fetch-Site`, or an `Origin` other
  than the Host on a POST) is refused (403), except following a link to the gallery: a page cannot
  make the server search, decode uploads or make thumbnails for it, even when it cannot read the
  answer.
- Every response gets a Content-Security-Policy that allows no inline script or style and no other
  origin, `X-Content-Type-Options: nosniff`, no referrer and no framing.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

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


# what no client can send back in a token: control characters, and bytes that are not UTF-8 (which
# Python carries as surrogate escapes, and a URL, a cookie or a header cannot)
_UNSENDABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


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
    """A bind any other machine can reach must have a token; a token is never empty, and is one a
    URL, a cookie and an Authorization header can all carry back."""
    if token is not None and not token.strip():
        raise UsageError("--token is empty: give a secret, or leave --token out")
    if token is not None and (_UNSENDABLE.search(token) or token != token.strip()):
        raise UsageError("--token holds a control character or a byte that is not UTF-8, or starts or ends with "
                         "a space, which a client cannot send back: choose another token")
    if token is None and not is_loopback(host):
        raise UsageError(f"--host {host} lets other machines in: give --token TOKEN (or leave it out to bind 127.0.0.1)")


# one host and an optional port, nothing else: `127.0.0.1:8765`, `localhost`, `[::1]:8765`
_HOST = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::[0-9]{1,5})?")


def _host_name(header: bytes) -> str | None:
    """The name part of a Host header (`[::1]:8765` -> ::1); None unless the header is exactly a host
    and an optional port (`[::1]evil.example`, `a, b`, `a:1:2` are not)."""
    match = _HOST.fullmatch(header.decode("latin-1"))
    return None if match is None else match.group(1) or match.group(2)


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

        headers = dict(scope["headers"])
        if _cross_site(scope["method"], headers):
            await _refuse(send_with_headers, 403, "a request from another site's page: open the gallery itself")
            return
        if self.token is None:
            hosts = [value for name, value in scope["headers"] if name == b"host"]
            name = _host_name(hosts[0]) if len(hosts) == 1 else None
            if name is None or not is_loopback(name):
                await _refuse(send_with_headers, 421, "this server answers only on 127.0.0.1, localhost or ::1")
                return
        else:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace")))
            if _same(query.get("token"), self.token):
                if scope["method"] == "GET" and scope["path"] == "/":
                    await self._enter(scope, query, send_with_headers)
                    return
            elif not (_same(_cookie(headers.get(b"cookie", b"")), self._cookie) or _same(_bearer(headers), self.token)):
                await _refuse(send_with_headers, 401, "a token is needed: open the URL `devsearch serve` printed, "
                                                      "or send Authorization: Bearer TOKEN")
                return
        await self.app(scope, receive, send_with_headers)

    @property
    def _cookie(self) -> str:
        """The cookie's value: a digest of the token (a cookie cannot hold every character a token may)."""
        return hashlib.sha256(b"devsearch cookie\0" + self.token.encode()).hexdigest()

    async def _enter(self, scope: Scope, query: dict, send: Send) -> None:
        """The page opened with ?token=: set the cookie, and send the browser to the URL without it."""
        rest = urlencode({k: v for k, v in query.items() if k != "token"})
        cookie = f"{COOKIE}={self._cookie}; HttpOnly; SameSite=Strict; Path=/"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", ("/?" + rest if rest else "/").encode()), (b"set-cookie", cookie.encode()),
                                (b"content-length", b"0"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})


def _cross_site(method: str, headers: dict[bytes, bytes]) -> bool:
    """Whether a browser made this request for a page of another site (a link followed is not)."""
    site = headers.get(b"sec-fetch-site")
    if site in (b"cross-site", b"same-site"):
        return not (method == "GET" and headers.get(b"sec-fetch-mode") == b"navigate")
    origin = headers.get(b"origin")
    return method not in ("GET", "HEAD") and origin is not None and urlsplit(origin).netloc != headers.get(b"host")


def _same(given: str | bytes | None, expected: str) -> bool:
    if given is None:
        return False
    return hmac.compare_digest(given.encode() if isinstance(given, str) else given, expected.encode())


def _cookie(header: bytes) -> str | None:
    try:
        morsel = SimpleCookie(header.decode("latin-1")).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def _bearer(headers: dict[bytes, bytes]) -> bytes | None:
    """The token of `Authorization: Bearer TOKEN`, as the bytes sent (a non-ASCII token as UTF-8)."""
    scheme, _, value = headers.get(b"authorization", b"").partition(b" ")
    return value.strip() if scheme.lower() == b"bearer" else None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
