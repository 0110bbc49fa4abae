"""`devsearch serve` on real photos with the real default model, through its API and in a real browser.

One store for the module (indexing loads TensorFlow and the weights): the committed cat, coffee,
astronaut and rocket photos plus three other sample photos. The browser test drives headless
Chromium (Debian's `chromium` and `chromium-driver`, installed by .ci/run) through Selenium against a
real `devsearch serve` process, from the library view (nothing searched) to a search and back, and
saves a screenshot of each step.
"""
from __future__ import annotations

import io
import re
import shutil
import signal
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from devsearch.core.settings import Settings
from devsearch.indexer.service import index_paths
from tests.conftest import FIXTURES
from tests.browser import chrome
from tests.serve_library import ROOT, names, serving, start_server

pytestmark = pytest.mark.slow

CAT = "chelsea.jpg"
CAT_CLASSES = {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat", "lynx"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Settings:
    base = tmp_path_factory.mktemp("serve-e2e")
    photos = base / "photos"
    photos.mkdir()
    for path in [*(FIXTURES / n for n in (CAT, "coffee.jpg", "astronaut.jpg", "rocket.jpg")),
                 *(ROOT / "samples" / n for n in ("galaxies.jpg", "horse.jpg", "photographer.jpg"))]:
        shutil.copy(path, photos / path.name)
    settings = Settings(home=base / "home", cache=model_cache)
    summary = index_paths([photos], settings)
    assert summary.new == 7 and not summary.failed
    return settings


@pytest.fixture(scope="module")
def api(indexed):
    with serving(indexed) as test_client:
        yield test_client


def cat_id(api) -> int:
    return api.get("/api/search", params={"q": "cat", "n": 1}).json()["results"][0]["id"]


def test_cat_puts_the_cat_photo_first(api):
    assert names(api.get("/api/search", params={"q": "cat"}))[0] == CAT


def test_similar_to_the_cat_leaves_it_out(api):
    found = names(api.get(f"/api/similar/{cat_id(api)}"))
    assert CAT not in found and len(found) == 6


def test_an_uploaded_photo_of_the_cat_finds_the_cat(api):
    with Image.open(FIXTURES / CAT) as image:  # another photo of that cat: mirrored and cropped
        w, h = image.size
        variant = ImageOps.mirror(image).crop((w // 10, h // 10, w - w // 10, h - h // 10))
        upload = io.BytesIO()
        variant.save(upload, "JPEG", quality=90)
    response = api.post("/api/similar", files={"image": ("my-cat.jpg", upload.getvalue(), "image/jpeg")})
    assert names(response)[0] == CAT


def test_what_the_model_sees_in_the_cat(api):
    labels = api.get(f"/api/photos/{cat_id(api)}/labels").json()
    assert {row["label"] for row in labels["imagenet"][:3]} & CAT_CLASSES
    assert "cat" in [row["word"] for row in labels["words"]]


# ---- the page in a real browser -------------------------------------------------------------------------

def test_browse_search_open_similar_and_close_in_a_browser(indexed, tmp_path_factory):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    shots = tmp_path_factory.mktemp("serve-screenshots")
    process, url = start_server(indexed.home, indexed.cache)
    driver = chrome((1280, 860))
    wait = WebDriverWait(driver, 30)

    def tiles():
        return driver.find_elements(By.CSS_SELECTOR, "#grid .tile")

    def viewer_open() -> bool:
        return driver.find_element(By.ID, "viewer").is_displayed()

    def all_loaded(d) -> bool:
        return tiles() and len(d.find_elements(By.CSS_SELECTOR, "#grid .tile img.loaded")) == len(tiles())

    try:
        driver.get(url)  # nothing searched: the whole library, newest first
        wait.until(all_loaded)
        assert len(tiles()) == 7 and "7 photos · newest first" in driver.find_element(By.ID, "summary").text
        assert not driver.find_elements(By.CSS_SELECTOR, "#grid .tile .badge")  # nothing was ranked
        assert not driver.find_element(By.CSS_SELECTOR, "#filters .score").is_displayed()
        driver.save_screenshot(str(shots / "0-library.png"))
        second = tiles()[1].get_attribute("data-name")
        tiles()[0].click()
        wait.until(lambda d: viewer_open() and d.find_element(By.ID, "viewer-name").text)
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
        wait.until(lambda d: d.find_element(By.ID, "viewer-name").text == second)
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        wait.until(lambda d: not viewer_open() and "photo=" not in d.current_url)

        driver.find_element(By.ID, "q").send_keys("cat", Keys.ENTER)
        wait.until(lambda d: "for cat" in d.find_element(By.ID, "summary").text and all_loaded(d))
        assert tiles()[0].get_attribute("data-name") == CAT
        grid = [element.get_attribute("class") for element in driver.find_elements(By.CSS_SELECTOR, "#grid > *")]
        assert grid[0] == "tile" and grid.count("divider") == 1  # the matches, then "Related" and the rest
        ActionChains(driver).move_to_element(tiles()[0]).perform()  # the score shows on hover, as a percentage
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#grid .tile .badge").is_displayed())
        assert driver.find_element(By.CSS_SELECTOR, "#grid .tile .badge").text.endswith("%")
        driver.save_screenshot(str(shots / "1-results.png"))

        tiles()[0].click()
        wait.until(lambda d: viewer_open() and d.find_element(By.ID, "viewer-name").text == CAT)
        assert "photo=" in driver.current_url
        facts = driver.find_element(By.ID, "viewer-facts").text
        assert re.search(r"Score\s+(>99|\d+)%", facts) and re.search(r"Why\s+\w.* \d+%", facts)
        driver.save_screenshot(str(shots / "2-photo.png"))

        driver.find_element(By.ID, "viewer-similar").click()
        wait.until(lambda d: "similar=" in d.current_url and not viewer_open() and all_loaded(d)
                   and tiles()[0].get_attribute("data-name") != CAT)
        assert CAT not in [tile.get_attribute("data-name") for tile in tiles()]
        driver.save_screenshot(str(shots / "3-similar.png"))

        tiles()[0].click()
        wait.until(lambda d: viewer_open())
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        wait.until(lambda d: not viewer_open() and "photo=" not in d.current_url)
        driver.save_screenshot(str(shots / "4-closed.png"))
        assert not [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    finally:
        driver.quit()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    print(f"screenshots in {shots}")
