"""The memory-mapped word space used on the query path (wordspace/lookup.py) and `devsearch words`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.errors import AssetMissingError, UnknownWordError, UsageError
from devsearch.wordspace.lookup import WordLookup, build_lookup
from devsearch.wordspace.sources import open_words

# 4-d toy space: animals along axis 0, fruit along axis 1, royalty along axis 2.
VOCAB = {
    "the": [0.1, 0.1, 0.1, 1.0],
    "dog": [1.0, 0.0, 0.0, 0.1],
    "dogs": [0.9, 0.0, 0.1, 0.1],
    "cat": [0.8, 0.1, 0.0, 0.2],
    "golden": [0.2, 0.2, 0.9, 0.0],
    "retriever": [0.9, 0.0, 0.3, 0.0],
    "golden_retriever": [0.7, -0.5, 0.2, 0.1],
    "sea-lion": [0.6, 0.0, -0.6, 0.3],
    "sea": [0.0, 0.0, -1.0, 0.4],
    "lion": [1.0, 0.0, 0.4, -0.2],
    "apple": [0.0, 1.0, 0.0, 0.0],
    "Apple": [0.0, 0.2, 0.2, 1.0],
    "pear": [0.1, 0.9, 0.0, 0.1],
    "king": [0.0, 0.0, 1.0, 0.5],
    "queen": [0.0, 0.0, 1.0, -0.5],
    "man": [0.3, 0.0, 0.0, 0.5],
    "woman": [0.3, 0.0, 0.0, -0.5],
}


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture()
def lookup(tmp_path: Path) -> WordLookup:
    return build_lookup(list(VOCAB), np.array(list(VOCAB.values()), dtype=np.float32), tmp_path / "toy")


def write_text_vectors(path: Path, vocab: dict[str, list[float]]) -> Path:
    dims = len(next(iter(vocab.values())))
    lines = [f"{len(vocab)} {dims}"] + [f"{w} " + " ".join(map(str, v)) for w, v in vocab.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_build_then_open_round_trips_words_unit_vectors_and_fingerprint(lookup: WordLookup, tmp_path: Path):
    reopened = WordLookup.open(tmp_path / "toy")
    assert reopened.words == list(VOCAB)
    assert reopened.dims == 4 and len(reopened) == len(VOCAB)
    assert reopened.fingerprint == lookup.fingerprint
    assert np.allclose(np.linalg.norm(reopened.matrix, axis=1), 1.0, atol=1e-6)
    assert np.allclose(reopened.matrix[1], unit(VOCAB["dog"]))
    for name in ("vectors.npy", "word_offsets.npy", "sorted_rows.npy"):
        np.load(tmp_path / "toy" / name, allow_pickle=False)  # no pickle anywhere
    assert json.loads((tmp_path / "toy" / "meta.json").read_text())["count"] == len(VOCAB)


def test_fingerprint_changes_with_a_vector(lookup: WordLookup, tmp_path: Path):
    vectors = np.array(list(VOCAB.values()), dtype=np.float32)
    vectors[3, 0] += 0.5
    other = build_lookup(list(VOCAB), vectors, tmp_path / "other")
    assert other.fingerprint != lookup.fingerprint


def test_rebuilding_replaces_the_folder_atomically(lookup: WordLookup, tmp_path: Path):
    rebuilt = build_lookup(["a", "b"], np.eye(2, dtype=np.float32), tmp_path / "toy")
    assert rebuilt.words == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy"]  # no temp or old folders left


def test_phrase_token_is_preferred_over_the_mean(lookup: WordLookup):
    assert np.allclose(lookup.vector("golden  retriever"), unit(VOCAB["golden_retriever"]))
    assert np.allclose(lookup.vector("sea lion"), unit(VOCAB["sea-lion"]))


def test_phrase_without_token_is_the_normed_mean_of_its_words(lookup: WordLookup):
    expected = unit(unit(VOCAB["cat"]) + unit(VOCAB["pear"]))
    got = lookup.vector("cat pear")
    assert got.dtype == np.float32 and np.allclose(got, expected, atol=1e-6)


def test_case_falls_back_to_lowercase_but_exact_case_wins(lookup: WordLookup):
    assert np.allclose(lookup.vector("DOG"), lookup.vector("dog"))
    assert np.allclose(lookup.vector("Apple"), unit(VOCAB["Apple"]))
    assert np.allclose(lookup.vector("apple"), unit(VOCAB["apple"]))
    assert lookup.has("Golden Retriever") and not lookup.has("dgo")


def test_unknown_word_suggests_close_spellings(lookup: WordLookup):
    with pytest.raises(UnknownWordError) as err:
        lookup.vector("retreiver")
    assert err.value.word == "retreiver"
    assert "retriever" in err.value.suggestions and len(err.value.suggestions) <= 5


@pytest.mark.parametrize("typed", ["\U0001f436", "\u00e9", "\u4e2d"])
def test_a_word_sharing_no_character_with_any_suggestion_gets_none(typed: str, tmp_path: Path):
    letters = {w: [float(i), 1.0] for i, w in enumerate(["a", "i", "e", "s", "b", "dog"])}  # one slip from any 1 character
    lookup = build_lookup(list(letters), np.array(list(letters.values()), dtype=np.float32), tmp_path / "letters")
    with pytest.raises(UnknownWordError) as err:
        lookup.vector(typed)
    assert err.value.suggestions == []


def test_unknown_word_in_a_phrase_names_that_word(lookup: WordLookup):
    with pytest.raises(UnknownWordError) as err:
        lookup.vector("golden dgo")
    assert err.value.word == "dgo" and "dog" in err.value.suggestions


def test_empty_text_is_a_usage_error(lookup: WordLookup):
    with pytest.raises(UsageError):
        lookup.vector("   ")


def test_nearest_ranks_by_cosine_and_restricts_to_the_first_rows(lookup: WordLookup):
    best = lookup.nearest(lookup.vector("dog"), n=3)
    assert [w for w, _ in best] == ["dog", "dogs", "cat"]
    assert best[0][1] == pytest.approx(1.0, abs=1e-6)
    restricted = lookup.nearest(lookup.vector("dog"), n=3, restrict=4)
    assert {w for w, _ in restricted} <= {"the", "dog", "dogs", "cat"}


def test_similar_and_analogy_exclude_their_inputs(lookup: WordLookup):
    assert "dog" not in [w for w, _ in lookup.similar("dog", 5)]
    answers = [w for w, _ in lookup.analogy("man", "king", "woman", n=3)]
    assert answers[0] == "queen" and not {"man", "king", "woman"} & set(answers)


def test_duplicate_words_resolve_to_the_first(tmp_path: Path):
    space = build_lookup(["x", "dup", "dup"], np.eye(3, dtype=np.float32), tmp_path / "d")
    assert np.allclose(space.vector("dup"), [0, 1, 0])


def test_open_of_a_damaged_cache_is_a_typed_error(lookup: WordLookup, tmp_path: Path):
    (tmp_path / "toy" / "sorted_rows.npy").unlink()
    with pytest.raises(AssetMissingError):
        WordLookup.open(tmp_path / "toy")


def test_open_words_builds_a_file_cache_once_and_rebuilds_when_the_file_changes(tmp_path: Path):
    source = write_text_vectors(tmp_path / "toy.txt", VOCAB)
    cache = tmp_path / "cache"
    first = open_words(str(source), cache)
    assert first.words == list(VOCAB)
    (folder,) = (cache / "words").iterdir()
    stamp = (folder / "meta.json").stat().st_mtime_ns
    open_words(str(source), cache)
    assert (folder / "meta.json").stat().st_mtime_ns == stamp
    write_text_vectors(source, {"only": [1.0, 2.0]})
    assert open_words(str(source), cache).words == ["only"]
    assert len(list((cache / "words").iterdir())) == 2


def test_open_words_rebuilds_a_damaged_cache(tmp_path: Path):
    source = write_text_vectors(tmp_path / "toy.txt", VOCAB)
    open_words(str(source), tmp_path / "cache")
    (folder,) = (tmp_path / "cache" / "words").iterdir()
    (folder / "vectors.npy").write_bytes(b"junk")
    assert open_words(str(source), tmp_path / "cache").has("dog")


def test_open_words_on_a_missing_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="not found"):
        open_words(str(tmp_path / "nope.vec"), tmp_path / "cache")


def test_open_words_on_an_unparseable_file_names_the_formats(tmp_path: Path):
    bad = tmp_path / "notes.txt"
    bad.write_text("dear diary, today nothing happened\n")
    with pytest.raises(UsageError, match="word2vec"):
        open_words(str(bad), tmp_path / "cache")


def test_builtin_glove_dog_is_near_dogs_or_cat(model_cache: Path):
    glove = open_words("glove-6b-50d", model_cache)
    assert glove.dims == 50 and len(glove) == 400_000
    near = [w for w, _ in glove.similar("dog", 10)]
    assert "dogs" in near or "cat" in near


# -- CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_similar_prints_json_neighbours(tmp_path: Path, model_cache: Path):
    source = write_text_vectors(tmp_path / "toy.txt", VOCAB)
    result = runner.invoke(app, ["words", "similar", "dog", "-n", "2", "--words", str(source), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["word"] == "dog" and [r["word"] for r in payload["neighbours"]] == ["dogs", "cat"]


def test_cli_analogy_renders_a_table(tmp_path: Path, model_cache: Path):
    source = write_text_vectors(tmp_path / "toy.txt", VOCAB)
    result = runner.invoke(app, ["words", "analogy", "man", "king", "woman", "--words", str(source)])
    assert result.exit_code == 0, result.output
    assert "queen" in result.stdout


def test_cli_unknown_word_is_one_line_and_exit_5(tmp_path: Path, model_cache: Path):
    source = write_text_vectors(tmp_path / "toy.txt", VOCAB)
    result = runner.invoke(app, ["words", "similar", "retreiver", "--words", str(source)])
    assert result.exit_code == UnknownWordError.exit_code
    assert result.stderr.startswith("devsearch: error: unknown word 'retreiver'") and "retriever" in result.stderr
    assert result.stderr.count("\n") == 1



@pytest.mark.parametrize("typed, read_as", [
    ('"golden retriever"', "golden_retriever"), ("dog!", "dog"), ("(cat),", "cat"), ("dog's", "dog"),
    ("dog’s", "dog"), ("dogs'", "dogs"), ("“apple”", "apple"), ("dog\u200b", "dog"), ("\u202ecat", "cat"),
])
def test_quotes_punctuation_and_possessives_around_a_word_are_dropped(lookup: WordLookup, typed: str, read_as: str):
    np.testing.assert_allclose(lookup.vector(typed), unit(VOCAB[read_as]), atol=1e-6)


def test_a_word_found_as_typed_keeps_its_punctuation(lookup: WordLookup):
    np.testing.assert_allclose(lookup.vector("sea-lion"), unit(VOCAB["sea-lion"]), atol=1e-6)


def test_an_unknown_hyphenated_word_is_read_as_its_parts(lookup: WordLookup):
    np.testing.assert_allclose(lookup.vector("golden-retriever"), unit(VOCAB["golden_retriever"]), atol=1e-6)
    np.testing.assert_allclose(lookup.vector("king-queen"), unit(unit(VOCAB["king"]) + unit(VOCAB["queen"])), atol=1e-6)


def test_an_unknown_word_is_named_without_its_punctuation(lookup: WordLookup):
    with pytest.raises(UnknownWordError) as err:
        lookup.vector("dgo!")
    assert err.value.word == "dgo" and "dog" in err.value.suggestions


def test_a_slip_of_two_swapped_letters_is_suggested_first(tmp_path: Path):
    """`dgo` means `dog`, though `go` and `do` (more frequent here) are as close by difflib's measure."""
    words = ["go", "do", "ago", "dog"]
    lookup = build_lookup(words, np.eye(4, dtype=np.float32), tmp_path / "slips")
    with pytest.raises(UnknownWordError) as err:
        lookup.vector("dgo")
    assert err.value.suggestions[0] == "dog" and set(err.value.suggestions) == set(words)
