"""One search hit as the outputs see it: rank, calibrated score and its raw parts, why it matched in
plain words, and what the catalog knows about the photo."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from devsearch.store.records import sort_date

MIN_REASON = 0.01  # a class below 1% in a photo carried nothing worth naming


@dataclass(frozen=True)
class Reason:
    """A class that carried a photo's mass: its name, WordNet id and probability in the photo; or what
    the people detectors found (search/meaning.people_reason: the column as its id, the column's value)."""

    name: str
    wnid: str
    p: float

    def as_dict(self) -> dict:
        return {"class": self.name, "wnid": self.wnid, "p": round(self.p, 4)}

    def plain(self) -> str:
        """"Egyptian cat 39%", "a person (detector 0.97)", "2 people (detector)", "a face (detector: 15%
        of the photo)"."""
        detected = self.name.removesuffix(" (detector)")
        if self.wnid == "person_score":
            return f"{detected} (detector {self.p:.2f})"
        if self.wnid == "people_count":
            return f"{detected} (detector)"
        if self.wnid == "face_share":
            return f"{detected} (detector: {self.p:.0%} of the photo)"
        return f"{self.name} {self.p:.0%}"


@dataclass(frozen=True)
class WordEvidence:
    """What one content word of a phrase read as a conjunction (`dog on beach`) found in a photo:
    its own calibrated score and raw parts."""

    word: str
    score: float
    cosine: float
    mass: float
    people: float = 0.0
    why: tuple[Reason, ...] = ()

    def as_dict(self) -> dict:
        return {"word": self.word, "score": round(self.score, 6), "cosine": round(self.cosine, 6),
                "mass": round(self.mass, 6), "people": round(self.people, 6),
                "why": [reason.as_dict() for reason in self.why]}


@dataclass(frozen=True)
class SearchResult:
    """A ranked photo. score: the calibrated probability that it shows what was asked
    (model/calibration.py), from its raw parts: cosine (of the photo's vector to the query's), mass
    (the query's weighted probability on the classes its words reach, 0 when they reach none) and
    people (the people detectors' weighted signal for its people words, 0 without); why: the classes
    (and detector) that carried them; match: the score reaches the cut-off. A phrase read as a conjunction has one WordEvidence per
    content word (its score is their product) and no cosine of its own."""

    rank: int
    score: float
    path: str
    width: int | None
    height: int | None
    taken: datetime | None
    cosine: float | None
    mass: float = 0.0
    why: tuple[Reason, ...] = ()
    id: int | None = None  # the photo's catalog id (the server addresses photos by it)
    people: float = 0.0  # the people detectors' signal for the query's people words (model/people.py), weighted
    match: bool = False
    words: tuple[WordEvidence, ...] = ()
    mtime: float | None = None  # the file's modification time (seconds since the epoch), as indexed

    @property
    def date(self) -> datetime | None:
        """The date the date filters and the date sort use (store/records.sort_date); None when neither is
        known, or for an mtime no calendar holds."""
        if self.taken is None and self.mtime is None:
            return None
        try:
            return sort_date(self.taken, self.mtime)
        except (OverflowError, OSError, ValueError):
            return None

    @property
    def dated_by(self) -> str | None:
        """Which date `date` is, in the API's words: "taken" (the capture time) or "file" (the file's time,
        for a photo without one); None without a date."""
        return None if self.date is None else "taken" if self.taken is not None else "file"

    def reasons(self) -> list[str]:
        """Why it matched, in plain words: the classes that carried it with their probability, per
        word for a conjunction; the closeness in meaning where no class did. Nothing that added nothing."""
        if self.words:
            return [f"{part.word}: {', '.join(_plain(part.why, part.cosine, part.word))}" for part in self.words]
        return _plain(self.why, self.cosine, "")

    def as_dict(self) -> dict:
        """The `--json` shape: taken (the capture time) as ISO 8601 or null; date, the date the filters use
        (the capture time, else the file's time), and dated_by: "taken" or "file", as the web API says it."""
        out = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "match": self.match,
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "taken": self.taken.isoformat() if self.taken is not None else None,
            "date": self.date.isoformat() if self.date is not None else None,
            "dated_by": self.dated_by,
            "cosine": round(self.cosine, 6) if self.cosine is not None else None,
            "mass": round(self.mass, 6),
            "people": round(self.people, 6),
            "why": [reason.as_dict() for reason in self.why],
            "reasons": self.reasons(),
        }
        if self.words:
            out["words"] = [part.as_dict() for part in self.words]
        return out


def _plain(why: tuple[Reason, ...], cosine: float | None, word: str) -> list[str]:
    named = [reason.plain() for reason in why if reason.p >= MIN_REASON]
    if named:
        return named
    if cosine is not None and cosine > 0:
        return [f"close in meaning{f' to {word!r}' if word else ''} (cosine {cosine:.2f})"]
    return []
