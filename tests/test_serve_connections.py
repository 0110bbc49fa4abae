"""No client can hold the server: real sockets against a real uvicorn server with the gallery's settings.

A connection that sends part of its request head (all at once, or a byte at a time) is closed when
its head is due; a request body that stops arriving is closed; and with the connection cap reached,
a new client still gets its answer, at the cost of the connection that has waited longest for a head.
The timeouts are shortened for the test (class attributes of the protocol); everything else is as
`devsearch serve` runs it.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from devsearch.serve.connections import GuardedH11
from devsearch.serve.server import bind, server_config
from tests.serve_library import make_library, serving

WAIT_S = 5.0  # how long a test waits for what should take a fraction of it


class Quick(GuardedH11):
    headers_s = 0.6
    body_idle_s = 0.6


class Capped(GuardedH11):
    max_connections = 20  # and the real timeouts, longer than the test


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    with serving(make_library(tmp_path_factory.mktemp("serve-connections"))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(client) -> Iterator[tuple[str, int]]:
    with running(client.app, Quick) as address:
        yield address


@contextmanager
def running(app, protocol: type[GuardedH11]) -> Iterator[tuple[str, int]]:
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(server_config(app, http=protocol))
    server.config.lifespan = "off"  # the test client already runs the app's lifespan
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[:2]
    finally:
        server.should_exit = True
        thread.join(WAIT_S)
        sock.close()


def connect(address: tuple[str, int], first: bytes = b"") -> socket.socket:
    sock = socket.create_connection(address, timeout=WAIT_S)
    sock.sendall(first)
    return sock


def closed_by_server(sock: socket.socket, within: float = WAIT_S) -> bool:
    """Whether the server closes the connection within `within` seconds (reading what it sends first)."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return False
    except ConnectionResetError:
        pass
    return True


def read_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) from a keep-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def status_of(address: tuple[str, int], path: str = "/api/status") -> int:
    with connect(address, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()) as sock:
        head = sock.recv(64)
    return int(head.split()[1])


def test_a_connection_that_sent_half_its_head_is_closed(server):
    with connect(server, b"GET /api/status HTTP/1.1\r\nHost: 127.") as sock:
        start = time.monotonic()
        assert closed_by_server(sock)
        assert time.monotonic() - start < Quick.headers_s + 1


def test_a_connection_that_sends_nothing_is_closed(server):
    with connect(server) as sock:
        assert closed_by_server(sock)


def test_a_head_trickled_a_byte_at_a_time_is_closed_when_due(server):
    head = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 1000
    with connect(server) as sock:
        start = time.monotonic()
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - start > WAIT_S:
                    raise AssertionError("the trickle was never cut off")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed_by_server(sock)


def test_a_body_that_stops_arriving_is_closed(server):
    head = (b"POST /api/similar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 100000\r\n\r\n--x\r\n")
    with connect(server, head) as sock:
        assert closed_by_server(sock)


def test_a_keep_alive_connection_serves_request_after_request(server):
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 200")
            time.sleep(Quick.headers_s / 2)


def test_past_the_connection_cap_a_new_client_is_still_answered(client):
    with running(client.app, Capped) as server:
        idle = [connect(server, b"GET / HTTP/1.1\r\n") for _ in range(Capped.max_connections * 2)]
        try:
            assert status_of(server) == 200
            closed = [closed_by_server(sock, 0.05) for sock in idle]
            assert sum(closed) >= Capped.max_connections and closed[0]  # the longest waiting went first
        finally:
            for sock in idle:
                sock.close()
