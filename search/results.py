"""One search hit as the outputs see it: rank, score and what the catalog knows about the photo."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SearchResult:
    """A ranked photo; score is the cosine similarity to the query vector (higher is closer)."""

    rank: int
    score: float
    path: str
    width: int | None
    height: int | None
    taken: datetime | None
    id: int | None = None  # the photo's catalog id (the server addresses photos by it)

    def as_dict(self) -> dict:
        """The `--json` shape: taken as ISO 8601 or null."""
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "taken": self.taken.isoformat() if self.taken is not None else None,
        }
