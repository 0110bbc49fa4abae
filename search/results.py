"""One search hit as the outputs see it: rank, score and its parts, and what the catalog knows about the photo."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Reason:
    """A class that carried a photo's mass: its name, WordNet id and probability in the photo."""

    name: str
    wnid: str
    p: float

    def as_dict(self) -> dict:
        return {"class": self.name, "wnid": self.wnid, "p": round(self.p, 4)}


@dataclass(frozen=True)
class SearchResult:
    """A ranked photo; score = cosine + BETA x (mass + people) (model/ranking.py), higher is closer.

    cosine: similarity of the photo's vector to the query's; mass: the query's weighted probability
    on the classes its words reach (0 when they reach none); people: the people detectors' weighted
    signal for its people words (0 without); why: the classes (and detector) that carried them."""

    rank: int
    score: float
    path: str
    width: int | None
    height: int | None
    taken: datetime | None
    cosine: float
    mass: float = 0.0
    why: tuple[Reason, ...] = ()
    id: int | None = None  # the photo's catalog id (the server addresses photos by it)
    people: float = 0.0  # the people detectors' signal for the query's people words (model/people.py), weighted

    def as_dict(self) -> dict:
        """The `--json` shape: taken as ISO 8601 or null."""
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "taken": self.taken.isoformat() if self.taken is not None else None,
            "cosine": round(self.cosine, 6),
            "mass": round(self.mass, 6),
            "people": round(self.people, 6),
            "why": [reason.as_dict() for reason in self.why],
        }
