"""Open a report in headless Chromium (Selenium + the Debian ``chromium`` and ``chromium-driver``
packages) and read back what the browser made of it: every audio element's state and duration,
every image's decoded size, the tables' text, and the console's messages."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..errors import ConfigError

#: how long to wait for every audio element's metadata, in seconds
LOAD_TIMEOUT_S = 60.0

_READ = """
return {
  audio: Array.from(document.querySelectorAll('audio')).map(a => ({src: a.getAttribute('src'),
      ready: a.readyState, duration: a.duration, expected: parseFloat(a.dataset.seconds),
      error: a.error ? a.error.code : null})),
  images: Array.from(document.querySelectorAll('img')).map(i => ({src: i.getAttribute('src'),
      complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
  summary: Array.from(document.querySelectorAll('table.summary tbody tr')).map(
      r => Array.from(r.cells).map(c => c.textContent)),
  items: Array.from(document.querySelectorAll('table.items tbody tr')).map(
      r => Array.from(r.cells).map(c => c.textContent)),
  scripted: Array.from(document.querySelectorAll('script')).length,
};
"""


def find_browser() -> tuple[str, str] | None:
    """``(chromium, chromedriver)`` executables, or ``None`` where they are not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def check_page(index: str | Path, screenshot: str | Path | None = None, width: int = 1400, height: int = 900) -> dict:
    """Load ``index`` (a report's ``index.html``) in headless Chromium, wait until every audio
    element has its metadata (or failed), and return ``{"audio", "images", "summary", "items",
    "console"}`` (``console``: the browser log's entries). ``screenshot``: also save a PNG of the
    page's first screen. :class:`ConfigError` if Chromium or Selenium is missing."""
    found = find_browser()
    if found is None:
        raise ConfigError("no headless browser: install Debian's chromium and chromium-driver "
                          "(apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        raise ConfigError("checking a report in a browser needs selenium: pip install -e '.[test]'") from e
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                f"--window-size={width},{height}", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        driver.get(Path(index).resolve().as_uri())
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while True:
            state = driver.execute_script(_READ)
            waiting = [a for a in state["audio"] if a["ready"] < 1 and a["error"] is None]
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        state["console"] = driver.get_log("browser")
        return state
    finally:
        driver.quit()
