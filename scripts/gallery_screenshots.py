"""The gallery's screenshots in docs/, taken with headless Chromium from a real `devsearch serve`.

    python scripts/gallery_screenshots.py --home STORE [--out docs]

STORE is an indexed store (docs/web.md says which photos made the committed ones). It writes
gallery.png (a search, 1400x900), gallery-library.png (the library's timeline, 1400x900),
gallery-phone.png (a search on a 390x844 phone, filters folded) and gallery-dark.png (the photo view
in the dark scheme, 1400x900). Needs Debian's chromium and chromium-driver, and selenium.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

LOADED = ("return document.querySelectorAll('#grid .tile').length > 0 && [...document.querySelectorAll('#grid .tile img')]"
          ".filter((i) => i.getBoundingClientRect().top < innerHeight).every((i) => i.classList.contains('loaded'))")


def serve(home: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "devsearch", "serve", "--home", str(home), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().split()[2]


def browser(width: int, height: int, *, dark: bool = False, phone: bool = False) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--lang=en-US",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
    return driver


def shoot(url: str, out: Path, *, size=(1400, 900), dark=False, phone=False, then: str = "") -> None:
    driver = browser(*size, dark=dark, phone=phone)
    try:
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(LOADED))
        if then:
            driver.execute_script(then)
            time.sleep(1.5)
        time.sleep(0.8)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()
    print(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    args = parser.parse_args()
    process, url = serve(args.home)
    try:
        shoot(f"{url}?q=bird", args.out / "gallery.png",
              then="document.querySelector('#grid .tile').focus()")  # the score and reasons on the first
        shoot(url, args.out / "gallery-library.png")
        shoot(f"{url}?q=fruit", args.out / "gallery-phone.png", size=(390, 844), phone=True)
        shoot(f"{url}?q=cat", args.out / "gallery-dark.png", dark=True,
              then="document.querySelector('#grid .tile').click()")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
