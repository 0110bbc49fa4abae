"""Is `devsearch index` as fast as its parts allow? Decode-only, network-only and end-to-end images/s.

For each photo size it makes N distinct JPEGs (sample photos scaled up, with sensor-like noise) and
prints, measured in this run:
- decode-only: `decode_photo` on all cores (a process per core), files already in the page cache;
- network-only: the default bundle's compiled embed on uint8 batches already in memory;
- end-to-end: the indexer pipeline (`run_index`, as `devsearch index` runs it, model already loaded);
- ratio = end-to-end / ceiling, where on a CPU-only machine decode and inference share the cores, so
  ceiling = 1 / (1/decode + 1/network); with an accelerator the ceiling is decode-only.
One-time start-up (importing TensorFlow, loading the model, starting the forkserver that the decode
workers fork from) is left out of all three and shows in the CLI wall time instead.
Each figure is the best of --repeat rounds, the three measured in turn in every round, so a burst of
load from elsewhere on the machine does not land on one of them only.
It also times a real `devsearch index` process (start-up and model load included, for context) and
a re-run over 10,000 unchanged files (which must decode nothing and take well under a second).

    python bench/index_throughput.py [--n 96] [--sizes 4032x3024,1600x1200] [--repeat 3]
                                     [--batch-size 32] [--workers N] [--accelerator]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.settings import Settings  # noqa: E402
from core.photo import decode_photo  # noqa: E402

SAMPLES = sorted((REPO / "samples").glob("*.jpg"))


def _make_photo(job: tuple[int, int, int, str]) -> None:
    """One distinct photo: a sample, mirrored/shifted by its index, scaled up, with noise."""
    index, width, height, out = job
    rng = np.random.default_rng(index)
    with Image.open(SAMPLES[index % len(SAMPLES)]) as sample:
        image = sample.convert("RGB")
    if index // len(SAMPLES) % 2:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 4, (height, width, 1)).astype(np.int16)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, quality=92)


def make_photos(folder: Path, n: int, width: int, height: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{i:04}.jpg" for i in range(n)]
    with multiprocessing.get_context("forkserver").Pool() as pool:
        pool.map(_make_photo, [(i, width, height, str(p)) for i, p in enumerate(paths)])
    for path in paths:  # into the page cache, so every measurement below starts from the same place
        path.read_bytes()
    return paths


def _decode_pixels(path: str) -> np.ndarray:
    return decode_photo(path).pixels


def decode_only(paths: list[Path]) -> tuple[float, np.ndarray]:
    """images/s of decode_photo with one process per core, and the decoded pixels."""
    with multiprocessing.get_context("forkserver").Pool(os.cpu_count()) as pool:
        pool.map(_decode_pixels, [str(p) for p in paths[: os.cpu_count()]])  # workers started and warm
        start = time.perf_counter()
        pixels = pool.map(_decode_pixels, [str(p) for p in paths], chunksize=4)
        elapsed = time.perf_counter() - start
    return len(paths) / elapsed, np.stack(pixels)


def network_only(bundle, pixels: np.ndarray, batch_size: int) -> float:
    batches = [pixels[i:i + batch_size] for i in range(0, len(pixels), batch_size)]
    for batch in batches[:2]:
        bundle.embed(batch)  # compile for the batch shapes
    bundle.embed(batches[-1])
    start = time.perf_counter()
    for batch in batches:
        bundle.embed(batch)
    return len(pixels) / (time.perf_counter() - start)


def end_to_end(bundle, folder: Path, home: Path, batch_size: int, workers: int) -> float:
    from indexer.pipeline import run_index
    from store.catalog import Store

    with Store.open(home, writer=True) as store:
        start = time.perf_counter()
        summary = run_index([folder], store, bundle.embed, bundle.manifest, batch_size=batch_size, workers=workers)
        elapsed = time.perf_counter() - start
    assert summary.new == len(list(folder.glob("*.jpg"))), summary
    return summary.new / elapsed


def cli_wall(folder: Path, home: Path, batch_size: int, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", "index", str(folder), "--home", str(home), "--batch-size",
                    str(batch_size), "--workers", str(workers)], cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def unchanged_rerun(base: Path, n: int = 10_000) -> float:
    """Seconds for run_index over n files the store already has (vectors are placeholders: nothing is decoded)."""
    from indexer.crawl import crawl
    from indexer.pipeline import run_index
    from store.catalog import Store
    from store.records import ChangeSet, EmbeddedPhoto

    folder = base / "unchanged"
    for i in range(n):
        sub = folder / f"{i // 500:03}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05}.jpg").write_bytes(b"x" * (i % 97 + 1))
    from model.manifest import Manifest

    manifest = Manifest(fingerprint="bench-placeholder:1", dims=8, backbone="none", head="none", words="none",
                        words_name="none", labels="none")
    vector = np.full(8, 8 ** -0.5, dtype=np.float32)

    def must_not_embed(images: np.ndarray) -> np.ndarray:
        raise AssertionError("an unchanged file was decoded")

    with Store.open(base / "unchanged-home", writer=True) as store:
        store.bind_model(manifest)
        files = crawl([str(folder.resolve())]).files
        for start in range(0, len(files), 1000):
            store.commit(ChangeSet(embedded=[EmbeddedPhoto(f.path, f.size, f.mtime, "-", 1, 1, None, vector)
                                             for f in files[start:start + 1000]]))
        store.add_roots([str(folder.resolve())])
    with Store.open(base / "unchanged-home", writer=True) as store:
        start = time.perf_counter()
        summary = run_index([folder], store, must_not_embed, manifest)
        elapsed = time.perf_counter() - start
    assert summary.unchanged == n, summary
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=96, help="photos per size")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each figure is the best round")
    parser.add_argument("--sizes", default="4032x3024,1600x1200")
    parser.add_argument("--batch-size", type=int, default=Settings().batch_size)
    parser.add_argument("--workers", type=int, default=Settings().workers)
    parser.add_argument("--accelerator", action="store_true", help="ceiling = decode-only (network on a GPU)")
    args = parser.parse_args()

    multiprocessing.get_context("forkserver").set_forkserver_preload(["indexer.decode"])  # as DecodePool does
    with tempfile.TemporaryDirectory(prefix="devsearch-bench-") as tmp:
        base = Path(tmp)
        print(f"cores {os.cpu_count()}, workers {args.workers}, batch {args.batch_size}, N {args.n} per size")
        print(f"re-run over 10,000 unchanged files: {unchanged_rerun(base):.3f} s")
        sizes = args.sizes.split(",")
        photos = {}
        for size in sizes:
            width, height = (int(v) for v in size.split("x"))
            photos[size] = make_photos(base / size, args.n, width, height)
        from model.resolver import resolve_model

        bundle = resolve_model(Settings(home=base / "unused")).network()
        best = {size: {"decode": 0.0, "network": 0.0, "index": 0.0} for size in sizes}
        for round_number in range(args.repeat):
            for size in sizes:
                decode, pixels = decode_only(photos[size])
                network = network_only(bundle, pixels, args.batch_size)
                indexed = end_to_end(bundle, base / size, base / f"home-{size}-{round_number}", args.batch_size,
                                     args.workers)
                for name, value in (("decode", decode), ("network", network), ("index", indexed)):
                    best[size][name] = max(best[size][name], value)
        print(f"{'size':>10} {'decode/s':>9} {'network/s':>10} {'ceiling/s':>10} {'index/s':>8} {'ratio':>6} {'CLI wall s':>11}")
        for size in sizes:
            decode, network, indexed = best[size]["decode"], best[size]["network"], best[size]["index"]
            ceiling = decode if args.accelerator else 1.0 / (1.0 / decode + 1.0 / network)
            wall = cli_wall(base / size, base / f"cli-home-{size}", args.batch_size, args.workers)
            print(f"{size:>10} {decode:9.1f} {network:10.1f} {ceiling:10.1f} {indexed:8.1f} {indexed / ceiling:6.2f} {wall:11.1f}")


if __name__ == "__main__":
    main()
