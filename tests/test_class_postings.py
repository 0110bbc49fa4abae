"""What the store keeps of a photo's classifier output, and the class -> photos postings derived from it."""
from __future__ import annotations

import numpy as np
import pytest

from devsearch.model.imagenet import NUM_CLASSES
from devsearch.store.derived.postings import Postings
from devsearch.store.kept_classes import TOP_K, TopClasses, keep_top, stack


def random_tops(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(NUM_CLASSES, 0.05), size=count).astype(np.float32)
    ids, kept = stack([top.to_blob() for top in keep_top(probabilities)])
    return probabilities, ids, kept


def test_a_photo_keeps_its_top_classes_most_probable_first_in_300_bytes():
    probabilities, _, _ = random_tops(1, seed=0)
    top = keep_top(probabilities)[0]
    blob = top.to_blob()
    assert len(blob) == TOP_K * 6 == 300
    again = TopClasses.from_blob(blob)
    assert list(again.ids) == list(np.argsort(-probabilities[0], kind="stable")[:TOP_K])
    np.testing.assert_array_equal(again.probabilities, probabilities[0, again.ids])


def test_blobs_of_fewer_classes_stack_with_zero_probabilities():
    ids, kept = stack([TopClasses(np.array([3, 1]), np.array([0.6, 0.4], np.float32)).to_blob(),
                       TopClasses(np.array([7]), np.array([1.0], np.float32)).to_blob()])
    assert ids.tolist() == [[3, 1], [7, 0]] and kept.tolist() == [[pytest.approx(0.6), pytest.approx(0.4)], [1.0, 0.0]]


def test_the_postings_mass_is_the_weighted_sum_over_each_photos_kept_classes():
    _, ids, kept = random_tops(200, seed=1)
    photo_ids = np.arange(10, 210)
    index = Postings.of_rows(photo_ids, ids, kept)
    classes, weights = np.array([5, 17, 400]), np.array([1.0, 0.5, -2.0], np.float32)
    mass = index.mass(classes, weights)
    dense = np.zeros(NUM_CLASSES, np.float32)
    dense[classes] = weights
    expected = np.zeros(210, np.float32)
    expected[photo_ids] = (dense[ids] * kept).sum(axis=1)
    np.testing.assert_allclose(mass, expected, rtol=1e-5, atol=1e-7)


def test_per_length_divides_by_the_length_of_each_photos_probabilities():
    _, ids, kept = random_tops(50, seed=2)
    index = Postings.of_rows(np.arange(50), ids, kept)
    plain = index.mass(np.array([ids[0, 0]]), np.array([1.0], np.float32))
    scaled = index.mass(np.array([ids[0, 0]]), np.array([1.0], np.float32), per_length=True)
    np.testing.assert_allclose(scaled, plain / np.linalg.norm(kept, axis=1), rtol=1e-5)


def test_catching_up_equals_building_from_the_new_rows():
    _, ids, kept = random_tops(120, seed=3)
    photo_ids = np.arange(120)
    loaded = Postings.of_rows(photo_ids[:100], ids[:100], kept[:100])
    changed = np.arange(90, 120)  # 90..99 re-embedded with new classes, 100..119 new
    new_ids, new_kept = np.roll(ids[changed], 1, axis=1), kept[changed]
    loaded.apply_rows(changed, new_ids, new_kept, gone=np.array([3, 4]))
    keep = np.setdiff1d(np.arange(90), [3, 4])
    rebuilt = Postings.of_rows(np.concatenate([keep, changed]), np.concatenate([ids[keep], new_ids]),
                             np.concatenate([kept[keep], new_kept]))
    for name in ("offsets", "ids", "probabilities", "photos", "norms"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(rebuilt, name))



def test_a_mass_asked_again_after_new_rows_reflects_them():
    """Masses are kept for the next calls (a searcher paging one query): never past a change."""
    _, ids, kept = random_tops(60, seed=4)
    index = Postings.of_rows(np.arange(60), ids, kept)
    classes, weights = np.array([ids[0, 0]]), np.array([1.0], np.float32)
    before = index.mass(classes, weights)
    assert index.mass(classes, weights) is before and not before.flags.writeable
    index.apply_rows(np.array([0]), np.full((1, ids.shape[1]), ids[0, 0] + 1) % NUM_CLASSES, kept[:1], gone=np.array([1]))
    after = index.mass(classes, weights)
    rebuilt = Postings.of_rows(np.concatenate([[0], np.arange(2, 60)]),
                               np.concatenate([np.full((1, ids.shape[1]), ids[0, 0] + 1) % NUM_CLASSES, ids[2:]]),
                               np.concatenate([kept[:1], kept[2:]]))
    np.testing.assert_array_equal(after, rebuilt.mass(classes, weights))
