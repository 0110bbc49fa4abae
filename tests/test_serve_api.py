"""`devsearch serve`'s API on a real store of real image files (tiny word space, no network).

The network-free parts: word searches, browsing the library newest first, similar by id, paging,
filters, sort, photo details, thumbnails, originals, the re-check of served files, uploads refused
before any decoding, the status view, the security guard and noticing a new store generation.
"""
from __future__ import annotations

import io
import os
import re
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devsearch.core.errors import UsageError
from devsearch.core.settings import Settings
from devsearch.core.vectors import unit_rows
from devsearch.model.calibration import load_calibration
from devsearch.serve.app import STATIC, create_app
from devsearch.serve.library import Library, Page
from devsearch.serve.uploads import MAX_UPLOAD_BYTES
from devsearch.serve.services import Services
from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, EmbeddedPhoto
from tests.serve_library import PHOTOS, SIDEWAYS, add_photo, draw_photo, make_library, names, serving
from tests.tiny_library import DIMS, axis, make_bundle


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    return make_library(tmp_path_factory.mktemp("serve-api"))


@pytest.fixture(scope="module")
def api(library):
    with serving(library) as test_client:
        yield test_client


def id_of(api, name: str) -> int:
    for result in api.get("/api/search", params={"q": "dog", "n": 50}).json()["results"]:
        if Path(result["path"]).name == Path(name).name:
            return result["id"]
    raise AssertionError(name)


# ---- search ------------------------------------------------------------------------------------

def test_search_ranks_by_the_word_and_gives_ids_and_urls(api):
    body = api.get("/api/search", params={"q": "cat"}).json()
    first = body["results"][0]
    assert Path(first["path"]).name == "cat.jpg" and first["rank"] == 1 and first["cosine"] == pytest.approx(1.0)
    assert first["score"] == pytest.approx(float(load_calibration().fit("words_no_class").probability(1.0)), abs=1e-5)
    assert first["thumb"] == f"/thumb/{first['id']}" and first["photo"] == f"/photo/{first['id']}"
    assert {"rank", "score", "match", "reasons", "id", "path", "width", "height", "taken", "thumb", "photo"} <= set(first)
    assert body["query"] == "cat" and body["more"] is False


def test_search_takes_the_query_syntax(api):
    assert names(api.get("/api/search", params={"q": "dog + beach", "n": 1})) == ["dog_beach.jpg"]
    assert names(api.get("/api/search", params={"q": "2:dog - beach", "n": 1})) == ["dog.jpg"]


def test_pages_continue_the_ranking(api):
    whole = names(api.get("/api/search", params={"q": "dog", "n": 4}))  # 4 distinct scores, then ties at 0
    first = api.get("/api/search", params={"q": "dog", "n": 2}).json()
    second = api.get("/api/search", params={"q": "dog", "n": 2, "offset": 2}).json()
    assert [Path(r["path"]).name for r in first["results"] + second["results"]] == whole
    assert [r["rank"] for r in second["results"]] == [3, 4] and first["more"] is True


def _score_of_cosine(cosine: float) -> float:
    """The calibrated score of a word with no ImageNet class (the tiny store's words) at a cosine."""
    return float(load_calibration().fit("words_no_class").probability(cosine))


def test_min_score_is_the_cut_off_on_the_calibrated_scale(api):
    results = api.get("/api/search", params={"q": "dog", "min_score": _score_of_cosine(0.5)}).json()["results"]
    assert results and all(r["score"] >= _score_of_cosine(0.5) and r["match"] for r in results)
    assert len(results) < len(PHOTOS)


def test_a_search_lists_the_related_photos_after_the_matches(api):
    results = api.get("/api/search", params={"q": "dog"}).json()["results"]
    assert not any(r["match"] for r in results)  # a cosine alone is no clear evidence: every photo is related
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_sort_by_date_orders_the_matches_newest_first(api):
    results = api.get("/api/search", params={"q": "beach", "min_score": _score_of_cosine(0.1), "sort": "date"}).json()["results"]
    assert [Path(r["path"]).name for r in results] == ["beach.jpg", "dog_beach.jpg", "sideways.jpg"]
    assert [r["rank"] for r in results] == [1, 2, 3]


def test_sort_by_date_keeps_the_related_photos_after_the_matches_in_their_order(api):
    by_relevance = api.get("/api/search", params={"q": "beach"}).json()["results"]
    by_date = api.get("/api/search", params={"q": "beach", "sort": "date"}).json()["results"]
    assert not any(r["match"] for r in by_relevance)  # cosine alone: no match, so nothing to reorder
    assert [r["id"] for r in by_date] == [r["id"] for r in by_relevance]


def test_folder_filter_inside_an_indexed_folder(api, library):
    folder = library.home.parent / "photos" / "trip"
    assert names(api.get("/api/search", params={"q": "dog", "in": str(folder)})) == ["people.jpg"]


def test_a_missing_folder_is_named_as_the_page_labels_it(api, library):
    missing = library.home.parent / "photos" / "no-such-trip"
    error = api.get("/api/search", params={"q": "dog", "in": str(missing)}).json()["error"]
    assert "no such folder" in error and "in=" not in error


def test_date_filters(api):
    found = names(api.get("/api/search", params={"q": "dog", "after": "2020-06-01", "before": "2022-01-01"}))
    assert found == ["dog_beach.jpg"]


@pytest.mark.parametrize("params, message", [
    ({"q": ""}, "empty query"),
    ({"q": "kat"}, "unknown word 'kat'"),
    ({"q": "dog + ./beach.jpg"}, "looks like a photo path"),
    ({"q": "dog", "n": "0"}, "n=0 is out of range"),
    ({"q": "dog", "n": "many"}, "not a whole number"),
    ({"q": "dog", "offset": "5000"}, "offset=5000 is out of range"),
    ({"q": "dog", "sort": "size"}, "choose relevance or date"),
    ({"q": "dog", "min_score": "high"}, "not a number"),
    ({"q": "dog", "min_score": "nan"}, "not a number"),
    ({"q": "dog", "min_score": "1.5"}, "give a score from 0 to 1"),
    ({"q": "dog", "in": "/etc"}, "not inside an indexed folder"),
    ({"q": "dog", "in": "photos"}, "no such folder"),
    ({"q": "dog", "after": "yesterday"}, "From 'yesterday' is not a date"),
])
def test_bad_requests_are_400_with_a_message(api, params, message):
    response = api.get("/api/search", params=params)
    assert response.status_code == 400 and message in response.json()["error"]


def test_a_bad_date_is_named_as_the_page_labels_it(api):
    for name, label in (("after", "From"), ("before", "To")):
        error = api.get("/api/search", params={"q": "dog", name: "someday"}).json()["error"]
        assert error.startswith(f"{label} 'someday' is not a date")


def test_unknown_word_comes_with_suggestions(api):
    body = api.get("/api/search", params={"q": "kat"}).json()
    assert body["word"] == "kat" and "cat" in body["suggestions"]


def test_a_word_is_never_looked_up_as_a_file(api, library, monkeypatch):
    (library.home.parent / "people").write_text("a file named like a word")
    monkeypatch.chdir(library.home.parent)
    assert names(api.get("/api/search", params={"q": "people", "n": 1})) == ["people.jpg"]


# ---- browsing the library ----------------------------------------------------------------------------

NEWEST_FIRST = ["cat.jpg", "beach.jpg", "dog_beach.jpg", "dog.jpg", "people.jpg", "sideways.jpg", "drawing.png"]


def browsed(api, **params) -> list[str]:
    """The names of PHOTOS the library listing gives, in its order (other tests add photos of their own)."""
    made_here = {Path(name).name for name in PHOTOS}
    return [name for name in names(api.get("/api/photos", params={"n": 200, **params})) if name in made_here]


def test_the_library_lists_newest_first_by_capture_time_else_file_time(api):
    assert browsed(api) == NEWEST_FIRST  # cat.jpg has no capture time: its file's 2023 mtime places it


def test_a_listed_photo_has_its_details_and_urls_and_no_score(api):
    body = api.get("/api/photos", params={"n": 200}).json()
    listed = {Path(r["path"]).name: r for r in body["results"]}["sideways.jpg"]
    assert listed == api.get(f"/api/photos/{listed['id']}").json()  # the same fields as one photo's details
    assert (listed["width"], listed["height"]) == (200, 300) and listed["taken"] == "2018-01-01T00:00:00"
    assert listed["thumb"] == f"/thumb/{listed['id']}" and listed["photo"] == f"/photo/{listed['id']}"
    assert not {"rank", "score", "cosine", "mass", "why"} & set(listed)


def test_library_pages_continue_the_order_and_count_the_whole(api):
    whole = api.get("/api/photos", params={"n": 200}).json()
    first = api.get("/api/photos", params={"n": 3}).json()
    second = api.get("/api/photos", params={"n": 3, "offset": 3}).json()
    assert [r["id"] for r in first["results"] + second["results"]] == [r["id"] for r in whole["results"][:6]]
    assert first["total"] == whole["total"] == len(whole["results"]) >= len(PHOTOS)
    assert first["more"] is True and whole["more"] is False and (first["offset"], first["n"]) == (0, 3)


def test_the_library_listing_takes_the_folder_and_date_filters(api, library):
    folder = library.home.parent / "photos" / "trip"
    only_trip = api.get("/api/photos", params={"in": str(folder)}).json()
    assert [Path(r["path"]).name for r in only_trip["results"]] == ["people.jpg"] and only_trip["total"] == 1
    assert browsed(api, after="2019-01-01", before="2022-01-01") == ["dog_beach.jpg", "dog.jpg", "people.jpg"]


def test_the_end_of_the_library_is_an_empty_last_page(api):
    total = api.get("/api/photos").json()["total"]
    end = api.get("/api/photos", params={"offset": total}).json()
    assert end["results"] == [] and end["more"] is False and end["total"] == total


@pytest.mark.parametrize("params, message", [
    ({"n": "0"}, "n=0 is out of range"),
    ({"n": "201"}, "n=201 is out of range"),
    ({"offset": "-1"}, "offset=-1 is out of range"),
    ({"offset": "ten"}, "not a whole number"),
    ({"offset": "100000"}, "past the end"),
    ({"in": "/etc"}, "not inside an indexed folder"),
    ({"before": "last week"}, "To 'last week' is not a date"),
    ({"after": "2022-01-01", "before": "2021-01-01"}, "nothing could match"),
])
def test_bad_library_requests_are_400_with_a_message(api, params, message):
    response = api.get("/api/photos", params=params)
    assert response.status_code == 400 and message in response.json()["error"]


def test_a_photo_deleted_since_the_library_was_sorted_is_left_out_of_its_page(tmp_path):
    settings = make_library(tmp_path)
    library = Library(settings)  # no freshness watcher: it keeps the order it sorted
    try:
        before, total = library.browse(Page(n=3))
        with Store.open(settings.home, writer=True) as store:
            store.commit(ChangeSet(deleted=[before[1].id]))
        after, total_after = library.browse(Page(n=3))
    finally:
        library.close()
    assert [r.id for r in after] == [before[0].id, before[2].id] and total_after == total == len(PHOTOS)


BIG = 2600  # past MAX_DEPTH


@pytest.fixture(scope="module")
def big_library(tmp_path_factory: pytest.TempPathFactory):
    """BIG photos (no files needed to list them) taken a minute apart: id order is date order."""
    base = tmp_path_factory.mktemp("serve-big")
    start = datetime(2001, 1, 1)
    vectors = unit_rows(np.random.default_rng(3).normal(size=(BIG, DIMS)).astype(np.float32))
    with Store.open(base / "home", writer=True) as store:
        store.bind_model(make_bundle(base / "model"))
        store.add_roots([str(base / "photos")])
        store.commit(ChangeSet(embedded=[
            EmbeddedPhoto(path=str(base / "photos" / f"{i:05d}.jpg"), size=1, mtime=1.0, content_hash=f"{i:064x}",
                          width=4, height=3, taken=start + timedelta(minutes=i), vector=vectors[i])
            for i in range(BIG)]))
    return Settings(home=base / "home", cache=base / "cache", model=None)


def test_the_library_pages_past_the_depth_a_search_may_go(big_library):
    with serving(big_library) as client:
        deep = client.get("/api/photos", params={"n": 200, "offset": BIG - 150}).json()
        assert client.get("/api/search", params={"q": "dog", "offset": BIG - 150}).status_code == 400
    assert deep["total"] == BIG and len(deep["results"]) == 150 and deep["more"] is False
    assert [Path(r["path"]).name for r in deep["results"]] == [f"{i:05d}.jpg" for i in range(149, -1, -1)]


# ---- similar ---------------------------------------------------------------------------------------

def test_similar_leaves_the_photo_itself_out(api):
    dog = id_of(api, "dog.jpg")
    body = api.get(f"/api/similar/{dog}").json()
    found = [Path(r["path"]).name for r in body["results"]]
    assert body["similar_to"] == dog and "dog.jpg" not in found
    assert found[0] == "dog_beach.jpg" and len(found) == len(PHOTOS) - 1


def test_similar_to_an_unknown_id_is_404(api):
    response = api.get("/api/similar/999999")
    assert response.status_code == 404 and "no such photo" in response.json()["error"]


# ---- photos, thumbnails, originals -------------------------------------------------------------------

def test_photo_details(api, library):
    cat = id_of(api, "cat.jpg")
    info = api.get(f"/api/photos/{cat}").json()
    path = library.home.parent / "photos" / "cat.jpg"
    assert info["path"] == str(path) and info["name"] == "cat.jpg" and info["bytes"] == path.stat().st_size
    assert (info["width"], info["height"]) == (320, 240) and info["taken"] is None


def test_original_bytes_with_the_type_read_from_the_file(api, library):
    for name, kind in (("cat.jpg", "image/jpeg"), ("drawing.png", "image/png")):
        response = api.get(f"/photo/{id_of(api, name)}")
        assert response.status_code == 200 and response.headers["content-type"] == kind
        assert response.content == (library.home.parent / "photos" / name).read_bytes()


def test_thumbnail_is_an_upright_jpeg(api):
    response = api.get(f"/thumb/{id_of(api, SIDEWAYS)}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert thumb.format == "JPEG" and thumb.height > thumb.width  # stored landscape, shown portrait


def test_thumbnail_sizes(api):
    cat = id_of(api, "cat.jpg")
    with Image.open(io.BytesIO(api.get(f"/thumb/{cat}?size=large").content)) as large:
        assert large.size == (320, 240)  # never enlarged
    assert api.get(f"/thumb/{cat}?size=huge").status_code == 400


def test_thumbnails_are_cached_under_the_store_by_content_hash(api, library):
    beach = id_of(api, "beach.jpg")
    first = api.get(f"/thumb/{beach}")
    cached = list((library.home / "thumbnails").rglob("*.jpg"))
    assert any(first.content == path.read_bytes() for path in cached)
    again = api.get(f"/thumb/{beach}", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_an_edited_photo_gets_a_new_thumbnail(api, library):
    path = draw_photo(library.home.parent / "photos" / "edited.jpg", (10, 10, 200))
    add_photo(library, path, axis(0, 0, 0.1, 1))
    with serving(library) as test_client:
        photo_id = id_of(test_client, "edited.jpg")
        before = test_client.get(f"/thumb/{photo_id}")
        draw_photo(path, (250, 10, 10))
        after = test_client.get(f"/thumb/{photo_id}")
    assert before.headers["etag"] != after.headers["etag"] and before.content != after.content


@pytest.mark.parametrize("url", [
    "/photo/..%2F..%2F..%2Fetc%2Fpasswd",
    "/photo/../../etc/passwd",
    "/thumb/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/photo/-1",
    "/photo/1.0",
    "/static/../serve/app.py",
    "/static/%2e%2e/app.py",
    "/static/js/../../app.py",
    "/static/",
    "/etc/passwd",
])
def test_traversal_attempts_are_404(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert b"root:" not in response.content and b"create_app" not in response.content


def served_after(library, name: str, change) -> int:
    """The status of /photo/{id} for a photo whose file `change(path)` has just altered."""
    path = draw_photo(library.home.parent / "photos" / name, (5, 5, 5))
    add_photo(library, path, axis(0, 0, 0.2, 1))
    with serving(library) as test_client:
        photo_id = id_of(test_client, name)
        assert test_client.get(f"/photo/{photo_id}").status_code == 200
        change(path)
        status = test_client.get(f"/photo/{photo_id}").status_code
        thumb_status = test_client.get(f"/thumb/{photo_id}").status_code
    assert thumb_status == status
    return status


def test_a_photo_replaced_by_a_link_out_of_the_indexed_folders_is_404(library, tmp_path):
    secret = tmp_path / "secret.jpg"
    draw_photo(secret, (1, 2, 3))

    def swap_for_link(path: Path) -> None:
        path.unlink()
        path.symlink_to(secret)

    assert served_after(library, "linked.jpg", swap_for_link) == 404


def test_a_photo_replaced_by_a_fifo_is_404(library):
    def swap_for_fifo(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)

    assert served_after(library, "fifo.jpg", swap_for_fifo) == 404


def test_a_photo_gone_from_disk_is_404(library):
    assert served_after(library, "gone.jpg", Path.unlink) == 404


# ---- uploads refused before decoding (the accepted ones load the network: test_serve_e2e.py) ------------

def post(api, data: bytes, name: str = "photo.jpg", kind: str = "image/jpeg", **kwargs):
    return api.post("/api/similar", files={"image": (name, data, kind)}, **kwargs)


def test_an_upload_over_the_limit_is_413(api):
    response = post(api, b"\xff\xd8" + b"0" * (MAX_UPLOAD_BYTES + 1))
    assert response.status_code == 413 and "32 MB" in response.json()["error"]


def test_a_declared_length_over_the_limit_is_413_before_reading(api):
    response = api.post("/api/similar", content=b"x", headers={
        "content-type": "multipart/form-data; boundary=x", "content-length": str(MAX_UPLOAD_BYTES * 2)})
    assert response.status_code == 413


def test_an_upload_that_is_not_a_photo_is_415(api):
    response = post(api, b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", name="x.jpg")
    assert response.status_code == 415 and "not a photo" in response.json()["error"]


def test_a_decompression_bomb_is_413(api):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 MP, a few kilobytes
    response = post(api, bomb.getvalue(), name="bomb.png", kind="image/png")
    assert response.status_code == 413 and "too many pixels" in response.json()["error"]


def test_an_upload_without_the_image_field_is_400(api):
    response = api.post("/api/similar", files={"photo": ("a.jpg", b"x", "image/jpeg")})
    assert response.status_code == 400 and "image" in response.json()["error"]


def test_an_upload_that_is_not_multipart_is_415(api):
    assert api.post("/api/similar", content=b"\xff\xd8", headers={"content-type": "image/jpeg"}).status_code == 415


# ---- status, page, headers -------------------------------------------------------------------------

def test_status_counts_and_roots(api, library):
    status = api.get("/api/status").json()
    assert status["images"] >= len(PHOTOS) and status["failed"] == 0
    assert status["roots"] == [str(library.home.parent / "photos")]


def test_the_page_loads_its_script_as_a_module_and_has_no_inline_script(api):
    page = api.get("/").text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert 'type="module" src="/static/js/main.js"' in page and " on" + "click=" not in page
    assert "style=" not in page
    for asset in ("/static/js/main.js", "/static/app.css", "/static/icon.svg"):
        assert api.get(asset).status_code == 200


def test_text_wraps_at_word_boundaries(api):
    assert "break-all" not in api.get("/static/app.css").text  # it split "truncat|ed" in the Library view


def test_every_script_module_is_served(api):
    for module in (STATIC / "js").glob("*.js"):
        assert api.get(f"/static/js/{module.name}").status_code == 200


def test_security_headers_on_every_response(api):
    for url in ("/", "/api/search?q=dog", "/api/search?q=", "/photo/999999", "/static/app.css"):
        headers = api.get(url).headers
        assert headers["x-content-type-options"] == "nosniff"
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def test_unknown_routes_are_json_404(api):
    response = api.get("/api/nothing")
    assert response.status_code == 404 and "error" in response.json()


# ---- safe by default: hosts and tokens ------------------------------------------------------------------

def test_without_a_token_only_loopback_host_names_are_answered(api):
    assert api.get("/api/status", headers={"host": "localhost:8765"}).status_code == 200
    assert api.get("/api/status", headers={"host": "[::1]:8765"}).status_code == 200
    response = api.get("/api/status", headers={"host": "evil.example:8765"})  # a DNS-rebinding page
    assert response.status_code == 421


def test_a_non_loopback_bind_without_a_token_is_refused(library):
    services = Services.open(library)
    services.close()
    with pytest.raises(UsageError, match="--token"):
        create_app(services, host="0.0.0.0")
    with pytest.raises(UsageError, match="empty"):
        create_app(services, host="127.0.0.1", token=" ")


@pytest.fixture(scope="module")
def guarded(library):
    with serving(library, host="0.0.0.0", token="s3cret-token") as test_client:
        yield test_client


def test_with_a_token_a_request_without_it_is_401(guarded):
    for url in ("/", "/api/search?q=dog", "/thumb/1", "/photo/1", "/static/app.css"):
        response = guarded.get(url)
        assert response.status_code == 401 and "token" in response.json()["error"]
    assert guarded.get("/api/status", headers={"authorization": "Bearer wrong"}).status_code == 401


def test_with_a_token_any_host_name_is_answered_when_it_is_given(guarded):
    response = guarded.get("/api/status", headers={"authorization": "Bearer s3cret-token", "host": "nas.local"})
    assert response.status_code == 200


def test_the_printed_url_sets_a_cookie_and_drops_the_token_from_the_address(guarded):
    response = guarded.get("/?token=s3cret-token&q=dog", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/?q=dog"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert guarded.get("/api/search?q=dog").status_code == 200  # the client kept the cookie
    guarded.cookies.clear()


# ---- a new store generation ------------------------------------------------------------------------

def test_a_photo_indexed_while_serving_is_found_without_a_restart(library):
    with serving(library) as test_client:
        assert "newcomer.jpg" not in names(test_client.get("/api/search", params={"q": "dog", "n": 50}))
        path = draw_photo(library.home.parent / "photos" / "newcomer.jpg", (0, 255, 0))
        add_photo(library, path, axis(1, 0, 0, 0.05))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = names(test_client.get("/api/search", params={"q": "dog", "n": 2}))
            if "newcomer.jpg" in found:
                break
            time.sleep(0.2)
    assert "newcomer.jpg" in found


def test_a_photo_indexed_while_serving_tops_the_library_without_a_restart(library):
    with serving(library) as test_client:
        path = draw_photo(library.home.parent / "photos" / "latest.jpg", (255, 0, 255))
        assert "latest.jpg" not in names(test_client.get("/api/photos", params={"n": 200}))
        add_photo(library, path, axis(0, 1, 0, 0.05))  # no capture time: its mtime, now, is the newest
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            first = names(test_client.get("/api/photos", params={"n": 1}))
            if first == ["latest.jpg"]:
                break
            time.sleep(0.2)
    assert first == ["latest.jpg"]


def test_links_handed_out_before_a_rebuild_are_served_until_the_server_switches(tmp_path) -> None:
    """`index --rebuild` forgets every photo and indexes them again while the server runs: the pages it
    showed before keep their thumbnails and photos, and every link it hands out meanwhile is served."""
    settings = make_library(tmp_path)
    with serving(settings) as client:
        before = client.get("/api/search", params={"q": "dog", "n": 50}).json()["results"]
        again = next(r for r in before if Path(r["path"]).name == "cat.jpg")
        with Store.open(settings.home, writer=True) as store:
            store.reset()  # what `index --rebuild` does first, then it indexes the photos one batch at a time
            store.bind_model(make_bundle(tmp_path / "model"))
            store.add_roots([str(tmp_path / "photos")])
            path = Path(again["path"])
            store.commit(ChangeSet(embedded=[EmbeddedPhoto(str(path), path.stat().st_size, path.stat().st_mtime,
                                                           "rehashed", 320, 240, None, axis(0, 0, 1, 0))]))
            during = client.get("/api/search", params={"q": "dog", "n": 50}).json()["results"]
            for result in before + during:
                for link in ("thumb", "photo"):
                    assert client.get(result[link]).status_code == 200, (result["path"], link)
        assert [r["id"] for r in during] == [again["id"]]  # indexed again, under its old id


# ---- the Folder field -------------------------------------------------------------------------------

def test_a_folder_relative_to_an_indexed_folder_filters_like_its_absolute_path(api, library):
    absolute = library.home.parent / "photos" / "trip"
    relative = names(api.get("/api/search", params={"q": "dog", "in": "trip"}))
    assert relative == names(api.get("/api/search", params={"q": "dog", "in": str(absolute)})) == ["people.jpg"]
    assert names(api.get("/api/photos", params={"in": "trip/"})) == ["people.jpg"]


def test_folder_errors_name_the_field_as_the_page_labels_it(api):
    for folder in ("no-such-trip", "/etc"):
        error = api.get("/api/search", params={"q": "dog", "in": folder}).json()["error"]
        assert "folder" in error.lower() and "in=" not in error and "--in" not in error


def test_folder_suggestions_list_subfolders_as_typed(api, library, tmp_path):
    root = library.home.parent / "photos"
    (root / "trip" / "2020").mkdir(exist_ok=True)
    (root / "trip" / ".hidden").mkdir(exist_ok=True)
    assert api.get("/api/folders", params={"prefix": "tr"}).json()["folders"] == ["trip"]
    assert api.get("/api/folders", params={"prefix": "trip/"}).json()["folders"] == ["trip/2020"]
    assert api.get("/api/folders", params={"prefix": str(root) + "/t"}).json()["folders"] == [str(root / "trip")]
    assert str(root / "trip") in api.get("/api/folders").json()["folders"]


def test_folder_suggestions_never_look_outside_the_indexed_folders(api):
    assert api.get("/api/folders", params={"prefix": "/et"}).json()["folders"] == []
    assert api.get("/api/folders", params={"prefix": "../"}).json()["folders"] == []


# ---- dates ---------------------------------------------------------------------------------------------

def test_a_photo_says_which_date_it_is_sorted_by(api):
    photos = {Path(p["path"]).name: p for p in api.get("/api/photos", params={"n": 50}).json()["results"]}
    assert photos["dog.jpg"]["dated_by"] == "taken" and photos["dog.jpg"]["date"].startswith("2020-01-01")
    assert photos["cat.jpg"]["dated_by"] == "file" and photos["cat.jpg"]["date"].startswith("2023-05-01")


def test_a_search_result_says_which_date_it_is_sorted_by_in_the_same_words(api):
    found = api.get("/api/search", params={"q": "cat", "n": 50, "all": 1}).json()["results"]
    results = {Path(r["path"]).name: r for r in found}
    assert results["dog.jpg"]["dated_by"] == "taken" and results["cat.jpg"]["dated_by"] == "file"
    assert results["cat.jpg"]["date"].startswith("2023-05-01")


def test_the_first_library_page_gives_the_years_it_spans_newest_first(api):
    years = api.get("/api/photos", params={"n": 2, "before": "2022-01-01"}).json()["years"]
    assert years == [2021, 2020, 2019, 2018, 2017]


# ---- photos moved or deleted since indexing ---------------------------------------------------------------

def test_a_gone_photo_says_why_and_is_left_out_once_noticed(library):
    path = draw_photo(library.home.parent / "photos" / "vanished.jpg", (9, 9, 9))
    add_photo(library, path, axis(1, 0, 0, 0.01))
    with serving(library) as test_client:
        photo_id = id_of(test_client, "vanished.jpg")
        path.unlink()
        response = test_client.get(f"/thumb/{photo_id}")
        assert response.status_code == 404 and response.json()["missing"] is True
        assert response.json()["error"] == "moved or deleted since indexing; run devsearch index"
        assert "vanished.jpg" not in names(test_client.get("/api/search", params={"q": "dog", "n": 50}))
        assert "vanished.jpg" not in names(test_client.get("/api/photos", params={"n": 200}))
    with Store.open(library.home, writer=True) as store:
        store.commit(ChangeSet(deleted=[photo_id]))


# ---- rescan ----------------------------------------------------------------------------------------------

def test_rescan_indexes_the_folders_again_in_the_background(tmp_path):
    # the bundle the store is bound to; no people detector (the test photos were stored without its findings)
    settings = replace(make_library(tmp_path), model=tmp_path / "model", people=False)
    with serving(settings) as test_client:
        (tmp_path / "photos" / "beach.jpg").unlink()
        started = test_client.post("/api/rescan").json()
        assert started["running"] and started["generation"] >= 1
        assert names(test_client.get("/api/search", params={"q": "dog"}))  # searches answer meanwhile
        deadline = time.monotonic() + 120
        while (state := test_client.get("/api/rescan").json())["running"] and time.monotonic() < deadline:
            time.sleep(0.3)
        assert state["phase"] == "done" and "1 deleted" in state["summary"], state["error"]
        while test_client.get("/api/rescan").json()["generation"] == started["generation"] and time.monotonic() < deadline:
            time.sleep(0.3)  # the page polls this to refresh what it shows
        assert test_client.get("/api/rescan").json()["generation"] > started["generation"]
        assert "beach.jpg" not in names(test_client.get("/api/photos", params={"n": 200}))
