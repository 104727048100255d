"""The drawing page in a real browser: headless Chromium draws digits on it.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them)
and Selenium; nothing is downloaded at test time. Where the browser is missing
the test fails under CI (``DIGITNET_REQUIRE_BROWSER=1``) and is skipped
elsewhere, with the reason. A screenshot of each drawing goes to the report
folder (``DIGITNET_TEST_REPORTS``, default ``test-reports/``).
"""

import itertools
import math
import os
import shutil
from pathlib import Path

import pytest

from digitnet.serve import create_app
from digitnet.serve._server import server_config

from ._server import serving

REPORTS = Path(
    os.environ.get("DIGITNET_TEST_REPORTS", Path(__file__).parents[1] / "test-reports")
)


def _browser_paths():
    browser = next(
        filter(
            None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])
        ),
        None,
    )
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        message = (
            "headless Chromium not found (install Debian's chromium and "
            "chromium-driver: apt-get install chromium chromium-driver)"
        )
        if os.environ.get("DIGITNET_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return browser, driver


@pytest.fixture(scope="module")
def live_url(mnist_fast_model):
    """The app serving the MNIST model on a free loopback port, in a thread,
    with the server settings ``digitnet serve`` uses."""
    config = server_config(
        create_app(mnist_fast_model), host="127.0.0.1", port=0, log_level="warning"
    )
    with serving(config) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=900,600",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path=driver_path), options=options
    )
    yield driver
    driver.quit()


def _seven():
    """Strokes of a 7, in pixels from the canvas centre: a bar, then a slant."""
    return [[(-75, -85), (75, -85)], [(75, -85), (-15, 100)]]


def _zero():
    return [
        [
            (55 * math.sin(t / 24 * 2 * math.pi), -85 * math.cos(t / 24 * 2 * math.pi))
            for t in range(25)
        ]
    ]


def _draw(driver, canvas, strokes):
    from selenium.webdriver.common.action_chains import ActionChains

    for stroke in strokes:
        points = []
        for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
            steps = max(1, int(math.hypot(x1 - x0, y1 - y0) // 8))
            points += [
                (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
                for i in range(steps)
            ]
        points.append(stroke[-1])
        actions = ActionChains(driver, duration=10)
        actions.move_to_element_with_offset(canvas, *map(round, points[0]))
        actions.click_and_hold()
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            actions.move_by_offset(round(xb) - round(xa), round(yb) - round(ya))
        actions.release()
        actions.perform()


def _answer(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    label = driver.find_element(By.ID, "label")
    WebDriverWait(driver, 20).until(
        lambda d: (
            label.get_attribute("data-busy") == "false"
            and label.get_attribute("data-state") == "predicted"
        )
    )
    return label.text, driver.find_element(By.ID, "status").text


@pytest.mark.parametrize(("digit", "strokes"), [("7", _seven()), ("0", _zero())])
def test_a_digit_drawn_on_the_page_is_read(browser, live_url, digit, strokes):
    from selenium.webdriver.common.by import By

    browser.get(live_url)
    canvas = browser.find_element(By.ID, "canvas")
    browser.find_element(By.ID, "clear").click()
    _draw(browser, canvas, strokes)
    label, status = _answer(browser)
    REPORTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(REPORTS / f"serve-page-{digit}.png"))
    assert label == digit, f"the page read {label!r} ({status}) for a drawn {digit}"
    bars = browser.find_elements(By.CSS_SELECTOR, "#top3 .bar")
    assert len(bars) == 3
    assert bars[0].text.startswith(digit)


def test_clear_empties_the_answer(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url)
    _draw(browser, browser.find_element(By.ID, "canvas"), _seven())
    _answer(browser)
    browser.find_element(By.ID, "clear").click()
    assert browser.find_element(By.ID, "label").text == ""
    assert browser.find_elements(By.CSS_SELECTOR, "#top3 .bar") == []
    assert "Draw" in browser.find_element(By.ID, "status").text


def _shifted(strokes, dx):
    return [[(x + dx, y) for x, y in stroke] for stroke in strokes]


def test_a_number_drawn_in_number_mode_is_read(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url)
    browser.find_element(By.ID, "mode-number").click()
    canvas = browser.find_element(By.ID, "canvas")
    assert canvas.size == {"width": 720, "height": 240}
    _draw(browser, canvas, _shifted(_seven(), -150) + _shifted(_zero(), 100))
    label, status = _answer(browser)
    REPORTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(REPORTS / "serve-page-number-70.png"))
    assert label == "70", f"the page read {label!r} ({status}) for a drawn 70"
    assert status.startswith("2 digits")
    chips = browser.find_elements(By.CSS_SELECTOR, "#top3 .digit")
    assert [c.text.split()[0] for c in chips] == ["7", "0"]
    browser.find_element(By.ID, "mode-digit").click()  # back: a square canvas
    assert browser.find_element(By.ID, "canvas").size == {"width": 280, "height": 280}
    assert browser.find_element(By.ID, "label").text == ""
