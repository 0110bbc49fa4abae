"""A word's WordNet noun senses name the ImageNet classes below them; the shipped map answers without NLTK."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devsearch.model.class_senses import load_class_senses

TOUCAN, TABBY, GOLDEN_RETRIEVER, GRANNY_SMITH = 96, 281, 207, 948
REPO = Path(__file__).resolve().parent.parent


def test_a_general_word_covers_the_classes_below_it():
    birds = load_class_senses().covered("bird")
    assert TOUCAN in birds and TABBY not in birds and len(birds) == 59


def test_a_plural_is_reduced_to_its_noun():
    senses = load_class_senses()
    assert senses.covered("birds") == senses.covered("bird")
    assert senses.covered("mice") == senses.covered("mouse") != []


def test_a_phrase_is_looked_up_as_a_lemma_first_then_by_its_head():
    senses = load_class_senses()
    assert senses.covered("golden retriever") == [GOLDEN_RETRIEVER]
    assert GRANNY_SMITH in senses.covered("red apple") == senses.covered("apple")


def test_quotes_punctuation_and_possessives_are_read_as_the_word_inside():
    senses = load_class_senses()
    assert senses.covered("dog's") == senses.covered("dog!") == senses.covered("dog")
    assert senses.covered('"golden retriever"') == senses.covered("Golden-Retriever") == senses.covered("golden retriever")


def test_every_sense_counts():
    names = [sense.name for sense in load_class_senses().senses("cat")]
    assert names == ["cat", "big cat"]


def test_words_with_no_class_below_them_cover_nothing():
    senses = load_class_senses()
    assert senses.covered("planet") == senses.covered("lavender") == senses.covered("qwxzzy") == []


def test_a_class_has_a_wordnet_path_up_its_first_hypernyms():
    assert load_class_senses().path(TOUCAN) == ["toucan", "piciform bird", "bird", "vertebrate", "chordate"]


def test_the_map_is_read_without_nltk_or_keras():
    code = ("import sys; from model.class_senses import load_class_senses; load_class_senses().covered('bird'); "
            "print(','.join(m for m in ('nltk', 'gensim', 'keras', 'devsearch.wordspace.sources') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
