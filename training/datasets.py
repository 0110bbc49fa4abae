"""Labelled image folders for `train` and `eval`.

A dataset is a folder with `labels.csv` (`file,label[,...]`: file relative to the folder, any
extra columns kept, e.g. `head` or `kind`) or, without one, one sub-folder per label (the folder
name is the label, `_` read as a space). `--where COLUMN=VALUE` keeps the rows of a labels.csv
whose column has that value.
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from devsearch.core.errors import InputError, UsageError
from devsearch.core.files import open_regular
from devsearch.core.formats import IMAGE_EXTENSIONS
from devsearch.model.conse import label_vectors
from devsearch.wordspace.lookup import WordLookup

LABELS_FILE = "labels.csv"
_HOW = "give a folder with labels.csv (file,label[,...]) or one sub-folder of images per label"


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    label: str
    root: Path  # the dataset folder it was read from
    fields: dict[str, str] = field(default_factory=dict)  # the other labels.csv columns


@dataclass
class Dataset:
    images: list[LabelledImage]
    problems: list[str]  # rows left out and why (missing files), to show the user

    @property
    def labels(self) -> list[str]:
        """Distinct labels in first-seen order."""
        return list(dict.fromkeys(image.label for image in self.images))

    def without_labels(self, labels: set[str]) -> "Dataset":
        return Dataset([i for i in self.images if i.label not in labels], self.problems)


def parse_where(filters: Sequence[str]) -> dict[str, str]:
    """`["kind=photo"]` -> `{"kind": "photo"}`; a filter without `=` is a UsageError."""
    parsed = {}
    for text in filters:
        column, sep, value = text.partition("=")
        if not sep or not column.strip():
            raise UsageError(f"bad filter {text!r}: write COLUMN=VALUE, e.g. kind=photo")
        parsed[column.strip()] = value.strip()
    return parsed


def check_dataset_folder(folder: Path) -> Path:
    """folder, when it exists; a UsageError that says what a dataset is otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"dataset {folder} not found: {_HOW}")
    return folder


def read_dataset(folder: Path, where: Sequence[str] = ()) -> Dataset:
    """The images of one dataset folder, filtered; a missing or empty dataset is a UsageError."""
    folder = check_dataset_folder(folder)
    filters = parse_where(where)
    if (folder / LABELS_FILE).is_file():
        dataset = _read_labels_csv(folder, filters)
    elif filters:
        raise InputError(lambda name: f"dataset {folder} has no {LABELS_FILE}, so it has no columns to filter with "
                                      f"{name('where')}")
    else:
        dataset = _read_subfolders(folder)
    if not dataset.images:
        detail = f" ({'; '.join(dataset.problems[:3])})" if dataset.problems else ""
        raise UsageError(f"dataset {folder} has no images{detail}: {_HOW}")
    return dataset


def read_datasets(folders: Sequence[Path], where: Sequence[str] = ()) -> Dataset:
    """Several datasets as one; a filter applies to the datasets whose labels.csv has its column."""
    filters = parse_where(where)
    parts = []
    for folder in folders:
        columns = _columns(Path(folder))
        parts.append(read_dataset(folder, [f"{c}={v}" for c, v in filters.items() if c in columns]))
    unused = [c for c in filters if not any(c in _columns(Path(f)) for f in folders)]
    if unused:
        raise UsageError(f"no dataset has a column {unused[0]!r} to filter on: see the header of its labels.csv")
    return Dataset([i for p in parts for i in p.images], [m for p in parts for m in p.problems])


def _columns(folder: Path) -> set[str]:
    path = folder / LABELS_FILE
    if not path.is_file():
        return set()
    with _csv_text(path) as handle:
        return set(next(csv.reader(handle), []))


@contextmanager
def _csv_text(path: Path) -> Iterator[TextIO]:
    """A CSV file open as UTF-8 text (a leading byte-order mark, as spreadsheets write, is skipped);
    text that is not UTF-8, or not CSV, is a UsageError that names the file, wherever it is read."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield handle
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise UsageError(f"{path} is not valid CSV ({exc}): fix the line it names") from None


def _read_labels_csv(folder: Path, filters: dict[str, str]) -> Dataset:
    path = folder / LABELS_FILE
    with _csv_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "file" not in columns or "label" not in columns:
            raise UsageError(f"{path} needs a header with the columns file and label (it has: {', '.join(columns) or 'none'})")
        for column in filters:
            if column not in columns:
                raise UsageError(f"{path} has no column {column!r} to filter on (it has: {', '.join(columns)})")
        images, problems = [], []
        for row in reader:
            if any(row.get(c) != v for c, v in filters.items()):
                continue
            label = " ".join((row["label"] or "").split())
            image = folder / (row["file"] or "")
            if not label or not row["file"]:
                problems.append(f"line {reader.line_num}: empty file or label")
            elif not image.is_file():
                problems.append(f"{row['file']}: no such file")
            else:
                extra = {k: v for k, v in row.items() if k not in ("file", "label") and isinstance(v, str)}
                images.append(LabelledImage(image, label, folder, extra))
    return Dataset(images, problems)


def _read_subfolders(folder: Path) -> Dataset:
    images = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        label = " ".join(sub.name.replace("_", " ").split())
        for image in sorted(sub.iterdir()):
            if image.is_file() and image.suffix.lower() in IMAGE_EXTENSIONS:
                images.append(LabelledImage(image, label, folder))
    return Dataset(images, [])


def read_label_list(path: Path) -> list[str]:
    """One label per line (blank lines and `#` comments ignored), as for --holdout-labels."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read the label list {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the label list {path} is not UTF-8 text: save it as UTF-8") from None
    return [" ".join(line.split()) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def pick_holdout(labels: Sequence[str], fraction: float, seed: int) -> list[str]:
    """A seeded random fraction of the labels (at least one, never all), sorted."""
    if not 0 < fraction < 1:
        raise InputError(lambda name: f"{name('holdout_fraction')} must be between 0 and 1, not {fraction}")
    count = min(max(1, round(len(labels) * fraction)), len(labels) - 1)
    chosen = np.random.default_rng(seed).choice(sorted(labels), size=count, replace=False)
    return sorted(str(label) for label in chosen)


def label_targets(labels: Sequence[str], words: WordLookup) -> tuple[list[str], np.ndarray, list[str]]:
    """(labels with a vector, their unit vectors (L, dims), labels skipped for having none).

    No label with a vector at all is a UsageError.
    A label is looked up as written, then with possessives and punctuation dropped
    ("grandma's old rag doll" -> "grandma old rag doll"), since word spaces split those off.
    """
    matrix, _ = label_vectors([[label, _plain(label)] for label in labels], words)
    known = np.abs(matrix).sum(axis=1) > 0
    kept = [label for label, ok in zip(labels, known) if ok]
    skipped = [label for label, ok in zip(labels, known) if not ok]
    if not kept:
        examples = ", ".join(repr(label) for label in skipped[:3])
        raise InputError(lambda name: f"none of the {len(labels)} labels has a word vector (e.g. {examples}): "
                                      f"use words the word space knows, or pass {name('words')} with a larger vocabulary")
    return kept, matrix[known], skipped


def _plain(label: str) -> str:
    return " ".join(re.sub(r"[^\w\s-]", " ", re.sub(r"'s\b", "", label)).split()) or label


def file_digest(path: Path) -> str:
    """Content identity of an image (sha256 of its bytes, 16 hex digits): the same photo anywhere."""
    with open_regular(path) as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:16]
