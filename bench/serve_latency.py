"""`devsearch serve` over real HTTP on 127.0.0.1, against a 100k-photo synthetic store.

The store is bench/query_latency.py's (unit vectors clustered around GloVe words, built once and
reused), copied to a scratch home, plus a few real 12 MP JPEGs in an indexed folder for the
thumbnail figures. The server is a real `devsearch serve` process; clients are threads of this one,
each with its own keep-alive connection. Printed:
  start-up   from the process start to the URL printed, and to the first answered search
  search     warm `GET /api/search?q=WORD&n=60` (the page's request), one client: p50 / p99, and the
             server's CPU time per request (steadier than wall time on a shared machine)
  library    `GET /api/photos?n=60` (the page with nothing searched): the first page (it sorts the
             library by date), then pages at random offsets; the same with a date filter
  thumbnail  first request (12 MP JPEG, decoded at reduced size) and cached: p50 / p99
  load       32 clients for 20 s, searches and cached thumbnails mixed: requests, errors, p50 / p99
  memory     the server's resident memory after the load (and its peak)

    python bench/serve_latency.py [--size 100000] [--clients 32] [--seconds 20] [--work DIR]

Only 127.0.0.1 is ever contacted; every loop is bounded in count or time.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from devsearch.core.settings import Settings  # noqa: E402
from devsearch.core.vectors import unit_rows  # noqa: E402
from index_throughput import make_photos  # noqa: E402
from query_latency import QUERY_VOCAB, ensure_store, ensure_tree  # noqa: E402
from devsearch.search.query_parser import STOP_WORDS  # noqa: E402
from devsearch.store.catalog import Store  # noqa: E402
from devsearch.store.hashing import content_hash  # noqa: E402
from devsearch.store.records import ChangeSet, EmbeddedPhoto  # noqa: E402
from devsearch.wordspace.sources import BUILTIN, open_words  # noqa: E402

REAL_PHOTOS = 16
PAGE = 60


def scratch_store(source: Path, home: Path, photos: list[Path], dims: int) -> None:
    """A copy of the synthetic store with real photos added under an indexed folder."""
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.lock", "thumbnails"))
    vectors = unit_rows(np.random.default_rng(7).normal(size=(len(photos), dims)))
    with Store.open(home, writer=True) as store:
        store.add_roots([str(photos[0].parent)])
        store.commit(ChangeSet(embedded=[
            EmbeddedPhoto(path=str(path), size=path.stat().st_size, mtime=path.stat().st_mtime,
                          content_hash=content_hash(path), width=4032, height=3024, taken=None, vector=vector)
            for path, vector in zip(photos, vectors)]))


def start(home: Path, cache: Path) -> tuple[subprocess.Popen, int, float]:
    """(server process, port, seconds until its URL was printed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEVSEARCH_CACHE": str(cache)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "devsearch", "serve", "--home", str(home), "--port", "0"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    printed = time.perf_counter() - started
    if "http://127.0.0.1:" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, int(line.split("http://127.0.0.1:")[1].split("/")[0]), printed


class Client:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - started) * 1000


def percentiles(times: list[float]) -> str:
    return f"p50 {np.percentile(times, 50):.2f} ms, p99 {np.percentile(times, 99):.2f} ms"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (what it used, however busy the machine was)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def load(port: int, clients: int, seconds: float, paths: list[str]) -> tuple[int, int, list[float]]:
    """clients threads, each requesting paths round-robin (from its own offset) until seconds pass."""
    results: list[tuple[int, int, list[float]]] = []
    deadline = time.monotonic() + seconds

    def worker(offset: int) -> None:
        client, done, errors, times = Client(port), 0, 0, []
        i = offset
        while time.monotonic() < deadline:
            try:
                status, _, ms = client.get(paths[i % len(paths)])
                errors += status != 200
                times.append(ms)
            except (OSError, http.client.HTTPException):
                errors += 1
                client = Client(port)
            done += 1
            i += 1
        results.append((done, errors, times))

    threads = [threading.Thread(target=worker, args=(n * 97,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return (sum(r[0] for r in results), sum(r[1] for r in results), [t for r in results for t in r[2]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "devsearch-bench-serve")
    args = parser.parse_args()
    cache = Settings().cache
    words = open_words(BUILTIN, cache)
    source = args.work / f"store-{args.size}"
    print(f"{args.size:,} photos ({source}); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    ensure_store(source, ensure_tree(args.work / f"tree-{args.size}", args.size), words)
    photos = sorted((args.work / "photos").glob("*.jpg"))
    if len(photos) < REAL_PHOTOS:
        photos = make_photos(args.work / "photos", REAL_PHOTOS, 4032, 3024)
    home = args.work / "serving"
    scratch_store(source, home, photos[:REAL_PHOTOS], words.dims)

    process, port, printed = start(home, cache)
    try:
        client = Client(port)
        status, _, first_ms = client.get(f"/api/search?q=dog&n={PAGE}")
        print(f"  start-up: URL printed {printed:.2f} s after the process started (target < 2 s); "
              f"the first search then answered {status} in {first_ms:.1f} ms")
        vocab = [w for w in words.words[:QUERY_VOCAB] if w.isalpha() and w not in STOP_WORDS]  # stop words are refused
        picks = np.random.default_rng(0).choice(len(vocab), args.queries)
        for word in ("dog", "cat", "beach"):  # warm-up
            client.get(f"/api/search?q={word}&n={PAGE}")
        times, errors = [], 0
        cpu_before = cpu_seconds(process.pid)
        for i in picks:
            status, _, ms = client.get(f"/api/search?q={vocab[i]}&n={PAGE}")
            errors += status != 200
            times.append(ms)
        cpu_ms = (cpu_seconds(process.pid) - cpu_before) * 1000 / len(picks)
        print(f"  search, warm, one client, n={PAGE}: {percentiles(times)} (targets 5 / 20 ms); {errors} errors; "
              f"server CPU {cpu_ms:.2f} ms a request")

        status, body, first_page_ms = client.get(f"/api/photos?n={PAGE}")  # sorts the library (once a generation)
        total = json.loads(body)["total"]
        offsets = np.random.default_rng(1).integers(0, total - PAGE, args.queries)
        pages = [client.get(f"/api/photos?n={PAGE}&offset={offset}")[2] for offset in offsets]
        _, _, filtered_ms = client.get(f"/api/photos?n={PAGE}&after=2020-01-01")  # one filter query, then kept
        filtered = [client.get(f"/api/photos?n={PAGE}&after=2020-01-01&offset={offset}")[2] for offset in offsets[:100]]
        print(f"  library newest first, {total:,} photos: first page {first_page_ms:.0f} ms (the sort, once per "
              f"store generation), then pages anywhere {percentiles(pages)} ({np.median(pages) / np.median(times):.2f}x "
              f"a search); with a date filter: first page {filtered_ms:.0f} ms, then {percentiles(filtered)}")

        with Store.open(home) as store:
            real_ids = [store.find_by_path(path).id for path in photos[:REAL_PHOTOS]]
        first = [client.get(f"/thumb/{photo_id}")[2] for photo_id in real_ids]
        cached = [client.get(f"/thumb/{real_ids[i % len(real_ids)]}")[2] for i in range(args.queries)]
        print(f"  thumbnail of a 12 MP JPEG, first request: median {statistics.median(first):.1f} ms; "
              f"cached: {percentiles(cached)} (target 2 ms)")

        paths = [f"/api/search?q={vocab[i]}&n={PAGE}" for i in picks[:200]]
        paths += [f"/thumb/{photo_id}" for photo_id in real_ids] * 4
        done, failed, under_load = load(port, args.clients, args.seconds, paths)
        print(f"  {args.clients} clients for {args.seconds:.0f} s: {done:,} requests ({done / args.seconds:.0f}/s), "
              f"{failed} errors (target 0); {percentiles(under_load)}")
        print(f"  server memory: {rss_kb(process.pid, 'VmRSS') / 1024:.0f} MB resident "
              f"(peak {rss_kb(process.pid, 'VmHWM') / 1024:.0f} MB)")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
