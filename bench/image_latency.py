"""How long does a command that looks at a photo take, from a fresh process? Wall seconds, and the
ratio to `python -c "import devsearch.cli.app"` measured in the same run.

Warm cache (the network converted, the word vectors built), each command in a fresh process, the
median of --repeat runs:
- `labels samples/coffee.jpg` (a store that does not hold it: the network answers),
- `labels` of a photo the store holds (answered from the store, no network),
- `similar NEW.jpg` and `query "dog + ./NEW.jpg"`, NEW.jpg a photo the store does not hold.
Then the first run on an empty cache (word vectors, the built-in model and its conversion for the
light runtime, all once): `labels samples/coffee.jpg` and the README's "Try it" `index samples`,
each with the seconds until its first line on stderr. --backend tensorflow measures Keras instead.

    python bench/image_latency.py [--repeat 5] [--backend auto|litert|tensorflow|jax]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COFFEE = REPO / "samples" / "coffee.jpg"


def timed(args: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, float | None]:
    """(wall seconds, seconds until the first byte on stderr or None) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = process.stderr.read(1)
    spoke = time.perf_counter() - start if first else None
    process.stderr.read()
    if process.wait() != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return time.perf_counter() - start, spoke


def median_wall(args: list[str], env: dict[str, str], repeat: int, cwd: Path = REPO) -> float:
    return statistics.median(timed(args, env, cwd)[0] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    devsearch = [sys.executable, "-m", "devsearch"]
    with tempfile.TemporaryDirectory(prefix="devsearch-image-latency-") as tmp:
        base = Path(tmp)
        env = {**os.environ, "DEVSEARCH_CACHE": str(base / "cache"), "DEVSEARCH_BACKEND": args.backend}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached (else ~0.25 s of compiling each run)
        first_labels = timed([*devsearch, "labels", str(COFFEE), "--home", str(base / "none")], env)
        shutil.rmtree(base / "cache")
        first_index = timed([*devsearch, "index", "samples", "--home", str(base / "first-home")], env)
        home = base / "home"
        subprocess.run([*devsearch, "index", "samples", "--home", str(home)], cwd=REPO, env=env, check=True,
                       capture_output=True)
        new = base / "NEW.jpg"
        new.write_bytes(COFFEE.read_bytes() + b"\0")  # the same picture, another content hash: not indexed
        imports = median_wall([sys.executable, "-c", "import devsearch.cli.app"], env, args.repeat)
        rows = [
            ("labels samples/coffee.jpg (network)", [*devsearch, "labels", str(COFFEE), "--home", str(base / "none")]),
            ("labels of an indexed photo (store)", [*devsearch, "labels", str(COFFEE), "--home", str(home)]),
            ("similar NEW.jpg (not indexed)", [*devsearch, "similar", str(new), "--home", str(home)]),
            ('query "dog + ./NEW.jpg"', [*devsearch, "query", "dog + ./NEW.jpg", "--home", str(home)]),
        ]
        print(f"backend {args.backend}, cores {os.cpu_count()}, median of {args.repeat} fresh processes, warm cache")
        print(f"{'command':40} {'wall s':>7} {'x import':>9}")
        print(f"{'python -c import devsearch.cli.app':40} {imports:7.2f} {1.0:9.1f}")
        for name, command in rows:
            wall = median_wall(command, env, args.repeat, cwd=base)
            print(f"{name:40} {wall:7.2f} {wall / imports:9.1f}")
        print("\nfirst run on an empty cache (one run each)")
        for name, (wall, spoke) in (("labels samples/coffee.jpg", first_labels), ("index samples (README 'Try it')",
                                                                                  first_index)):
            said = f"{spoke:.1f} s" if spoke is not None else "never"
            print(f"{name:40} {wall:7.1f} s wall, first line on stderr after {said}")


if __name__ == "__main__":
    main()
