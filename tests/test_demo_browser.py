"""The web simulator in a real headless browser: `python -m bot demo` runs as a user starts it, a citizen
files a report by typing and pressing buttons on the page, and the card appears in the lead agency's pane."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import t

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # pragma: no cover - the dev extra installs it
    webdriver = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(
    webdriver is None or not CHROMIUM or not CHROMEDRIVER,
    reason="needs Chromium and its driver (apt-get install chromium chromium-driver) and selenium",
)
T = 30
CITIZEN = "7001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--port", str(port), "--data", str(tmp_path / "demo")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "demo: open http://" in line:
            break
    else:
        process.kill()
    if not any("demo: open" in line for line in lines):
        process.kill()
        pytest.fail("the demo did not start:\n" + "".join(lines))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The citizen's pane, used as a person would: type, press the latest button with a label."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    def pane(self, chat: str) -> str:
        return f'.pane[data-chat="{chat}"]'

    def count(self) -> int:
        return len(self.driver.find_elements(By.CSS_SELECTOR, f"{self.pane(CITIZEN)} .msg"))

    def wait_growth(self, before: int, by: int) -> None:
        WebDriverWait(self.driver, T).until(lambda _: self.count() >= before + by)

    def say(self, text: str) -> None:
        before = self.count()
        field = self.driver.find_element(By.CSS_SELECTOR, f"{self.pane(CITIZEN)} form input[type=text]")
        field.send_keys(text)
        self.driver.find_element(By.CSS_SELECTOR, f"{self.pane(CITIZEN)} form button.send").click()
        self.wait_growth(before, 2)  # the citizen's message and the bot's answer

    def press(self, label: str) -> None:
        before = self.count()

        def click(_: WebDriver) -> bool:
            try:
                buttons = [b for b in self.driver.find_elements(By.CSS_SELECTOR, f"{self.pane(CITIZEN)} .ib")
                           if b.text == label]
                if not buttons:
                    return False
                buttons[-1].click()
                return True
            except StaleElementReferenceException:  # the pane re-rendered under the click
                return False

        WebDriverWait(self.driver, T).until(click)
        self.wait_growth(before, 1)

    def text_of(self, chat_selector: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, chat_selector).text


def test_a_report_filed_on_the_page_reaches_the_agency_pane(demo_url: str, browser: WebDriver) -> None:
    browser.get(demo_url)
    page = Page(browser)
    agency = '.pane[data-agency="noi-chinh"]'  # an official taking money: Ban Nội chính leads
    WebDriverWait(browser, T).until(lambda d: d.find_elements(By.CSS_SELECTOR, agency))
    WebDriverWait(browser, T).until(lambda _: "(noi-chinh)" in page.text_of(agency))  # bound at start

    page.say("/start")
    page.press(t("citizen.btn.new"))
    page.press(t("kind.denunciation"))
    page.press(t("citizen.btn.skip"))
    page.say("Hạ Long")
    page.press("Phường Hạ Long")
    page.say("Ông X, cán bộ phường")
    page.say("Cán bộ phường nhận tiền để làm nhanh hồ sơ đất đai cho một số người quen")
    page.say("tháng trước")
    page.press(t("citizen.btn.no_files"))
    page.press(t("citizen.btn.named"))
    page.say("Hoàng Văn Em")
    page.say("0977 000 111")
    page.say("Hồng Gai, Hạ Long")
    page.press(t("citizen.btn.send"))

    try:
        WebDriverWait(browser, T).until(lambda _: "Mã tra cứu" in page.text_of(page.pane(CITIZEN)))
    except TimeoutException:
        pytest.fail("no receipt on the page:\n" + page.text_of(page.pane(CITIZEN))[-1500:])
    code = re.search(r"Mã tra cứu: (\S+)", page.text_of(page.pane(CITIZEN)))
    assert code is not None

    def lead_card(_: WebDriver) -> str | bool:
        """The text of the agency pane where the card arrived with the lead's accept button."""
        try:
            for pane in browser.find_elements(By.CSS_SELECTOR, ".pane[data-agency]"):
                text = pane.text
                if f"Hồ sơ {code.group(1)}" in text and t("officer.button.acc") in text:
                    return text
        except StaleElementReferenceException:
            pass
        return False

    card = WebDriverWait(browser, T).until(lead_card)
    assert isinstance(card, str)
    assert "Hoàng Văn Em" not in card and "0977" not in card  # the reporter's identity is not on it


def test_the_fault_switch_holds_the_bots_answer_back_until_telegram_is_back(demo_url: str,
                                                                            browser: WebDriver) -> None:
    """Switched to 502 on the page, Telegram refuses what the bot sends: the answer waits in the outbox,
    and arrives by itself once the switch is back to normal."""
    browser.get(demo_url)
    page = Page(browser)
    WebDriverWait(browser, T).until(lambda d: d.find_elements(By.CSS_SELECTOR, page.pane(CITIZEN)))
    page.say("/start")
    Select(browser.find_element(By.ID, "fault")).select_by_value("502")
    WebDriverWait(browser, T).until(lambda d: "faulty" in (d.find_element(By.TAG_NAME, "body")
                                                           .get_attribute("class") or ""))
    before = page.count()
    browser.find_element(By.CSS_SELECTOR, f"{page.pane(CITIZEN)} form input[type=text]").send_keys("/new")
    browser.find_element(By.CSS_SELECTOR, f"{page.pane(CITIZEN)} form button.send").click()
    page.wait_growth(before, 1)  # the citizen's own message is there
    time.sleep(4)
    question = t("citizen.ask.kind")[:20]
    def after_new() -> str:
        return page.text_of(page.pane(CITIZEN)).split("/new")[-1]

    assert question not in after_new(), "held back during the outage"
    Select(browser.find_element(By.ID, "fault")).select_by_value("off")
    WebDriverWait(browser, 3 * T).until(lambda _: question in after_new())
