"""Run the gallery: open the store, bind the socket, print the URL, serve until Ctrl-C.

The socket is bound here, before uvicorn starts, so a port in use or a bad host is one line for the
user, and `--port 0` picks a free port whose URL is still printed.
"""
from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from urllib.parse import quote

import uvicorn
from starlette.types import ASGIApp

from devsearch.core.errors import UsageError
from devsearch.core.settings import Settings
from devsearch.serve.app import create_app
from devsearch.serve.connections import KEEP_ALIVE_S, MAX_HEADER_BYTES, GuardedH11
from devsearch.serve.security import is_loopback
from devsearch.serve.services import Services


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; UsageError when that cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # proto must say TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that do, and with
        # Nagle on, every keep-alive response after the first waits ~40 ms for a delayed ACK
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"--host {host}: {exc}: give an address of this machine, such as 127.0.0.1") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, token: str | None) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={quote(token, safe='')}" if token else "")


def server_config(app: ASGIApp, http: type[GuardedH11] = GuardedH11) -> uvicorn.Config:
    """uvicorn's settings for the gallery: every wait on a client bounded (serve/connections.py)."""
    return uvicorn.Config(app, http=http, timeout_keep_alive=KEEP_ALIVE_S, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                          log_level="warning", access_log=False, timeout_graceful_shutdown=3)


def serve(settings: Settings, *, host: str, port: int, token: str | None, say: Callable[[str], None],
          open_browser: bool = False) -> None:
    """Serve the store in settings.home on host:port until interrupted.

    A bind other machines can reach without --token gets a generated token, printed in the URL.
    """
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(18)
    services = Services.open(settings)
    try:
        app = create_app(services, host=host, token=token)
        sock = bind(host, port)
        url = url_of(sock, token)
        say(f"devsearch serve: {url}  ({services.library.home}; Ctrl-C to stop)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        try:
            uvicorn.Server(server_config(app)).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises Ctrl-C: the normal way to stop
            pass
        say("devsearch serve: stopped")
    finally:
        services.close()
