"""The gallery page in headless Chromium against a real `devsearch serve` process, on the small
network-free library of tests/serve_library.py: what a person meets in the first minutes.

The folder filter keeps the query, `/` and `?` work from any state, focus moves into the photo
view and back, a phone-sized window has no sideways scroll and its filters behind one button, an
unknown word is not reported while it is still being typed, a photo gone from disk says so, a new
store generation shows without a reload, the library has month headers, Rescan runs from the Library
view, and an accessibility check (light, dark, phone)
(axe-core, from npm: `npm install --no-save axe-core@4`, as .ci/run does; the DOM checks below
always run) finds nothing. Needs Debian's chromium and chromium-driver.
"""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.browser import chrome
from tests.serve_library import ROOT, add_photo, draw_photo, make_library, start_server
from tests.tiny_library import axis

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, PHONE = (1400, 900), (390, 844)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """A served library and its settings; the server runs until the module's tests are done."""
    base = tmp_path_factory.mktemp("serve-browser")
    settings = make_library(base)
    with pytest.MonkeyPatch.context() as env:  # a Rescan indexes with the store's own tiny bundle
        env.setenv("DEVSEARCH_MODEL", str(base / "model"))
        env.setenv("DEVSEARCH_PEOPLE", "0")  # the photos were stored without the people detectors' findings
        process, url = start_server(settings.home, settings.cache)
    try:
        yield url, settings
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.fixture
def page(site):
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome(DESKTOP)
    try:
        yield driver, WebDriverWait(driver, 20), site[0]
    finally:
        driver.quit()


@pytest.fixture
def gallery(page):
    """The page with the library's first tiles shown: (driver, wait)."""
    driver, wait, url = page
    driver.get(url)
    wait.until(lambda d: tile_names(d))
    return driver, wait


def by_css(driver, selector):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, selector)


def tile_names(driver) -> list[str]:
    return driver.execute_script("return [...document.querySelectorAll('#grid .tile')].map((t) => t.dataset.name)")


def summary(driver) -> str:
    return driver.execute_script("return document.getElementById('summary').innerText")


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && (document.activeElement.id || document.activeElement.className)")


def press(driver, *keys) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(*keys).perform()


def type_in_search_box(driver, text: str) -> None:
    """Go to the search box the way a person does (`/`), then type."""
    press(driver, "/")
    press(driver, text)


# ---- the folder filter ---------------------------------------------------------------------------------

def test_the_folder_filter_keeps_the_query_and_takes_a_folder_relative_to_an_indexed_one(page):
    from selenium.webdriver.common.keys import Keys
    driver, wait, url = page
    driver.get(url + "?q=dog")
    wait.until(lambda d: "for dog" in summary(d) and len(tile_names(d)) == 7)
    folder = by_css(driver, "#filters input[name=in]")[0]
    folder.send_keys("tr")
    wait.until(lambda d: d.execute_script("return [...document.querySelectorAll('#folders option')].map((o) => o.value)")
               == ["trip"])
    folder.send_keys("ip", Keys.ENTER)
    wait.until(lambda d: tile_names(d) == ["people.jpg"])
    assert "q=dog" in driver.current_url and "in=trip" in driver.current_url
    assert by_css(driver, "#q")[0].get_attribute("value") == "dog" and "for dog" in summary(driver)
    driver.execute_script("window.__same_page = true")  # gone after a full reload
    folder.clear()
    folder.send_keys("nowhere", Keys.ENTER)
    wait.until(lambda d: "error" in by_css(d, "#summary")[0].get_attribute("class"))
    assert "folder" in summary(driver).lower() and "in=" not in summary(driver) and "--in" not in summary(driver)
    assert driver.execute_script("return window.__same_page") is True


# ---- keyboard --------------------------------------------------------------------------------------------

def test_slash_goes_to_the_search_box_from_any_state_without_typing_a_slash(gallery):
    driver, wait = gallery
    assert active_id(driver) != "q"  # not focused on load: `/` is the way in
    press(driver, "/")
    assert active_id(driver) == "q" and by_css(driver, "#q")[0].get_attribute("value") == ""
    by_css(driver, "#grid .tile")[0].click()
    wait.until(lambda d: by_css(d, "#viewer")[0].is_displayed())
    press(driver, "/")
    wait.until(lambda d: not by_css(d, "#viewer")[0].is_displayed())
    assert active_id(driver) == "q" and by_css(driver, "#q")[0].get_attribute("value") == ""


def test_question_mark_lists_the_shortcuts(gallery):
    driver, _ = gallery
    press(driver, "?")
    keys = by_css(driver, "#keys")[0]
    assert keys.is_displayed() and "Search (from anywhere)" in keys.text


def test_focus_moves_into_the_photo_view_and_back_to_its_tile(page):
    from selenium.webdriver.common.keys import Keys
    driver, wait, url = page
    driver.get(url)
    wait.until(lambda d: len(tile_names(d)) == 7)
    by_css(driver, "#grid .tile")[2].click()
    wait.until(lambda d: by_css(d, "#viewer-name")[0].text)
    assert driver.execute_script("return document.getElementById('viewer').contains(document.activeElement)")
    for presses in range(1, 8):
        press(driver, Keys.TAB)
        if active_id(driver) == "viewer-similar":
            break
    assert active_id(driver) == "viewer-similar", "Similar photos is a few presses of Tab away"
    press(driver, Keys.ESCAPE)
    wait.until(lambda d: not by_css(d, "#viewer")[0].is_displayed())
    assert driver.execute_script("return document.activeElement.dataset.index") == "2"


# ---- search as you type -------------------------------------------------------------------------------------

def test_an_unknown_word_is_reported_only_once_the_typing_pauses(gallery):
    driver, wait = gallery
    type_in_search_box(driver, "kat")
    time.sleep(0.8)  # the live search has run (350 ms after the last key); the word may still grow
    assert "unknown word" not in summary(driver)
    wait.until(lambda d: "unknown word" in summary(d))


def test_typing_a_word_sends_one_search_not_one_per_letter(gallery):
    driver, wait = gallery
    type_in_search_box(driver, "beach")
    wait.until(lambda d: "for beach" in summary(d))
    sent = driver.execute_script(
        "return performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/search')).length")
    assert sent == 1


def test_enter_reports_an_unknown_word_at_once(gallery):
    from selenium.webdriver.common.keys import Keys
    driver, wait = gallery
    type_in_search_box(driver, "kat")
    wait.until(lambda d: d.execute_script(  # the live search has come back, and holds its error back
        "return performance.getEntriesByType('resource').some((e) => e.name.includes('/api/search?q=kat'))"))
    assert "unknown word" not in summary(driver)
    press(driver, Keys.ENTER)
    assert "unknown word" in summary(driver)


# ---- the phone ------------------------------------------------------------------------------------------------

def test_on_a_phone_the_filters_fold_away_and_nothing_scrolls_sideways(page):
    driver, wait, url = page
    driver.set_window_size(*PHONE)
    driver.get(url + "?q=dog")
    wait.until(lambda d: len(tile_names(d)) == 7)
    assert not by_css(driver, "#filters")[0].is_displayed()
    by_css(driver, "#filters-toggle")[0].click()
    assert by_css(driver, "#filters")[0].is_displayed()
    after, before = by_css(driver, "#filters input[name=after]")[0], by_css(driver, "#filters input[name=before]")[0]
    assert after.rect["x"] == before.rect["x"] and after.rect["width"] == before.rect["width"]
    assert driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert not by_css(driver, "#grid .month")  # month headers are the library's, not a ranking's
    tops = [tile.rect["y"] for tile in by_css(driver, "#grid .tile")]
    assert tops.count(tops[0]) >= 2, "two or more tiles a row"
    by_css(driver, "#grid .tile")[0].click()
    wait.until(lambda d: "Score" in by_css(d, "#viewer-facts")[0].text)
    assert driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


# ---- dates, scale ------------------------------------------------------------------------------------------------

def test_the_library_has_month_headers_a_year_jump_and_says_which_date_sorts(page):
    driver, wait, url = page
    driver.get(url)
    wait.until(lambda d: by_css(d, "#grid .month"))
    months = [h.text for h in by_css(driver, "#grid .month")]
    assert "January 2020" in months and months == sorted(set(months), key=months.index)
    years = [o.get_attribute("value") for o in by_css(driver, "#jump-year option")][1:]
    assert "2020" in years
    cat = next(t for t in by_css(driver, "#grid .tile") if t.get_attribute("data-name") == "cat.jpg")
    assert "(file time)" in cat.get_attribute("innerHTML")
    from selenium.webdriver.support.ui import Select
    Select(by_css(driver, "#jump-year")[0]).select_by_value("2020")
    wait.until(lambda d: "before=2020-12-31" in d.current_url and tile_names(d)[0] == "dog.jpg")


def test_the_photo_view_never_blows_a_photo_up_past_twice_its_size(gallery):
    driver, wait = gallery
    by_css(driver, "#grid .tile")[0].click()
    wait.until(lambda d: by_css(d, "#viewer-image")[0].value_of_css_property("max-width") != "none")
    image = by_css(driver, "#viewer-image")[0]
    assert image.value_of_css_property("max-width") == "640px"  # 320 px wide
    assert image.rect["width"] <= 640


# ---- a changing store -------------------------------------------------------------------------------------------

def test_a_gone_photo_says_why_and_a_new_one_shows_without_a_reload(page, site):
    driver, wait, url = page
    settings = site[1]
    gone = draw_photo(settings.home.parent / "photos" / "gone.jpg", (10, 200, 10))
    add_photo(settings, gone, axis(0, 0, 0, 0.5))
    gone.unlink()  # moved away after indexing
    driver.get(url)
    wait.until(lambda d: by_css(d, "#grid .tile.missing"))
    missing = by_css(driver, "#grid .tile.missing")[0]
    assert missing.get_attribute("data-name") == "gone.jpg"
    assert "moved or deleted since indexing; run devsearch index" in missing.text
    driver.execute_script("window.__same_page = true")
    arrived = draw_photo(settings.home.parent / "photos" / "arrived.jpg", (200, 10, 10))
    add_photo(settings, arrived, axis(0, 0, 0, 0.6))  # a new generation: the page refreshes in place
    wait.until(lambda d: "arrived.jpg" in tile_names(d))
    assert driver.execute_script("return window.__same_page") is True
    assert "gone.jpg" not in tile_names(driver)  # the server noticed


def test_rescan_in_the_library_view_shows_its_progress_and_outcome(page, site):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    driver, wait, url = page
    settings = site[1]
    (settings.home.parent / "photos" / "beach.jpg").unlink()
    driver.get(url)
    wait.until(lambda d: "beach.jpg" in tile_names(d))
    by_css(driver, "#library-open")[0].click()
    wait.until(lambda d: "photos indexed" in by_css(d, "#library")[0].text)
    by_css(driver, "#rescan")[0].click()
    WebDriverWait(driver, 120).until(lambda d: "Rescanned:" in by_css(d, "#rescan-state")[0].text)
    assert " deleted, " in by_css(driver, "#rescan-state")[0].text and "0 failed" in by_css(driver, "#rescan-state")[0].text
    press(driver, Keys.ESCAPE)
    WebDriverWait(driver, 30).until(lambda d: "beach.jpg" not in tile_names(d))  # refreshed in place


# ---- accessibility -------------------------------------------------------------------------------------------------

def test_every_control_has_a_name_and_a_visible_focus(page):
    driver, wait, url = page
    driver.get(url + "?q=dog")
    wait.until(lambda d: tile_names(d))
    unnamed = driver.execute_script("""
        const named = (el) => el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
                              || el.textContent.trim() || el.title;
        return [...document.querySelectorAll('input:not([type=hidden]), select, button, a[href]')]
          .filter((el) => el.getClientRects().length && !named(el)).map((el) => el.outerHTML.slice(0, 80));""")
    assert unnamed == []
    press(driver, "/")
    from selenium.webdriver.common.keys import Keys
    press(driver, Keys.ARROW_DOWN)
    outline = driver.execute_script("""const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.boxShadow];""")
    assert outline[0] != "none" or outline[1] != "none"


@pytest.mark.parametrize("size, scheme", [(DESKTOP, "light"), (PHONE, "light"), (DESKTOP, "dark")])
def test_axe_finds_no_accessibility_violations(site, size, scheme):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm install --no-save axe-core@4 (as .ci/run does)")
    from selenium.webdriver.support.ui import WebDriverWait
    driver = chrome(size)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
    try:
        driver.get(site[0] + "?q=dog")
        WebDriverWait(driver, 20).until(lambda d: tile_names(d))
        driver.execute_script(AXE.read_text())
        driver.set_script_timeout(60)
        problems = {"results": axe(driver)}
        by_css(driver, "#grid .tile")[0].click()
        WebDriverWait(driver, 20).until(lambda d: by_css(d, "#viewer-name")[0].text)
        problems["photo view"] = axe(driver)
        press(driver, "/")
        by_css(driver, "#library-open")[0].click()
        WebDriverWait(driver, 20).until(lambda d: "photos indexed" in by_css(d, "#library")[0].text)
        problems["library"] = axe(driver)
    finally:
        driver.quit()
    assert problems == {"results": [], "photo view": [], "library": []}, json.dumps(problems, indent=1)


def axe(driver) -> list:
    """axe-core's WCAG 2 A/AA and best-practice violations on the page as it is now (once its
    animations, such as the photo view's fade-in, are over: contrast is measured on what stays)."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.getAnimations().length === 0"))
    found = driver.execute_async_script("""const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] }).then((r) => done(r.violations));""")
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found]
