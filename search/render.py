"""Show results as text: bare paths (for xargs), NUL-separated bytes, JSON, the why of a score, the
`--explain` lines. The table (search/table.py), the terminal thumbnails (search/thumbnails.py) and the
HTML contact sheet (search/contact_sheet.py) live apart, so `--paths` and `--json` import none of rich
or PIL.

File names are shown literally: never read as markup, and with control characters, bidi overrides
and bytes that are not UTF-8 made visible (core/safe_text.py). `--paths` prints such a name escaped, as
bash's $'...'; `--null` (NUL-separated) and `--json` (surrogate escapes, \\udcXX) keep the exact bytes.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

from devsearch.core.notices import warn
from devsearch.core.safe_text import exact_json, is_safe, shown_path, visible
from devsearch.model.calibration import load_calibration
from devsearch.model.class_senses import load_class_senses
from devsearch.model.word_evidence import BACKOFF_DISCOUNT, NEAR_DUPLICATE_SHARE
from devsearch.search.meaning import Explanation
from devsearch.search.results import SearchResult

EXPLAIN_CLASSES = 8  # class names listed per sense by --explain


def render_paths(results: Sequence[SearchResult]) -> str:
    """One path per line, best first (empty string when nothing matched). A path that holds a newline,
    a control character or bytes that are not UTF-8 is escaped as $'...', with one warning on stderr:
    a name can then never print as two lines or as another file's path."""
    unsafe = sum(not is_safe(r.path) for r in results)
    if unsafe:
        warn(f"{unsafe} path{'s' if unsafe != 1 else ''} with control characters or bytes that are not UTF-8 "
             "shown escaped as $'...': use -0/--null for the exact bytes", once=False)
    return "".join(f"{shown_path(r.path)}\n" for r in results)


def render_null(results: Sequence[SearchResult]) -> bytes:
    """The exact bytes of each path, each followed by NUL (for `xargs -0`), best first."""
    return b"".join(os.fsencode(r.path) + b"\0" for r in results)


def render_json(results: Sequence[SearchResult]) -> str:
    """A JSON list of {"rank", "score", "match", "path", "width", "height", "taken", "cosine", "mass",
    "people", "why", "reasons"} (and "words" for a phrase read as a conjunction). A name that is not valid UTF-8
    keeps its exact bytes as surrogate escapes ("\\udce9" for the byte 0xE9, as Python's os.fsdecode
    does), so `os.fsencode(row["path"])` gives the file's name back."""
    return exact_json([r.as_dict() for r in results], indent=2)


def render_score(score: float) -> str:
    """A score as a percentage: "87%"; "<1%" and ">99%" at the ends (never 0% for a photo that was
    found, never 100%: the evidence is never certain)."""
    return "<1%" if score < 0.005 else ">99%" if score >= 0.995 else f"{score:.0%}"


def render_why(result: SearchResult) -> str:
    """Why a result matched, in plain words, e.g. "Egyptian cat 39%, tabby 21%", or per word of a
    conjunction "dog: golden retriever 80%; beach: seashore 62%" (empty when nothing did)."""
    return ("; " if result.words else ", ").join(result.reasons())


ASKED_CHARS = 60  # of a query repeated on stderr


def quoted_query(text: str) -> str:
    """A typed query as stderr repeats it: quoted, made visible (never obeyed by the terminal) and cut
    to ASKED_CHARS."""
    shown = visible(text)
    return f"'{shown if len(shown) <= ASKED_CHARS else shown[:ASKED_CHARS - 3] + '...'}'"


def related_note(asked: str, matches: int, related: int) -> str:
    """What stderr says when related photos were left out: "no photo clearly shows 'volcano'; 12
    related ones: --all" or "3 photos clearly show 'cat'; 7 related ones follow with --all"."""
    ones = f"{related} related one{'s' if related != 1 else ''}"
    if not matches:
        return f"no photo clearly shows {asked}; {ones}: --all"
    return (f"{matches} photo{'s clearly show' if matches != 1 else ' clearly shows'} {asked}; "
            f"{ones} follow{'s' if related == 1 else ''} with --all")


def _class_list(indices: Sequence[int]) -> str:
    senses = load_class_senses()
    names = [senses.class_sense(i).name for i in indices]
    return ", ".join(names[:EXPLAIN_CLASSES]) + (f", ... ({len(names)} in all)" if len(names) > EXPLAIN_CLASSES else "")


_PEOPLE_SIGNALS = {"person_score": "the person detector's score", "people_count": "the number of people detected",
                   "face_share": "the share of the photo its largest face takes"}


def render_explanation(explanation: Explanation) -> str:
    """`--explain`: per content word, its WordNet noun senses and the ImageNet classes they cover, its
    scene classes, the hypernym it backed off to, near-duplicate classes, and the people signal it
    uses; how the words combine; and the match threshold."""
    lines = []
    if explanation.conjunction:
        words = ", ".join(visible(term.text) for term in explanation.terms)
        lines.append(f"{visible(repr(explanation.query))} is not one phrase of the vocabulary: photos showing each of "
                     f"{words} rank first (score = the product of the words' scores)")
    for term in explanation.terms:
        text = visible(term.text)  # typed by anyone (a pasted query): never obeyed by the terminal
        evidence = term.evidence
        if not evidence:
            lines.append(f"{text}: no ImageNet class or detector reaches it: scored by closeness in meaning (cosine) "
                         "alone")
            continue
        count = len(evidence.senses)
        weight = f" (weight {term.weight:g})" if term.weight != 1.0 else ""
        lines.append(f"{text}{weight}: {count} sense{'s' if count != 1 else ''} with classes, scored by the "
                     "classifier's probability on the classes it reaches, the people signal it uses and the cosine")
        for sense, weight in evidence.senses:
            lines.append(f"  {sense.name} ({sense.wnid}; {', '.join(sense.lemmas)}; counts {weight:g}): "
                         f"{_class_list(sense.classes)}")
        if evidence.scene:
            lines.append(f"  scene: {text} -> {_class_list(evidence.scene)} (hand-reviewed map)")
        for sense, weight in evidence.backoff:
            lines.append(f"  backoff: no class below {text}; its hypernym {sense.name} ({sense.wnid}) -> "
                         f"{_class_list(sense.classes)}, at {weight * BACKOFF_DISCOUNT:g}")
        if evidence.near:
            lines.append(f"  near-duplicates: {_class_list(evidence.near)}, at {NEAR_DUPLICATE_SHARE:g} of the class they duplicate")
        if evidence.people is not None:
            use = evidence.people
            note = (f": a {text} cannot be told apart from any other person" if use.below_person else "")
            lines.append(f"  people: {_PEOPLE_SIGNALS[use.column]} ({use.column}), at {use.weight:g}{note}")
    calibration = load_calibration()
    lines.append(f"match threshold: {render_score(calibration.threshold)} (a photo scoring at least this is a match; "
                 f"chosen for {calibration.about.get('target_precision', 0):.0%} precision on the development data)")
    return "\n".join(lines)


def size_text(result: SearchResult) -> str:
    return f"{result.width}x{result.height}" if result.width and result.height else ""


def date_text(result: SearchResult, file_mark: str = " (file time)") -> str:
    """The date the filters and the date sort use, to the minute, with file_mark after it when it is the
    file's time (the photo carries no capture time: a screenshot, a PNG, a copy without EXIF)."""
    date = result.date
    if date is None:
        return ""
    return date.isoformat(sep=" ", timespec="minutes") + (file_mark if result.dated_by == "file" else "")
