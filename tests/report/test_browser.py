"""The reports in a real headless Chromium: no console error, every image rendered, legend shown,
no injected script run; full-page screenshots are saved to ``test-artifacts/`` for a person to look at.

Needs Debian's ``chromium`` and ``chromium-driver`` (and ``selenium``); skipped where they are absent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pscgan.report import write_cohort_report, write_subject_report

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
INJECTED = "<script>alert(1)</script>"


def _chromedriver() -> str | None:
    return shutil.which("chromedriver") or next(
        (
            str(p)
            for p in (Path("/usr/bin/chromedriver"), Path("/usr/lib/chromium/chromedriver"))
            if p.is_file()
        ),
        None,
    )


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (install Debian's chromium)")
    chromedriver = _chromedriver()
    if chromedriver is None:
        pytest.skip("chromedriver not found (install Debian's chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1480,1000",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.webdriver.chrome.service import Service

    drv = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    yield drv
    drv.quit()


def _open(driver, path: Path) -> None:
    driver.get_log("browser")  # drop messages of earlier pages
    driver.get(path.resolve().as_uri())  # returns once the page has loaded


def _check_page(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - an injected alert() would be open now
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
    )
    assert images, "the page has no image"
    assert all(complete and width > 0 for _, complete, width in images), images


def _screenshot(driver, name: str) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1480, min(int(height) + 40, 12000))
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    assert driver.save_screenshot(str(out))
    driver.set_window_size(1480, 1000)
    return out


def test_subject_report_in_chromium(driver, tmp_path, synth):
    data = synth.make_subject(
        INJECTED, details={"scanner": "phantom", "field strength": "1.5 T", INJECTED: INJECTED}
    )
    path = write_subject_report(data, tmp_path / "subject.html")
    _open(driver, path)
    _check_page(driver)
    legend = driver.find_element("id", "legend")
    assert legend.is_displayed() and "scar" in legend.text and "healthy myocardium" in legend.text
    # the injected text is shown as text, and the only script element is the page's own player
    assert INJECTED in driver.find_element("tag name", "h1").text
    assert driver.execute_script("return document.scripts.length") == 1
    players = driver.find_elements("css selector", ".cine")
    assert len(players) == 3
    # the player runs: the strip moves, and the button pauses it
    button = players[0].find_element("css selector", ".cine-play")
    assert button.text == "Pause"
    driver.execute_script("arguments[0].click()", button)
    assert button.text == "Play"
    driver.execute_script(
        "var s = arguments[0]; s.value = 12; s.dispatchEvent(new Event('input'));",
        players[0].find_element("css selector", ".cine-frame"),
    )
    assert players[0].find_element("css selector", ".cine-label").text == "frame 13 / 25"
    _check_page(driver)
    assert _screenshot(driver, "report-subject.png").stat().st_size > 0


def test_cohort_report_in_chromium(driver, tmp_path, synth):
    subjects = synth.make_cohort()
    links = {s.subject_id: f"subjects/{s.subject_id}.html" for s in subjects}
    path = write_cohort_report(subjects, tmp_path / "cohort.html", subject_links=links)
    _open(driver, path)
    _check_page(driver)
    assert driver.execute_script("return document.scripts.length") == 0
    rows = driver.find_elements("css selector", "table.subjects tbody tr")
    assert len(rows) == len(subjects)
    href = rows[0].find_element("tag name", "a").get_attribute("href")
    assert href == (tmp_path / "subjects" / "C04.html").resolve().as_uri()
    assert _screenshot(driver, "report-cohort.png").stat().st_size > 0
