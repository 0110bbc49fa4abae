"""The server on hostile input: every answer is a status the API documents, never a 500.

File names of any bytes (not UTF-8, bidi overrides, terminal escapes), ids past 64 bits, NUL bytes,
queries past the limits, Host headers that are more than one host, tokens of any character, uploads
that would decode to a huge image, and a store on a read-only file system.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devsearch.core.errors import UsageError
from devsearch.search.query_parser import MAX_QUERY_CHARS, MAX_TERMS
from devsearch.serve.app import create_app
from devsearch.serve.server import bind, url_of
from devsearch.serve.services import Services
from devsearch.serve.uploads import MAX_WHOLE_PIXELS
from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, FailedPhoto
from tests.serve_library import add_photo, draw_photo, make_library, serving
from tests.tiny_library import axis

NOT_UTF8 = os.fsdecode(b"caf\xe9.jpg")
ODD_NAMES = {NOT_UTF8: "caf\\xe9.jpg", "\u202egnp.jpg": "\\u202egnp.jpg", "esc\x1b[31m.jpg": "esc\\e[31m.jpg"}
ID_ROUTES = ("/photo/{}", "/thumb/{}", "/api/photos/{}", "/api/photos/{}/labels", "/api/similar/{}")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    settings = make_library(tmp_path_factory.mktemp("serve-hostile"))
    for i, name in enumerate(ODD_NAMES):
        path = draw_photo(settings.home.parent / "photos" / "odd" / name, (10 * i, 200, 30))
        add_photo(settings, path, axis(1, 0, 0, 0.01 * (i + 1)))
    broken = settings.home.parent / "photos" / "broken" / NOT_UTF8
    broken.parent.mkdir()
    broken.write_bytes(b"not a photo")
    with Store.open(settings.home, writer=True) as store:
        store.add_roots([str(settings.home.parent / "photos" / "odd\u202e")])
        store.commit(ChangeSet(failed=[FailedPhoto(str(broken), 11, broken.stat().st_mtime, "not an image")]))
    return settings


@pytest.fixture(scope="module")
def api(library):
    with serving(library) as test_client:
        yield test_client


def odd_results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return [r for r in json.loads(response.content)["results"] if "/odd/" in r["path"]]


# ---- names of any bytes ------------------------------------------------------------------------------

def test_searches_give_every_name_exactly_and_as_shown(api):
    found = odd_results(api.get("/api/search", params={"q": "dog", "n": 50}))
    assert sorted(Path(r["path"]).name for r in found) == sorted(ODD_NAMES)
    for result in found:
        assert result["shown_path"].endswith("/odd/" + ODD_NAMES[Path(result["path"]).name])


def test_the_exact_name_gives_the_file_back(api, library):
    found = odd_results(api.get("/api/search", params={"q": "dog", "n": 50}))
    on_disk = set(os.listdir(os.fsencode(library.home.parent / "photos" / "odd")))
    assert {os.path.basename(os.fsencode(r["path"])) for r in found} == on_disk


def test_the_library_listing_and_photo_details_carry_every_name(api):
    listed = odd_results(api.get("/api/photos", params={"n": 200}))
    assert len(listed) == len(ODD_NAMES)
    for photo in listed:
        details = json.loads(api.get(f"/api/photos/{photo['id']}").content)
        assert details["name"] in ODD_NAMES and details["shown_path"].endswith(ODD_NAMES[details["name"]])
        assert api.get(f"/thumb/{photo['id']}").status_code == 200


def shown_safely(text: str) -> bool:
    return not any(ord(c) < 32 or 0x202A <= ord(c) <= 0x202E or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_shown_names_hold_no_control_or_bidi_character(api):
    for result in odd_results(api.get("/api/search", params={"q": "dog", "n": 50})):
        assert shown_safely(result["shown_path"])


def test_the_status_carries_failed_names_exactly_and_roots_as_shown(api):
    response = api.get("/api/status")
    assert response.status_code == 200
    status = json.loads(response.content)
    assert [os.path.basename(f["path"]) for f in status["failed_files"]] == [NOT_UTF8]
    assert any(root.endswith("odd\u202e") for root in status["roots"])
    assert all(shown_safely(root) for root in status["shown_roots"]) and shown_safely(status["shown_home"])


# ---- ids, NUL bytes, limits --------------------------------------------------------------------------

@pytest.mark.parametrize("route", ID_ROUTES)
@pytest.mark.parametrize("photo_id", [2 ** 63, 2 ** 64 + 1, 10 ** 40])
def test_ids_past_64_bits_are_404(api, route, photo_id):
    response = api.get(route.format(photo_id))
    assert response.status_code == 404 and "error" in response.json()


@pytest.mark.parametrize("route", ["/api/search?q=dog&in={}", "/api/photos?in={}"])
def test_a_nul_byte_in_the_folder_filter_is_400(api, library, route):
    response = api.get(route.format(f"{library.home.parent / 'photos'}%00x"))
    assert response.status_code == 400 and "NUL" in response.json()["error"]


def test_a_query_over_the_length_limit_is_400(api):
    response = api.get("/api/search", params={"q": "dog " * (MAX_QUERY_CHARS // 4 + 1)})
    assert response.status_code == 400 and "characters long" in response.json()["error"]


def test_a_query_with_too_many_terms_is_400(api):
    response = api.get("/api/search", params={"q": " + ".join(["dog"] * (MAX_TERMS + 1))})
    assert response.status_code == 400 and f"limit of {MAX_TERMS}" in response.json()["error"]


def test_an_unknown_word_past_every_known_length_has_no_suggestions(api):
    response = api.get("/api/search", params={"q": "q" * (MAX_QUERY_CHARS - 1)})
    assert response.status_code == 400 and response.json()["suggestions"] == []


def test_a_png_too_large_to_decode_whole_is_413(api):
    side = int(MAX_WHOLE_PIXELS ** 0.5) + 16
    data = io.BytesIO()
    Image.new("RGB", (side, side), (30, 120, 200)).save(data, "PNG")  # a few hundred kilobytes
    response = api.post("/api/similar", files={"image": ("big.png", data.getvalue(), "image/png")})
    assert response.status_code == 413 and "JPEG" in response.json()["error"]


# ---- the Host header ---------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["[::1]evil.example", "127.0.0.1, evil.example", "localhost:1:2", "localhost x",
                                  "127.0.0.1:8765/evil", "[::1]:80evil", "", "127.0.0.1@evil.example"])
def test_a_host_header_that_is_not_exactly_one_loopback_host_is_421(api, host):
    assert api.get("/api/status", headers={"host": host}).status_code == 421


def test_two_host_headers_are_421(api):
    assert api.get("/api/status", headers=[("host", "127.0.0.1"), ("host", "evil.example")]).status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8765", "localhost:80", "[::1]", "[::1]:8765"])
def test_loopback_hosts_with_an_optional_port_are_answered(api, host):
    assert api.get("/api/status", headers={"host": host}).status_code == 200


# ---- other sites' pages -----------------------------------------------------------------------------

def test_an_upload_from_another_sites_page_is_403(api):
    response = api.post("/api/similar", files={"image": ("a.png", b"x", "image/png")},
                        headers={"origin": "http://evil.example"})
    assert response.status_code == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_search_or_thumbnail_for_another_sites_page_is_403(api, site):
    for url in ("/api/search?q=dog", "/thumb/1"):
        assert api.get(url, headers={"sec-fetch-site": site, "sec-fetch-mode": "no-cors"}).status_code == 403


def test_a_link_from_another_site_opens_the_gallery(api):
    response = api.get("/", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"})
    assert response.status_code == 200


def test_the_pages_own_requests_pass(api):
    same = {"sec-fetch-site": "same-origin", "origin": "http://127.0.0.1"}
    assert api.get("/api/search?q=dog", headers=same).status_code == 200
    response = api.post("/api/similar", files={"image": ("a.png", b"x", "image/png")}, headers=same)
    assert response.status_code == 415  # checked as a photo, not refused as cross-site


# ---- tokens of any character -------------------------------------------------------------------------

TOKEN = "a+b&c#d%e f/é€"


@pytest.fixture(scope="module")
def guarded(library):
    with serving(library, host="0.0.0.0", token=TOKEN) as test_client:
        yield test_client


def test_the_printed_url_carries_any_token(guarded):
    sock = bind("127.0.0.1", 0)
    try:
        url = url_of(sock, TOKEN)
    finally:
        sock.close()
    entered = guarded.get("/" + url.split("/", 3)[3], follow_redirects=False)
    assert entered.status_code == 303, entered.text
    assert guarded.get("/api/status").status_code == 200  # by the cookie the redirect set
    guarded.cookies.clear()


def test_the_bearer_header_takes_any_token_as_utf8(guarded):
    response = guarded.get("/api/status", headers=[(b"authorization", b"Bearer " + TOKEN.encode())])
    assert response.status_code == 200
    assert guarded.get("/api/status", headers={"authorization": "Bearer a+b&c#d%e f/"}).status_code == 401


@pytest.mark.parametrize("token", ["tab\there", "line\nbreak", " padded", "padded ", "nul\0", os.fsdecode(b"caf\xe9")])
def test_a_token_no_client_can_send_back_is_refused_at_start(library, token):
    services = Services.open(library)
    services.close()
    with pytest.raises(UsageError, match="--token"):
        create_app(services, host="0.0.0.0", token=token)


# ---- a read-only store -------------------------------------------------------------------------------

@pytest.fixture
def read_only_copy(library, tmp_path):
    """The store copied onto a tmpfs that is then remounted read-only (root only)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(library.home, folder / "home", ignore=shutil.ignore_patterns("thumbnails"))
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield type(library)(home=folder / "home", cache=library.cache, model=None)
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def test_a_read_only_store_still_serves_thumbnails(read_only_copy):
    with serving(read_only_copy) as client:
        for photo in client.get("/api/photos", params={"n": 200}).json()["results"]:
            for size in ("grid", "large"):
                made = client.get(photo["thumb"], params={"size": size})
                assert made.status_code == 200 and made.content.startswith(b"\xff\xd8"), made.text
                assert client.get(photo["thumb"], params={"size": size}).content == made.content
