"""Parse a query into weighted terms: `dog`, `"golden retriever"`, `2:dog + ./beach.jpg - people`.

The grammar is rclip's: terms joined by ` + ` or ` - ` (spaces around the operator, so that
`golden-retriever` and `./my-photo.jpg` stay one term), each with an optional `W:` weight. A term is
an image when it names an existing file or looks like a path (has a `/` or an image extension);
everything else is a word or phrase for the word space. Parsing touches no model and no store.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ImageError, UsageError
from core.formats import IMAGE_EXTENSIONS

# an operator between terms: + or - with whitespace (or the query's start/end) on both sides
_OPERATOR = re.compile(r"(?:^|\s+)([+-])(?=\s|$)")
_WEIGHT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*:\s*(.*)$", re.S)


@dataclass(frozen=True)
class Term:
    """One part of a query: a signed weight and either a word/phrase or an image file."""

    weight: float
    text: str
    image: Path | None = None  # set for image terms (resolved, existing)

    @property
    def is_image(self) -> bool:
        return self.image is not None


def shaped_like_path(text: str) -> bool:
    """Whether a term is written like a photo path (has a `/` or an image extension)."""
    return "/" in text or Path(text).suffix.lower() in IMAGE_EXTENSIONS


def looks_like_image(text: str) -> bool:
    """Whether a term means a photo file: an existing file, or something shaped like a path."""
    if shaped_like_path(text):
        return True
    try:
        return Path(text).expanduser().is_file()
    except OSError:  # a name too long for the file system is a word, not a file
        return False


def image_path(text: str) -> Path:
    """The resolved path of an existing file named by text; ImageError when missing or a folder."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise ImageError(f"{text} is a directory, not a photo: give an image file")
    if not path.is_file():
        raise ImageError(f"no such photo: {text}: check the path (words with '/' or an image extension are read as files)")
    return path.resolve()


def parse_term(raw: str, sign: float = 1.0, *, files: bool = True) -> Term:
    """One term with its optional `W:` prefix; sign is -1 for subtracted terms.

    files=False (a query from the web page): the file system is never looked at; a term shaped
    like a photo path is a UsageError, everything else a word or phrase.
    """
    weight = 1.0
    match = _WEIGHT.match(raw)
    if match:
        weight = float(match.group(1))
        raw = match.group(2)
    text = " ".join(raw.split())
    if not text:
        raise UsageError("empty term in the query: write it like `dog`, `2:golden retriever + beach - people`")
    if not files:
        if shaped_like_path(text):
            raise UsageError(f"{text!r} looks like a photo path, and paths are not read here: "
                             "drop the photo onto the page, or pick it, to search by example")
        return Term(weight=sign * weight, text=text)
    image = image_path(text) if looks_like_image(text) else None
    return Term(weight=sign * weight, text=text, image=image)


def split_terms(query: str) -> list[tuple[float, str]]:
    """(sign, raw term) pairs of one query string, operators removed."""
    parts = _OPERATOR.split(query.strip())
    # re.split with one group: [head, op, term, op, term, ...]; head is empty when the query starts with an operator
    pairs: list[tuple[float, str]] = []
    if parts[0].strip() or len(parts) == 1:
        pairs.append((1.0, parts[0].strip()))
    for op, raw in zip(parts[1::2], parts[2::2]):
        pairs.append((-1.0 if op == "-" else 1.0, raw.strip()))
    return pairs


def parse_query(text: str, add: Iterable[str] = (), subtract: Iterable[str] = (), *,
                files: bool = True) -> list[Term]:
    """All terms of a query string plus `--add`/`--subtract` terms; UsageError when there are none.

    files=False: words and phrases only, the file system untouched (see parse_term).
    """
    add, subtract = list(add), list(subtract)
    terms: list[Term] = []
    if text.strip():
        terms += [parse_term(raw, sign, files=files) for sign, raw in split_terms(text)]
    terms += [parse_term(raw, files=files) for raw in add]
    terms += [parse_term(raw, -1.0, files=files) for raw in subtract]
    if not terms:
        raise UsageError("empty query: give a word, a phrase or a photo, e.g. `devsearch query dog`")
    return terms
