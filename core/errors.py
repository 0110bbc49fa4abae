"""Errors a user can cause. Packages raise these; `cli/` turns them into one-line messages.

Each carries the exit code the CLI returns, and its message says what was wrong and what to do.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property


class DevsearchError(Exception):
    """Base of every error the user can cause or fix."""

    exit_code: int = 1


class UsageError(DevsearchError):
    """Bad arguments or input (empty query, bad date, unreadable dataset)."""

    exit_code = 2


class InputError(UsageError):
    """A bad input that the layer checking it knows by its own field name (`min_count`, `under`). The
    caller words the message for its user, with its own name for that input (the CLI's `--min-count`
    and `--in`, the web API's `min_count` and `in`): worded(name). str() is the neutral wording, the
    field names as they are, so a lower layer never speaks the vocabulary of one front end."""

    def __init__(self, say: Callable[[Callable[[str], str]], str]):
        self.say = say  # the message, given how to name a field
        super().__init__(say(str))

    def worded(self, name: Callable[[str], str]) -> str:
        return self.say(name)


class AssetMissingError(DevsearchError):
    """An offline asset (weights, vectors, class names) is not installed or cannot be downloaded."""

    exit_code = 3


class UnsafeFileError(DevsearchError):
    """A file asked for something we refuse to do, e.g. a pickle that calls arbitrary code."""

    exit_code = 4


class UnknownWordError(DevsearchError):
    """A word or phrase that the word space has no vector for; carries close spellings.

    suggestions may be a function: they are searched for only when read (the message, an API
    answer), so code that merely probes many words (ConSE's 1,000 class names) never pays for them."""

    exit_code = 5

    def __init__(self, word: str, suggestions: Sequence[str] | Callable[[], Sequence[str]]):
        self.word = word
        self._find_suggestions = suggestions if callable(suggestions) else lambda: suggestions
        super().__init__(word)

    @cached_property
    def suggestions(self) -> list[str]:
        return list(self._find_suggestions())[:5]

    def __str__(self) -> str:
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"unknown word {self.word!r}: not in the word vectors.{hint}"


class ImageError(DevsearchError):
    """A photo given on the command line is missing or cannot be decoded."""

    exit_code = 6


class ClusterError(DevsearchError):
    """The Ray cluster given to `index --ray` cannot be reached, or its job failed."""

    exit_code = 8


class StoreError(DevsearchError):
    """The store is missing, empty, locked, too new, or bound to another model."""

    exit_code = 7


class DiskFullError(StoreError):
    """No space left (or over quota) on the disk devsearch writes to: exit 1, as the file system said no."""

    exit_code = 1

    def __init__(self, where: str | None, *, quota: bool = False):
        disk = f"the disk holding {where}" if where else "the disk"
        what = f"{disk} is over its quota" if quota else f"{disk} is full"
        advice = "free some space or raise the quota" if quota else "free some space"
        super().__init__(f"{what}: {advice}, then run again (what was already indexed is kept)")


class DamagedStoreError(StoreError):
    """The catalog file is not a sound SQLite database of ours."""


class StoreLockedError(StoreError):
    """Another writer holds the store."""


class ModelMismatchError(StoreError):
    """The store was built with a different embedding space."""


class EmptyStoreError(StoreError):
    """Nothing indexed yet."""
