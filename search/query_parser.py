"""Parse a query into weighted terms: `dog`, `"golden retriever"`, `2:dog + ./beach.jpg - people`.

The grammar is rclip's: terms joined by ` + ` or ` - ` (spaces around the operator, so that
`golden-retriever` and `./my-photo.jpg` stay one term), each with an optional `W:` weight. A term is
an image when it names an existing file or looks like a path (has a `/` or an image extension);
everything else is a word or phrase for the word space. Parsing touches no model and no store.
"""
from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from devsearch.core.errors import ImageError, UsageError
from devsearch.core.files import kind_of
from devsearch.core.formats import IMAGE_EXTENSIONS

# English function words: a query made only of these has nothing to find (and GloVe places them all
# near each other, far from any photo's subject)
STOP_WORDS = frozenset("""
a an the this that these those some any each every no not
i me my myself we us our ours ourselves you your yours yourself yourselves he him his himself she her hers
herself it its itself they them their theirs themselves what which who whom whose
am is are was were be been being have has had having do does did doing will would shall should can could
may might must
and but or nor so yet if then else than because as until while of at by for with about against between
into through during before after to from in on onto upon within without per via
there here when where why how all both few more most other such only own same too very just also
s t don't doesn't isn't aren't wasn't weren't won't can't
""".split())
# an operator between terms: + or - with whitespace (or the query's start/end) on both sides
_OPERATOR = re.compile(r"(?:^|\s+)([+-])(?=\s|$)")
# the most a query may hold: every term costs a word lookup and a WordNet walk, so the work of one
# query (and the wait of every query queued behind it on a server) stays bounded
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
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
        return Path(os.path.expanduser(text)).is_file()
    except (OSError, ValueError):  # a name too long for the file system (or holding NUL) is a word, not a file
        return False


_URL = re.compile(r"[a-z][a-z0-9+.-]*:/", re.IGNORECASE)  # "://" reads as ":/" once it went through a Path


def image_path(text: str) -> Path:
    """The resolved path of an existing regular file named by text; ImageError when it is missing,
    a folder, a FIFO or other special file, or cannot be looked at (a name too long, ...)."""
    path = Path(os.path.expanduser(text))
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        if _URL.match(text):
            url = re.sub(r"^([a-z][a-z0-9+.-]*:)/+", r"\1//", text, flags=re.IGNORECASE)
            raise ImageError(f"{url} is a URL: devsearch reads photos from local files; download it and give its path") from None
        raise ImageError(f"no such photo: {text}: check the path (words with '/' or an image extension are read as files)") from None
    except OSError as exc:
        raise ImageError(f"cannot look at {text}: {exc.strerror}: check the path") from None
    except ValueError:  # a NUL byte: no file can have this name
        raise ImageError(f"no such photo: {text}: a file name cannot hold a NUL byte") from None
    if stat.S_ISDIR(mode):
        raise ImageError(f"{text} is a directory, not a photo: give an image file")
    if not stat.S_ISREG(mode):
        raise ImageError(f"{text} is not a regular file ({kind_of(mode)}): give an image file")
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
        if not math.isfinite(weight):
            raise UsageError(f"the weight {match.group(1)} in {raw.strip()!r} is not a finite number: use a weight "
                             "like 2 or 0.5")
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
    check_size(text, add, subtract)
    terms: list[Term] = []
    if text.strip():
        terms += [parse_term(raw, sign, files=files) for sign, raw in split_terms(text)]
    terms += [parse_term(raw, files=files) for raw in add]
    terms += [parse_term(raw, -1.0, files=files) for raw in subtract]
    if not terms:
        raise UsageError("empty query: give a word, a phrase or a photo, e.g. `devsearch query dog`")
    if not math.isfinite(sum(abs(term.weight) for term in terms)):
        raise UsageError("the query's weights add up to a number that is not finite: use weights like 2 or 0.5")
    words = {word for term in terms for word in words_of(term.text)}
    if words and words <= STOP_WORDS and not any(term.is_image for term in terms):
        raise UsageError(f"the query holds only stop words ({', '.join(sorted(words))}), which say nothing about "
                         "a photo: add a word that names something, e.g. `dog`")
    return terms


def check_size(text: str, add: Sequence[str] = (), subtract: Sequence[str] = ()) -> None:
    """UsageError when a query is longer than MAX_QUERY_CHARS or has more than MAX_TERMS terms (looked
    at before anything else is done with it)."""
    size = len(text) + sum(map(len, add)) + sum(map(len, subtract))
    if size > MAX_QUERY_CHARS:
        raise UsageError(f"the query is {size:,} characters long, over the limit of {MAX_QUERY_CHARS:,}: "
                         "shorten it to the words that matter")
    count = len(_OPERATOR.findall(text)) + 1 + len(add) + len(subtract)
    if count > MAX_TERMS:
        raise UsageError(f"the query has {count} terms, over the limit of {MAX_TERMS}: keep the terms that matter")


def words_of(text: str) -> list[str]:
    """The words of a query text, lower case (letters and digits, with an inner apostrophe)."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)?", text.lower())
