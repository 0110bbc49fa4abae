"""What `devsearch index --ray local` costs against the native pipeline, on the same photos, in one run.

It makes N distinct JPEGs (as bench/index_throughput.py does), loads the default model once in this
process, starts one local Ray cluster, and indexes the photos into fresh stores three times: native,
on Ray, native again (the native runs bracket the Ray one, so a burst of load from elsewhere on the
machine does not land on one side only). Printed per run:
- steady images/s: the photos committed after the first batch / the time from the first commit to
  the last. This leaves out each run's start-up, which is not throughput: on Ray the embedding actor
  starting and loading its model (decoding waits for it, so no work hides in the start-up); natively
  the decode workers starting. Both then compile the network for the batch shape before the first commit;
- the start-up (time to the first commit) and the wall time, for what a run of N photos costs in all;
- the overhead ratio = Ray steady / native steady (the mean of the two native runs); the target on
  this 2-core machine, where Ray's processes and the model share the cores, is >= 0.7.
Starting the local cluster itself is timed once, apart.

    python bench/ray_index.py [--n 320] [--size 1600x1200] [--batch-size 32] [--workers N]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from devsearch.core.settings import Settings  # noqa: E402
from index_throughput import make_photos  # noqa: E402


class CommitTimes:
    """A Progress (indexer.progress.Progress) that notes when each batch was committed."""

    def __init__(self):
        self.times: list[tuple[float, int]] = []
        self.on = "this machine"

    def start(self, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        self.times.append((time.perf_counter(), done))

    def workers(self, description: str) -> None:
        self.on = description

    def finish(self) -> None:
        pass


def timed_run(folder: Path, home: Path, model, batch_size: int, workers: int, remote=None) -> dict:
    """One run_index into a fresh store: steady images/s, start-up and wall seconds, who worked."""
    from devsearch.indexer.crawl import resolve_roots
    from devsearch.indexer.pipeline import IndexOptions, run_index
    from devsearch.store.catalog import Store

    progress = CommitTimes()
    with Store.open(home, writer=True) as store:
        started = time.perf_counter()
        summary = run_index(resolve_roots([folder]), store, partial(model.embed_for_store, pad_to=batch_size),
                            model.manifest, IndexOptions(batch_size=batch_size, workers=workers, progress=progress,
                                                         remote=remote))
        wall = time.perf_counter() - started
    assert summary.new == len(list(folder.glob("*.jpg"))) and not summary.failed, summary
    (first, _), (last, _) = progress.times[0], progress.times[-1]
    after_first = sum(done for _, done in progress.times[1:])
    return {"steady": after_first / (last - first), "startup": first - started, "wall": wall, "on": progress.on}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=320, help="photos")
    parser.add_argument("--size", default="1600x1200")
    parser.add_argument("--batch-size", type=int, default=Settings().batch_size)
    parser.add_argument("--workers", type=int, default=Settings().workers, help="decode processes / local Ray CPUs")
    args = parser.parse_args()

    from devsearch.indexer.ray_cluster import connected
    from devsearch.indexer.service import on_ray
    from devsearch.model.resolver import resolve_model

    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="devsearch-bench-ray-") as tmp:
        base = Path(tmp)
        folder = base / "photos"
        make_photos(folder, args.n, width, height)
        settings = Settings(home=base / "unused", batch_size=args.batch_size, workers=args.workers)
        model = resolve_model(settings)
        model.network()  # loaded here once, before any run
        print(f"cores {os.cpu_count()}, workers {args.workers}, batch {args.batch_size}, {args.n} photos {args.size}, "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        started = time.perf_counter()
        with connected("local", args.workers):
            print(f"local Ray cluster started in {time.perf_counter() - started:.1f} s", flush=True)
            remote = on_ray("local", settings, model.manifest)
            runs = {}
            for name, on in (("native", None), ("ray local", remote), ("native again", None)):
                run = runs[name] = timed_run(folder, base / f"home-{len(runs)}", model, args.batch_size,
                                             args.workers, on)
                print(f"{name:>12}: steady {run['steady']:5.1f} images/s; start-up {run['startup']:5.1f} s, "
                      f"wall {run['wall']:5.1f} s ({run['on']})", flush=True)
        native = (runs["native"]["steady"] + runs["native again"]["steady"]) / 2
        print(f"overhead ratio (Ray steady / native steady): {runs['ray local']['steady'] / native:.2f} "
              f"(target >= 0.7); load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
