"""Is `devsearch index` as fast as its parts allow? Decode-only, network-only and end-to-end images/s.

For each photo size it makes N distinct JPEGs (sample photos scaled up, with sensor-like noise) and
prints, measured in this run, for the light runtime (litert, model/runtime.py) and each Keras backend
asked for (each in a process of its own, since Keras picks its backend once per process):
- decode-only: `decode_photo` on all cores (a process per core), files already in the page cache;
  with --decoder gpu, the indexer's decode workers (hash and header) plus nvJPEG on the GPU;
- network-only, per precision: the default bundle's compiled embed on full uint8 batches in memory;
- end-to-end: the indexer pipeline (`run_index`, as `devsearch index` runs it, model already loaded,
  at the precision `auto` picks), with the people detectors (the default) and without (`--no-people`),
  and people/none, the share of the throughput left with them;
- ratio = end-to-end / ceiling, where on a CPU-only machine decode and inference share the cores, so
  ceiling = 1 / (1/decode + 1/network); with --accelerator the ceiling is decode-only, and the ratio
  is end-to-end / decode-only.
One-time start-up (importing Keras, loading the model, compiling, starting the forkserver that the
decode workers fork from) is left out of all three and shows in the CLI wall time instead.
Each figure is the best of --repeat rounds, the three measured in turn in every round, so a burst of
load from elsewhere on the machine does not land on one of them only.
It also times a re-run over 10,000 unchanged files (which must decode nothing and take well under a
second).

    python bench/index_throughput.py [--n 96] [--sizes 4032x3024,1600x1200] [--repeat 3]
                                     [--batch-size 32] [--workers N] [--backends litert,tensorflow,jax]
                                     [--precisions float32,bfloat16] [--decoder cpu|gpu] [--accelerator]
"""
from __future__ import annotations

import argparse
import json
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

from devsearch.core.settings import Settings  # noqa: E402
from devsearch.core.photo import decode_photo  # noqa: E402

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


def decode_only(paths: list[Path], decoder: str, batch_size: int, workers: int) -> tuple[float, np.ndarray]:
    """images/s of decoding on all cores (or the GPU), and the decoded pixels."""
    if decoder == "gpu":
        return _decode_on_gpu(paths, batch_size, workers)
    with multiprocessing.get_context("forkserver").Pool(workers) as pool:
        pool.map(_decode_pixels, [str(p) for p in paths[:workers]])  # workers started and warm
        start = time.perf_counter()
        pixels = pool.map(_decode_pixels, [str(p) for p in paths], chunksize=4)
        elapsed = time.perf_counter() - start
    return len(paths) / elapsed, np.stack(pixels)


def _decode_on_gpu(paths: list[Path], batch_size: int, workers: int) -> tuple[float, np.ndarray]:
    from devsearch.indexer.decode import DecodePool, Work
    from devsearch.indexer.gpu_decode import GpuJpegDecoder

    decoder = GpuJpegDecoder()
    works = [Work(str(p), p.stat().st_size, p.stat().st_mtime, "new") for p in paths]
    with DecodePool(workers, leave_jpeg=True) as pool:
        decoder.complete(list(pool.decode(works[:batch_size], 4, workers)))  # workers and nvJPEG warm
        start = time.perf_counter()
        decoded = list(pool.decode(works, 4, 2 * workers))
        done = [d for i in range(0, len(decoded), batch_size) for d in decoder.complete(decoded[i:i + batch_size])]
        elapsed = time.perf_counter() - start
    return len(paths) / elapsed, np.stack([d.pixels for d in done])


def network_only(bundle, pixels: np.ndarray, batch_size: int) -> float:
    batches = [pixels[i:i + batch_size] for i in range(0, len(pixels), batch_size)]
    for batch in batches[:2]:
        bundle.embed(batch, pad_to=batch_size)  # compile, warm the caches
    start = time.perf_counter()
    for batch in batches:
        bundle.embed(batch, pad_to=batch_size)
    return len(pixels) / (time.perf_counter() - start)


def end_to_end(bundle, folder: Path, home: Path, batch_size: int, workers: int, decoder: str, people=None) -> float:
    from devsearch.indexer.gpu_decode import GpuJpegDecoder
    from devsearch.indexer.crawl import resolve_roots
    from devsearch.indexer.pipeline import IndexOptions, run_index
    from devsearch.store.catalog import Store

    with Store.open(home, writer=True) as store:
        start = time.perf_counter()
        summary = run_index(resolve_roots([folder]), store, lambda images: bundle.embed(images, pad_to=batch_size),
                            bundle.manifest, IndexOptions(batch_size=batch_size, workers=workers,
                                                          jpeg_decoder=GpuJpegDecoder() if decoder == "gpu" else None,
                                                          people=people))
        elapsed = time.perf_counter() - start
    assert summary.new == len(list(folder.glob("*.jpg"))), summary
    return summary.new / elapsed


def cli_wall(folder: Path, home: Path, args: argparse.Namespace, backend: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "devsearch", "index", str(folder), "--home", str(home), "--batch-size",
                    str(args.batch_size), "--workers", str(args.workers), "--backend", backend,
                    "--decoder", args.decoder], cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def measure_backend(args: argparse.Namespace) -> dict:
    """In this process, on args.child's backend: best decode, network (per precision) and index figures."""
    from devsearch.indexer.service import people_step
    from devsearch.model.backend import resolve_precision
    from devsearch.model.resolver import resolve_model

    base = Path(args.base)
    sizes = args.sizes.split(",")
    precisions = ["float32"] if args.child == "litert" else args.precisions.split(",")  # the runtime's only one
    bundles = {p: resolve_model(Settings(home=base / "unused", backend=args.child, precision=p)).network()
               for p in precisions}
    some = next(iter(bundles.values()))
    default = resolve_precision("auto", args.child, some.device)
    bundle = bundles.get(default) or resolve_model(Settings(home=base / "unused", backend=args.child, precision=default)).network()
    people = people_step(resolve_model(Settings(home=base / "unused", backend=args.child, precision=default)))
    people.detect(np.zeros((256, 256, 3), np.uint8))  # the detectors loaded and warm (start-up is left out)
    best = {size: {"decode": 0.0, "network": {p: 0.0 for p in bundles}, "index": 0.0, "people": 0.0} for size in sizes}
    for round_number in range(args.repeat):
        for size in sizes:
            photos = sorted((base / size).glob("*.jpg"))
            decode, pixels = decode_only(photos, args.decoder, args.batch_size, args.workers)
            figures = best[size]
            figures["decode"] = max(figures["decode"], decode)
            for precision, each in bundles.items():
                figures["network"][precision] = max(figures["network"][precision],
                                                    network_only(each, pixels, args.batch_size))
            home = base / f"home-{args.child}-{size}-{round_number}"
            figures["index"] = max(figures["index"], end_to_end(bundle, base / size, home, args.batch_size,
                                                                args.workers, args.decoder))
            figures["people"] = max(figures["people"], end_to_end(bundle, base / size, Path(f"{home}-people"),
                                                                  args.batch_size, args.workers, args.decoder, people))
    return {"network": bundle.runtime(), "sizes": best}


def unchanged_rerun(base: Path, n: int = 10_000) -> float:
    """Seconds for run_index over n files the store already has (vectors are placeholders: nothing is decoded)."""
    from devsearch.indexer.crawl import crawl, resolve_roots
    from devsearch.indexer.pipeline import run_index
    from devsearch.store.catalog import Store
    from devsearch.store.records import ChangeSet, EmbeddedPhoto

    folder = base / "unchanged"
    for i in range(n):
        sub = folder / f"{i // 500:03}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05}.jpg").write_bytes(b"x" * (i % 97 + 1))
    from devsearch.model.manifest import Manifest

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
        summary = run_index(resolve_roots([folder]), store, must_not_embed, manifest)
        elapsed = time.perf_counter() - start
    assert summary.unchanged == n, summary
    return elapsed


def _report(args: argparse.Namespace, base: Path, backend: str, measured: dict) -> None:
    network = measured["network"]
    print(f"\n{backend} on {network['device']} (end-to-end at {network['precision']}), decoder {args.decoder}")
    precisions = list(next(iter(measured["sizes"].values()))["network"])
    print(f"{'size':>10} {'decode/s':>9} " + " ".join(f"{'net ' + p[:4] + '/s':>11}" for p in precisions)
          + f" {'ceiling/s':>10} {'index/s':>8} {'ratio':>6} {'idx/dec':>8} {'people/s':>9} {'people/none':>12}"
          f" {'CLI wall s':>11}")
    for size, figures in measured["sizes"].items():
        decode, indexed = figures["decode"], figures["index"]
        network_figure = figures["network"].get(network["precision"]) or max(figures["network"].values())
        ceiling = decode if args.accelerator else 1.0 / (1.0 / decode + 1.0 / network_figure)
        wall = cli_wall(base / size, base / f"cli-home-{backend}-{size}", args, backend)
        print(f"{size:>10} {decode:9.1f} " + " ".join(f"{figures['network'][p]:11.1f}" for p in precisions)
              + f" {ceiling:10.1f} {indexed:8.1f} {indexed / ceiling:6.2f} {indexed / decode:8.2f}"
              f" {figures['people']:9.1f} {figures['people'] / indexed:12.2f} {wall:11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=96, help="photos per size")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each figure is the best round")
    parser.add_argument("--sizes", default="4032x3024,1600x1200")
    parser.add_argument("--batch-size", type=int, default=Settings().batch_size)
    parser.add_argument("--workers", type=int, default=Settings().workers)
    parser.add_argument("--backends", default="litert,tensorflow,jax",
                        help="the light runtime and Keras backends to measure, each in its own process")
    parser.add_argument("--precisions", default="float32,bfloat16", help="network-only figures for each")
    parser.add_argument("--decoder", default="cpu", choices=("cpu", "gpu"))
    parser.add_argument("--accelerator", action="store_true", help="ceiling = decode-only (network on a GPU)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: measure this backend, print JSON
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()

    multiprocessing.get_context("forkserver").set_forkserver_preload(["devsearch.indexer.decode"])  # as DecodePool does
    if args.child:
        print(json.dumps(measure_backend(args)))
        return
    with tempfile.TemporaryDirectory(prefix="devsearch-bench-") as tmp:
        base = Path(tmp)
        print(f"cores {os.cpu_count()}, workers {args.workers}, batch {args.batch_size}, N {args.n} per size")
        print(f"re-run over 10,000 unchanged files: {unchanged_rerun(base):.3f} s")
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            make_photos(base / size, args.n, width, height)
        for backend in args.backends.split(","):
            child = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--child", backend, "--base", str(base)],
                                   cwd=REPO, capture_output=True, text=True)
            if child.returncode != 0:
                print(f"\n{backend}: failed: {child.stderr.strip().splitlines()[-1:]}")
                continue
            _report(args, base, backend, json.loads(child.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
