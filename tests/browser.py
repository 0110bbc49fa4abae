"""Headless Chromium for the browser tests, through Debian's chromedriver (never a downloaded driver)."""
from __future__ import annotations

import shutil

import pytest


def chrome(size: tuple[int, int]):
    """A headless Chromium window of `size` (width, height) in US English; skips the test without Debian's
    chromium and chromium-driver."""
    driver_path, browser = shutil.which("chromedriver"), shutil.which("chromium")
    if driver_path is None or browser is None:
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={size[0]},{size[1]}", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(*size)
    return driver
