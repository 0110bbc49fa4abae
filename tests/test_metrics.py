"""The evaluation measures against values computed by hand, on a toy hierarchy and on WordNet."""
from __future__ import annotations

import numpy as np
import pytest

from devsearch.training import metrics
from devsearch.wordspace.wordnet import Hierarchy, load_wordnet

# entity -> animal -> dog -> {terrier, poodle}; animal -> cat; entity -> vehicle -> {car, bus}
TOY = Hierarchy({
    "terrier": ("dog",), "poodle": ("dog",), "dog": ("animal",), "cat": ("animal",),
    "animal": ("entity",), "car": ("vehicle",), "bus": ("vehicle",), "vehicle": ("entity",),
})
LABELS = ["terrier", "poodle", "cat", "car", "bus", "ufo"]  # "ufo" has no node
ANCESTORS = [TOY.ancestor_levels(label) if label != "ufo" else None for label in LABELS]


def test_ancestor_levels_are_shortest_distances_upwards():
    assert TOY.ancestor_levels("terrier") == {"terrier": 0, "dog": 1, "animal": 2, "entity": 3}


@pytest.mark.parametrize("k, expected", [
    (1, {0}),  # the label itself
    (2, {0, 1}),  # up to dog: terrier, poodle
    (3, {0, 1, 2}),  # up to animal: + cat
    (4, {0, 1, 2, 3, 4}),  # up to entity: + car, bus (a whole level is added at once)
    (6, {0, 1, 2, 3, 4}),  # the root is passed; "ufo" is below nothing
])
def test_valid_label_sets_grow_a_level_at_a_time_until_k(k, expected):
    assert metrics.valid_label_sets(ANCESTORS, k)[0] == expected


def test_a_label_without_a_node_is_valid_only_for_itself():
    assert metrics.valid_label_sets(ANCESTORS, 5)[5] == {5}


def test_flat_hit_at_k_counts_the_true_label_among_the_k_best():
    scores = np.array([[0.9, 0.8, 0.1, 0.0, 0.0, 0.0],   # true 1: rank 2
                       [0.1, 0.2, 0.3, 0.9, 0.8, 0.7]])  # true 2: rank 4
    true = np.array([1, 2])
    assert metrics.flat_hit_at_k(scores, true, 1) == 0.0
    assert metrics.flat_hit_at_k(scores, true, 2) == 0.5
    assert metrics.flat_hit_at_k(scores, true, 5) == 1.0


def test_hierarchical_precision_counts_predictions_in_the_valid_set():
    # an image of a terrier whose two best labels are poodle and car: the valid set at k=2 is
    # {terrier, poodle}, so 1 of 2 is right; at k=5 the valid set is everything but ufo and the
    # five best are poodle, car, cat, ufo, bus: 4 of 5.
    scores = np.array([[0.1, 0.9, 0.7, 0.8, 0.5, 0.6]])
    true = np.array([0])
    assert metrics.hierarchical_precision_at_k(scores, true, metrics.valid_label_sets(ANCESTORS, 2), 2) == 0.5
    assert metrics.hierarchical_precision_at_k(scores, true, metrics.valid_label_sets(ANCESTORS, 5), 5) == pytest.approx(0.8)


def test_a_label_scored_minus_infinity_is_never_a_prediction():
    scores = np.array([[-np.inf, 0.5, -np.inf]])
    assert metrics.top_k_labels(scores, 3).tolist() == [[1, -1, -1]]
    assert metrics.flat_hit_at_k(scores, np.array([0]), 3) == 0.0


def test_retrieval_precision_and_average_precision():
    # images labelled 0, 0, 1. Query 0 ranks images 0, 2, 1: P@1 1, P@5 2/5, AP (1/1 + 2/3) / 2.
    # Query 1 ranks images 1, 0, 2: P@1 0, P@5 1/5, AP 1/3.
    scores = np.array([[0.9, 0.2], [0.1, 0.3], [0.5, 0.1]])
    result = metrics.retrieval_scores(scores, np.array([0, 0, 1]))
    assert result["word_p@1"] == pytest.approx(0.5)
    assert result["word_p@5"] == pytest.approx(0.3)
    assert result["word_ap"] == pytest.approx(((1 + 2 / 3) / 2 + 1 / 3) / 2)


def test_cosine_scores_ignore_length_and_rule_out_zero_vectors():
    scores = metrics.cosine_scores(np.array([[2.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert scores[0, 0] == pytest.approx(np.sqrt(0.5))
    assert scores[0, 1] == -np.inf


def test_wordnet_maps_a_label_to_its_most_frequent_noun_sense():
    wordnet = load_wordnet()
    assert wordnet.label_synset("dog") == "02084071"  # dog, domestic dog, Canis familiaris
    assert wordnet.label_synset("dogs") == "02084071"
    assert wordnet.label_synset("Golden Retriever") == "02099601"


def test_wordnet_falls_back_to_the_head_word_of_a_phrase():
    wordnet = load_wordnet()
    assert wordnet.label_synset("shiny red apple") == wordnet.label_synset("apple")
    assert wordnet.label_synset("dog face", head="dog") == "02084071"
    assert wordnet.label_synset("zzqx blorp") is None


def test_wordnet_hierarchy_puts_terriers_and_poodles_under_dog():
    wordnet = load_wordnet()
    dog = wordnet.label_synset("dog")
    ancestors = [wordnet.hierarchy.ancestor_levels(wordnet.label_synset(w)) for w in ("terrier", "poodle", "tabby cat")]
    valid = metrics.valid_label_sets(ancestors, 2)
    assert dog in ancestors[0] and dog in ancestors[1] and dog not in ancestors[2]
    assert valid[0] == {0, 1}
