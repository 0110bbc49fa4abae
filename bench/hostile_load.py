"""What hostile input costs: a 4,000-character and a 20,000-word query (CLI and API), the delay a
concurrent search sees meanwhile, and what a few hundred half-open connections do to the server.

    python bench/hostile_load.py --home STORE [--timeout 180] [--connections 300]

Runs the devsearch that `python -m devsearch` imports (set PYTHONPATH to measure another checkout),
against a real `devsearch serve` process on a free port. Prints seconds; nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

LONG_WORD = "q" * 4000
WITHIN_LIMITS = {  # the costliest queries the limits let through
    "a 70-letter unknown word": "xq" * 35,
    "32 terms in 1,000 characters": " + ".join(["golden retriever beach dog"] * 32)[:1000].rsplit(" ", 1)[0],
}
WORDS = ("dog", "beach", "red", "car", "tree", "house", "cat", "sky")
MANY_WORDS = " ".join(WORDS[i % len(WORDS)] for i in range(20_000))


def cli(home: str, query: str, timeout: float) -> str:
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "devsearch", "query", query, "--home", home, "-n", "3", "--paths"],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"over {timeout:.0f} s (stopped)"
    return f"{time.perf_counter() - start:.2f} s, exit {done.returncode}: {done.stderr.strip()[:90]}"


def timed_request(request: str | urllib.request.Request, timeout: float) -> tuple[float, int | str]:
    """Seconds the request took and its HTTP status (or the error's name when there is none)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status: int | str = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError as err:
        status = type(err).__name__
    return time.perf_counter() - start, status


def search_url(base: str, query: str) -> str:
    return base + "api/search?" + urllib.parse.urlencode({"q": query, "n": 3})


def upload(url: str, megabytes: int, timeout: float) -> tuple[float, int | str]:
    """POST a multipart upload of `megabytes` MB (a JPEG header, then noise) to url."""
    boundary = "devsearchbench"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff" + os.urandom(megabytes << 20) \
        + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    return timed_request(request, timeout)


def concurrent_delay(base: str, query: str, timeout: float, megabytes: int = 0) -> str:
    """The time of the hostile query (or upload), and of a plain search sent 0.2 s after it."""
    result: dict[str, tuple[float, int | str]] = {}
    hostile = (lambda: upload(base + "api/similar", megabytes, timeout)) if megabytes else \
        (lambda: timed_request(search_url(base, query), timeout))
    worker = threading.Thread(target=lambda: result.setdefault("hostile", hostile()))
    worker.start()
    time.sleep(0.2)
    plain = timed_request(search_url(base, "dog"), timeout)
    worker.join()
    hostile = result["hostile"]
    return f"{hostile[0]:.2f} s (HTTP {hostile[1]}); a `dog` search meanwhile: {plain[0]:.3f} s (HTTP {plain[1]})"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def half_open(base: str, pid: int, count: int, timeout: float) -> list[str]:
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    before = rss_mb(pid)
    socks = []
    for _ in range(count):
        sock = socket.create_connection((host, port), timeout=5)
        sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(sock)
    time.sleep(0.5)
    lines = [f"{count} half-open connections: server RSS {before:.0f} -> {rss_mb(pid):.0f} MB"]
    seconds, status = timed_request(search_url(base, "dog"), min(timeout, 30))
    lines.append(f"a `dog` search while they are open: {seconds:.3f} s (HTTP {status})")
    start, open_now = time.perf_counter(), count
    for sock in socks:
        sock.settimeout(max(0.1, timeout - (time.perf_counter() - start)))
    while open_now and time.perf_counter() - start < timeout:
        open_now = 0
        for sock in socks:
            try:
                sock.settimeout(0.01)
                open_now += sock.recv(1) != b""
            except socket.timeout:
                open_now += 1
            except OSError:
                pass
        if open_now:
            time.sleep(0.5)
    waited = time.perf_counter() - start
    lines.append(f"the server closed them all after {waited:.1f} s" if not open_now
                 else f"{open_now} still open after {waited:.0f} s")
    for sock in socks:
        sock.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--connections-only", action="store_true", help="measure only the half-open connections")
    args = parser.parse_args()
    if not args.connections_only:
        print(f"CLI, 4,000-character unknown word: {cli(args.home, LONG_WORD, args.timeout)}")
        print(f"CLI, 20,000-word query: {cli(args.home, MANY_WORDS, args.timeout)}")
    server = subprocess.Popen([sys.executable, "-m", "devsearch", "serve", "--home", args.home, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().split()[2]
        timed_request(search_url(base, "dog"), 30)  # warm
        print(f"API, a `dog` search alone: {timed_request(search_url(base, 'dog'), 30)[0]:.3f} s")
        if not args.connections_only:
            print(f"API, 4,000-character unknown word: {concurrent_delay(base, LONG_WORD, args.timeout)}")
            print(f"API, 20,000-word query: {concurrent_delay(base, MANY_WORDS, args.timeout)}")
            print(f"API, a 30 MB upload: {concurrent_delay(base, '', args.timeout, megabytes=30)}")
            for name, query in WITHIN_LIMITS.items():
                print(f"API, {name}: {concurrent_delay(base, query, args.timeout)}")
        for line in half_open(base, server.pid, args.connections, args.timeout):
            print(f"API, {line}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
