"""Warnings for the user: one line on stderr, `devsearch: warning: ...`, each said once per process.

For what the user should know but that does not stop a command (a damaged derived file answered
from the catalog instead, a file name shown escaped); errors that stop it are core/errors.py's.
"""
from __future__ import annotations

import sys

_said: set[str] = set()


def warn(message: str, *, once: bool = True) -> None:
    """Print message (control characters in it made visible), by default once per process."""
    from devsearch.core.safe_text import visible

    if once and message in _said:
        return
    _said.add(message)
    print(f"devsearch: warning: {visible(message)}", file=sys.stderr, flush=True)
