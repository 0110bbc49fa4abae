"""Which queries are conjunctions: a phrase of several content words that neither the word space
nor WordNet holds as one phrase (`dog on beach`, `man with camera`, `cup of coffee`) asks for photos
that show each of them, so each word is scored on its own and the scores are multiplied
(search/engine.py). A phrase either of them holds (`golden retriever`, `hot dog`) keeps its own
vector and classes; stop words are dropped (`the beach` is `beach`); a query with + or -, a weight or
a photo keeps its arithmetic meaning."""
from __future__ import annotations

from collections.abc import Sequence

from devsearch.model.class_senses import load_class_senses
from devsearch.search.query_parser import STOP_WORDS, Term, words_of
from devsearch.wordspace.lookup import WordLookup


def content_words(terms: Sequence[Term], lookup: WordLookup) -> list[str] | None:
    """The content words of a query that is one plain phrase neither vocabulary holds, in order,
    without repeats; None for any other query (one word, a known phrase, arithmetic, a photo)."""
    if len(terms) != 1 or terms[0].is_image or terms[0].weight != 1.0:
        return None
    text = terms[0].text
    words = words_of(text)
    if len(words) < 2 or lookup.is_one_token(text) or load_class_senses().names_a_noun(text):
        return None
    content = list(dict.fromkeys(word for word in words if word not in STOP_WORDS))
    return content or None
