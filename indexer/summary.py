"""What an index run did, as counts (stored with the run) and as the lines printed at its end."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from devsearch.store.report import describe_network


@dataclass
class RunSummary:
    new: int = 0
    updated: int = 0
    moved: int = 0
    deleted: int = 0
    unchanged: int = 0
    reprojected: int = 0  # moved to a new projection from their kept top classes, without decoding
    people: int = 0  # unchanged photos decoded again for the people detectors, which had not seen them
    failed: Counter = field(default_factory=Counter)  # reason -> files that failed in this run
    skipped: Counter = field(default_factory=Counter)  # reason -> files or folders not attempted
    elapsed: float = 0.0
    interrupted: bool = False
    network: dict | None = None  # {"backend", "device", "precision"} when the network ran

    @property
    def changed(self) -> bool:
        """Whether the run changed the store (or met a file it could not index)."""
        return bool(self.new or self.updated or self.moved or self.deleted or self.reprojected or self.failed)

    @property
    def decoded(self) -> int:
        return self.new + self.updated + self.people + sum(self.failed.values())

    @property
    def images_per_second(self) -> float:
        return self.decoded / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict:
        return {"new": self.new, "updated": self.updated, "moved": self.moved, "deleted": self.deleted,
                "unchanged": self.unchanged, "reprojected": self.reprojected,
                "people": self.people, "failed": sum(self.failed.values()), "failures": dict(self.failed),
                "skipped": dict(self.skipped), "elapsed_s": round(self.elapsed, 3),
                "images_per_s": round(self.images_per_second, 2), "interrupted": self.interrupted,
                "network": self.network}


def _by_reason(counts: Counter) -> str:
    return ", ".join(f"{number:,} {reason}" for reason, number in counts.most_common())


def format_summary(summary: RunSummary) -> list[str]:
    """The closing lines of `devsearch index`."""
    failed = sum(summary.failed.values())
    lines = [
        f"{'interrupted' if summary.interrupted else 'done'}: {summary.new:,} new, {summary.updated:,} updated, "
        f"{summary.moved:,} moved, {summary.deleted:,} deleted, {summary.unchanged:,} unchanged, {failed:,} failed "
        f"in {summary.elapsed:.1f} s ({summary.images_per_second:.1f} images/s)"
    ]
    if summary.network:
        lines.append(f"network: {describe_network(summary.network)}")
    if summary.people:
        lines.append(f"people detectors: looked at {summary.people:,} photos indexed before them")
    if summary.reprojected:
        lines.append(f"re-projected {summary.reprojected:,} photos to the new model from their kept classes")
    if failed:
        lines.append(f"failed: {_by_reason(summary.failed)}")
    if summary.skipped:
        lines.append(f"skipped: {_by_reason(summary.skipped)}")
    if summary.interrupted:
        lines.append("everything embedded so far is saved: run the same command again to resume")
    return lines
