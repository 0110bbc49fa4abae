"""k-NN, arithmetic, filters and self-exclusion on a real store built from hand-made unit vectors
(the `library` fixture: tests/tiny_library.py)."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from devsearch.core.errors import EmptyStoreError, ImageError, ModelMismatchError, UnknownWordError, UsageError
from devsearch.core.settings import Settings
from devsearch.search.engine import open_searcher, search_similar, search_text
from devsearch.search.filters import Filters, make_filters
from devsearch.store.catalog import Store
from tests.tiny_library import make_bundle


def names(results) -> list[str]:
    return [Path(r.path).stem for r in results]


def test_word_query_ranks_by_cosine(library):
    results = search_text("dog", library["settings"], n=3)
    assert names(results) == ["dog", "dog_beach", "beach_people"]
    assert [r.rank for r in results] == [1, 2, 3]
    assert results[0].cosine == pytest.approx(1.0, abs=1e-5)
    assert results[0].score > results[1].score > results[2].score
    assert (results[0].width, results[0].height, results[0].taken) == (64, 48, datetime(2020, 1, 1))


def test_arithmetic_moves_the_ranking(library):
    assert names(search_text("beach", library["settings"], n=2)) == ["beach", "dog_beach"]
    assert names(search_text("beach + dog", library["settings"], n=1)) == ["dog_beach"]
    assert names(search_text("beach - 2:dog", library["settings"], n=1)) == ["beach"]
    assert names(search_text("beach", library["settings"], n=1, add=["people"])) == ["beach_people"]


def test_image_term_uses_the_stored_vector(library):
    cat = library["files"]["cat"]
    results = search_text(f"{cat} + 0.3:people", library["settings"], n=2)
    assert names(results) == ["cat2", "cat"]


def test_n_larger_than_the_store_returns_everything(library):
    assert len(search_text("dog", library["settings"], n=50)) == 6


def test_in_folder_still_returns_n(library):
    results = search_text("dog", library["settings"], n=2, filters=make_filters(library["root"] / "cats"))
    assert names(results) == ["cat2", "cat"]


def test_after_and_before_use_taken_else_mtime(library):
    after = search_text("cat", library["settings"], n=10, filters=make_filters(after="2022-01-01"))
    assert set(names(after)) == {"beach", "beach_people", "cat", "cat2"}  # beach_people: its mtime is now
    window = search_text("cat", library["settings"], n=10, filters=make_filters(after="2021-01-01", before="2023-01-02"))
    assert set(names(window)) == {"dog_beach", "beach", "cat"}


def test_filter_matching_nothing_is_empty(library):
    assert search_text("dog", library["settings"], filters=Filters(after=datetime(2090, 1, 1))) == []


def test_similar_leaves_itself_out(library):
    results = search_similar(library["files"]["cat"], library["settings"], n=2)
    assert names(results)[0] == "cat2" and "cat" not in names(results)


def test_similar_include_self(library):
    results = search_similar(library["files"]["cat"], library["settings"], n=2, include_self=True)
    assert names(results) == ["cat", "cat2"]
    assert results[0].cosine == pytest.approx(1.0, abs=1e-5)


def test_similar_on_a_copy_leaves_out_the_original_by_content(library, tmp_path):
    copy = tmp_path / "elsewhere" / "copy-of-cat.jpg"
    copy.parent.mkdir()
    shutil.copy(library["files"]["cat"], copy)
    results = search_similar(copy, library["settings"], n=5)
    assert names(results)[0] == "cat2" and "cat" not in names(results)


def test_similar_with_filter_still_leaves_itself_out(library):
    results = search_similar(library["files"]["cat"], library["settings"], n=5,
                             filters=make_filters(library["root"] / "cats"))
    assert names(results) == ["cat2"]


def test_missing_image_is_an_image_error(library, tmp_path):
    with pytest.raises(ImageError, match="no such photo"):
        search_similar(tmp_path / "nope.jpg", library["settings"])


def test_not_an_image_is_an_image_error(library, tmp_path):
    junk = tmp_path / "notes.jpg"
    junk.write_text("not a photo")
    with pytest.raises(ImageError, match="not an image"):
        search_similar(junk, library["settings"])


def test_unknown_word_has_suggestions(library):
    with pytest.raises(UnknownWordError) as err:
        search_text("dgo", library["settings"])
    assert "dog" in err.value.suggestions


def test_empty_query_fails_before_the_store(tmp_path):
    with pytest.raises(UsageError, match="empty query"):
        search_text(" ", Settings(home=tmp_path / "none"))


def test_missing_store_says_to_index(tmp_path):
    with pytest.raises(EmptyStoreError, match="devsearch index PATH"):
        search_text("dog", Settings(home=tmp_path / "none"))


def test_store_without_photos_says_to_index(tmp_path):
    with Store.open(tmp_path / "home", writer=True) as store:
        store.bind_model(make_bundle(tmp_path / "model"))
    with pytest.raises(EmptyStoreError, match="devsearch index PATH"):
        search_text("dog", Settings(home=tmp_path / "home"))


def test_other_model_is_a_mismatch(library, tmp_path):
    other = tmp_path / "other-model"
    make_bundle(other, fingerprint="test+conse+tiny:ffffffffffffffff")
    settings = library["settings"].with_options(model=other)
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        search_text("dog", settings)


def test_same_model_given_explicitly_is_fine(library, tmp_path):
    settings = library["settings"].with_options(model=tmp_path / "model")
    assert names(search_text("dog", settings, n=1)) == ["dog"]


def test_searcher_answers_repeatedly(library):
    with open_searcher(library["settings"]) as searcher:
        first = searcher.text("cat", 2)
        assert searcher.text("cat", 2) == first


def test_a_searcher_with_the_same_filters_sees_what_was_committed_since(library):
    """The photos a filter allows are kept between searches only while the store is unchanged."""
    from devsearch.store.records import ChangeSet, EmbeddedPhoto
    from tests.tiny_library import axis, photo_file

    cats = make_filters(library["root"] / "cats")
    with open_searcher(library["settings"]) as searcher:
        assert names(searcher.text("cat", 10, filters=cats)) == ["cat", "cat2"]
        new = photo_file(library["root"] / "cats", "cat3.jpg")
        with Store.open(library["settings"].home, writer=True) as store:
            store.commit(ChangeSet(embedded=[EmbeddedPhoto(path=str(new), size=1, mtime=1.0, content_hash="cat3",
                                                           width=4, height=3, taken=None, vector=axis(0, 0, 1, 0.05))]))
        assert names(searcher.text("cat", 10, filters=cats)) == ["cat", "cat3", "cat2"]


def test_a_phrase_the_vocabulary_lacks_ranks_the_photo_showing_both_words_first(library):
    results = search_text("dog on the beach", library["settings"], n=3)
    assert names(results)[0] == "dog_beach" and [part.word for part in results[0].words] == ["dog", "beach"]
    assert results[0].score == pytest.approx(results[0].words[0].score * results[0].words[1].score)


def test_a_phrase_keeps_to_the_filters(library):
    results = search_text("dog on beach", library["settings"], n=5, filters=make_filters(library["root"] / "cats"))
    assert set(names(results)) == {"cat", "cat2"}
