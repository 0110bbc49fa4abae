"""Small generated labelled image sets for training and evaluation tests: one look per label."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 96


def _sun(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    draw.rectangle((0, 0, SIZE, SIZE), fill=(110, 170, 240))
    x, y, r = rng.integers(25, 70), rng.integers(25, 70), rng.integers(12, 22)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 220, 40))


def _grass(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    draw.rectangle((0, 0, SIZE, SIZE), fill=(60, 150, 50))
    for x in rng.integers(0, SIZE, 30):
        draw.line((x, SIZE, x + rng.integers(-6, 7), rng.integers(10, 60)), fill=(20, 90, 20), width=2)


def _fire(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    draw.rectangle((0, 0, SIZE, SIZE), fill=(30, 10, 5))
    for _ in range(6):
        x = rng.integers(10, 86)
        draw.polygon([(x - 12, SIZE), (x + 12, SIZE), (x + rng.integers(-5, 6), rng.integers(15, 50))],
                     fill=(255, rng.integers(60, 160), 0))


def _night(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    draw.rectangle((0, 0, SIZE, SIZE), fill=(10, 15, 50))
    for x, y in rng.integers(0, SIZE, (40, 2)):
        draw.point((x, y), fill=(255, 255, 255))


def _ocean(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    draw.rectangle((0, 0, SIZE, SIZE), fill=(20, 70, 160))
    phase, amplitude = rng.uniform(0, 6.3), rng.uniform(2, 6)
    for y in range(int(rng.integers(4, 12)), SIZE, 14):
        draw.line([(x, y + amplitude * np.sin(x / 8 + y + phase)) for x in range(0, SIZE, 4)],
                  fill=(230, 240, 255), width=2)


def _snow(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    draw.rectangle((0, 0, SIZE, SIZE), fill=(235, 240, 250))
    for x, y in rng.integers(0, SIZE, (25, 2)):
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(170, 190, 220))


PAINTERS = {"sun": _sun, "grass": _grass, "fire": _fire, "night": _night, "ocean": _ocean, "snow": _snow}


def make_dataset(folder: Path, per_label: int, seed: int, labels: tuple[str, ...] = tuple(PAINTERS)) -> Path:
    """A labels.csv dataset: per_label images of each label's look (labels without a painter: the sun's)."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for label in labels:
        for i in range(per_label):
            image = Image.new("RGB", (SIZE, SIZE))
            PAINTERS.get(label, _sun)(ImageDraw.Draw(image), rng)
            name = f"images/{label.replace(' ', '-')}-{seed}-{i}.jpg"
            image.save(folder / name, quality=90)
            rows.append({"file": name, "label": label, "kind": "photo" if i % 2 else "drawing"})
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "label", "kind"])
        writer.writeheader()
        writer.writerows(rows)
    return folder
