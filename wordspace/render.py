"""Show a word's neighbours (`devsearch words similar` / `analogy`): one line of JSON, or a table.

rich is imported only to draw the table, so the JSON output stays on the light import path.
"""
from __future__ import annotations

import json
from collections.abc import Sequence


def neighbours_json(query: dict, neighbours: Sequence[tuple[str, float]]) -> str:
    """`{**query, "neighbours": [{"word", "similarity"}]}` on one line."""
    rows = [{"word": word, "similarity": round(score, 6)} for word, score in neighbours]
    return json.dumps({**query, "neighbours": rows}, ensure_ascii=False)


def print_neighbours(title: str, neighbours: Sequence[tuple[str, float]]) -> None:
    """A table of words and their cosine to the query, best first."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("word")
    table.add_column("cosine", justify="right")
    for word, score in neighbours:
        table.add_row(word, f"{score:.3f}")
    Console().print(table)
