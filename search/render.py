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
from devsearch.model.class_senses import load_class_senses
from devsearch.model.ranking import BETA
from devsearch.model.word_evidence import BACKOFF_DISCOUNT, NEAR_DUPLICATE_SHARE
from devsearch.search.meaning import TermSenses
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
    """A JSON list of {"rank", "score", "path", "width", "height", "taken", "cosine", "mass", "people", "why"}. A
    name that is not valid UTF-8 keeps its exact bytes as surrogate escapes ("\\udce9" for the byte 0xE9,
    as Python's os.fsdecode does), so `os.fsencode(row["path"])` gives the file's name back."""
    return exact_json([r.as_dict() for r in results], indent=2)


def render_why(result: SearchResult) -> str:
    """The class that carried most of a result's mass, e.g. "toucan 0.81" (empty without mass)."""
    return f"{result.why[0].name} {result.why[0].p:.2f}" if result.why else ""


def _class_list(indices: Sequence[int]) -> str:
    senses = load_class_senses()
    names = [senses.class_sense(i).name for i in indices]
    return ", ".join(names[:EXPLAIN_CLASSES]) + (f", ... ({len(names)} in all)" if len(names) > EXPLAIN_CLASSES else "")


_PEOPLE_SIGNALS = {"person_score": "the person detector's score", "people_count": "the number of people detected",
                   "face_share": "the share of the photo its largest face takes"}


def render_explanation(terms: Sequence[TermSenses]) -> str:
    """`--explain`: per word, its WordNet noun senses and the ImageNet classes they cover, its scene
    classes, the hypernym it backed off to, near-duplicate classes, and the people signal it uses."""
    lines = [f"score = cosine + {BETA:g} x (mass + people): mass, the probability on the classes the words reach; "
             "people, the people detectors' signal"]
    for term in terms:
        text = visible(term.text)  # typed by anyone (a pasted query): never obeyed by the terminal
        evidence = term.evidence
        if not evidence:
            lines.append(f"{text}: no ImageNet class or detector reaches it: ranked by cosine")
            continue
        count = len(evidence.senses)
        lines.append(f"{text} (weight {term.weight:g}): {count} sense{'s' if count != 1 else ''} with classes")
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
    return "\n".join(lines)


def size_text(result: SearchResult) -> str:
    return f"{result.width}x{result.height}" if result.width and result.height else ""


def taken_text(result: SearchResult) -> str:
    return result.taken.isoformat(sep=" ", timespec="seconds") if result.taken else ""
