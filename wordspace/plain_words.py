"""How a typed word is read when a vocabulary lacks it as typed: quotes, brackets and punctuation
around it dropped, invisible format characters removed, curly apostrophes made straight, a
possessive made plain ("dog's" -> "dog", "dogs'" -> "dogs"). The word vectors and WordNet both
fall back to this, so a query means the same to the cosine and to the ranking by meaning. Words
found as typed ("u.s.", "e-mail") are never changed."""
from __future__ import annotations

import unicodedata

_AROUND = "\"'“”‘’«»„‚()[]{}<>,.;:!?…"


def plain_word(word: str) -> str:
    """The word without what surrounds it, without invisible format characters (zero-width spaces,
    bidi marks: text pasted from a web page carries them) and without a possessive ending ("" for
    punctuation only)."""
    word = "".join(ch for ch in word if unicodedata.category(ch) != "Cf")
    word = word.replace("’", "'").replace("‘", "'").strip(_AROUND)
    if len(word) > 2 and word.lower().endswith("'s"):
        word = word[:-2]
    return word


def plain_text(text: str) -> str:
    """Each word of a phrase made plain; words that were only punctuation are dropped."""
    return " ".join(word for word in map(plain_word, text.split()) if word)
