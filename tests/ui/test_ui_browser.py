"""End to end in a real browser: Playwright drives Debian's Chromium against the app served on
127.0.0.1 (a tiny engine, a fresh database, two clinicians). Saves a screenshot of each tab as a
test artifact under test-artifacts/screenshots/; the README's copies in assets/screenshots/ are
refreshed with `PEDGPT_SCREENSHOT_DIR=assets/screenshots pytest tests/ui/test_ui_browser.py`.

Run: `pytest tests/ui/test_ui_browser.py -q` (about a minute; skipped without /usr/bin/chromium).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ui_test_support import link_index

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / os.environ.get("PEDGPT_SCREENSHOT_DIR", "test-artifacts/screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_SCRIPT = Path(__file__).with_name("ui_browser_server.py")
ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-22")
QUESTION = "宝宝1岁半，发烧两天，38.5度，精神还可以，需要注意什么？"
STARTUP_TIMEOUT_S = 120
#: Answer lengths (tokens) set in the page: short answers keep the test fast; the long one
#: streams for far longer than the test needs to press Stop.
SHORT_ANSWER, LONG_ANSWER = 24, 2000
#: Per-step wait in the page (generous: the CI machine is shared by parallel jobs).
STEP_MS = 30_000

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app did not start in {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(ui_model_dir, ui_index, tmp_path_factory):
    """The app in its own process; yields (base URL, database file)."""
    home = tmp_path_factory.mktemp("browser-home")
    link_index(ui_index, home)
    db_file = home / "app.db"
    port = _free_port()
    env = dict(os.environ, PEDGPT_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    log = home / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, str(SERVER_SCRIPT), str(ui_model_dir),
                                    f"sqlite:///{db_file}", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_serving(base, process, log)
        yield base, db_file
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def login(browser, base: str, user: tuple[str, str], locale: str = "zh-CN"):
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1500})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    page.goto(base)
    page.locator("input[type=password]").wait_for()
    page.locator("input").first.fill(user[0])
    page.locator("input[type=password]").fill(user[1])
    page.locator("input[type=password]").press("Enter")
    page.locator("#consult-input textarea").wait_for()
    page.locator("#pedgpt-user").get_by_text(user[0]).wait_for()
    return page


def wait_answer_done(page, chat: str, count: int) -> str:
    """Wait until the chat shows `count` finished answers; the last one's text."""
    bots = page.locator(f"#{chat} [data-testid=bot]")
    page.wait_for_function(
        """([sel, n]) => { const b = document.querySelectorAll(sel);
             return b.length >= n && !b[b.length - 1].innerText.includes('▌'); }""",
        arg=[f"#{chat} [data-testid=bot]", count], timeout=STEP_MS)
    return bots.nth(count - 1).inner_text()


def wait_table_rows(page, elem_id: str) -> None:
    """Wait until a Dataframe holds at least one data row (its grid counts the header too)."""
    page.wait_for_function(
        "(id) => { const g = document.querySelector('#' + id + ' [role=grid]');"
        " return g && Number(g.getAttribute('aria-rowcount')) > 1; }", arg=elem_id,
        timeout=STEP_MS)


def fill(page, elem_id: str, text: str) -> None:
    """Type into a Gradio text box (a textarea, or an input when single-line)."""
    page.locator(f"#{elem_id}").locator("textarea, input").first.fill(text)


def set_answer_length(page, tokens: int) -> None:
    """The generation settings' answer-length slider (its number box)."""
    box = page.locator("#gen-max-tokens input[type=number]")
    if not box.is_visible():
        page.locator("#gen-settings").get_by_text("生成设置").click()
    box.fill(str(tokens))
    box.press("Enter")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
    assert (SCREENSHOTS / name).stat().st_size > 10_000, f"{name}: empty screenshot"


def test_clinician_flow(server, browser):
    base, db_file = server
    page = login(browser, base, ALICE)

    # Start a consultation, send a message, get the answer.
    set_answer_length(page, SHORT_ANSWER)
    page.click("#conv-new")
    fill(page, "consult-input", QUESTION)
    page.click("#consult-send")
    page.locator("#consult-chat [data-testid=user]").get_by_text("发烧两天").wait_for()
    assert wait_answer_done(page, "consult-chat", 1).strip()

    # A long answer: watch it stream (cursor and growing text), stop it, keep the partial.
    set_answer_length(page, LONG_ANSWER)
    fill(page, "consult-input", "还需要吃药吗？")
    page.click("#consult-send")
    page.wait_for_function(
        "() => { const b = document.querySelectorAll('#consult-chat [data-testid=bot]');"
        " return b.length >= 2 && b[1].innerText.includes('▌')"
        " && b[1].innerText.replace('▌', '').trim().length > 0; }", timeout=STEP_MS)
    page.locator("#consult-stop").dispatch_event("click")  # no scrolling: the chat reflows
    assert "回答未完成" in wait_answer_done(page, "consult-chat", 2)
    set_answer_length(page, SHORT_ANSWER)
    shot(page, "consultation.png")

    # Rate the first answer: thumbs down with a reason.
    page.locator("#consult-chat button[aria-label='踩']").first.click()
    page.locator("#fb-reason").wait_for(state="visible")
    page.locator("#fb-reason").get_by_text("剂量错误").click()
    fill(page, "fb-corrected", "应按体重计算剂量")
    page.click("#fb-submit")
    page.locator("#fb-reason").wait_for(state="hidden")

    # Reload: the consultation is still there and opens with its messages.
    page.reload()
    page.locator("#consult-input textarea").wait_for()
    entry = page.locator("#conv-list label").filter(has_text="宝宝1岁半")
    entry.wait_for()
    entry.click()
    page.locator("#consult-chat [data-testid=user]").filter(has_text="还需要吃药吗").wait_for()
    assert page.locator("#consult-chat [data-testid=bot]").count() == 2

    # Diagnosis tab: structured case → differential table and streamed assessment with triage.
    page.get_by_role("tab", name="诊断").click()
    fill(page, "dx-years", "1")
    fill(page, "dx-weight", "11")
    fill(page, "dx-temp", "39.2")
    fill(page, "dx-chief", "发热伴咳嗽")
    fill(page, "dx-symptoms", "发热，咳嗽，气促")
    page.click("#dx-submit")
    wait_table_rows(page, "dx-differential")
    wait_answer_done(page, "diagnose-chat", 1)
    page.locator("#dx-triage .pedgpt-triage").wait_for()
    shot(page, "diagnosis.png")

    # Medication tab: deterministic dose table first, then the explanation.
    page.get_by_role("tab", name="用药建议").click()
    fill(page, "med-drug", "对乙酰氨基酚")
    fill(page, "med-indication", "发热")
    fill(page, "med-years", "2")
    fill(page, "med-weight", "12")
    page.click("#med-submit")
    page.locator("#med-result .pedgpt-dose-ok, #med-result .pedgpt-triage").first.wait_for()
    wait_table_rows(page, "med-table")
    assert "mg" in page.locator("#med-table").inner_text()
    wait_answer_done(page, "medicate-chat", 1)
    shot(page, "medication.png")

    # Export the consultation as PDF (CJK font embedded by the storage layer).
    page.click("#export-pdf")
    link = page.locator("#export-file a").first
    link.wait_for()
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.body()[:5] == b"%PDF-"

    # Language switch in the header.
    page.locator("#pedgpt-lang").get_by_text("English").click()
    page.get_by_role("tab", name="Consultation").wait_for()
    page.context.close()

    with sqlite3.connect(db_file) as db:
        rows = db.execute("SELECT rating, reason, corrected_answer FROM feedback").fetchall()
    assert rows == [("down", "剂量错误", "应按体重计算剂量")]


def test_second_user_sees_none_of_the_first_users_data(server, browser):
    base, db_file = server
    with sqlite3.connect(db_file) as db:
        alice_titles = [t for (t,) in db.execute(
            "SELECT title FROM consultations JOIN users ON users.id = consultations.user_id "
            "WHERE users.username = 'alice'")]
    assert alice_titles, "the clinician flow above leaves consultations for alice"
    page = login(browser, base, BOB, locale="en-US")
    page.get_by_role("tab", name="Consultation").wait_for()  # default language from the browser
    assert page.locator("#conv-list label").count() == 0
    fill(page, "conv-search", "宝宝")
    page.wait_for_timeout(1000)
    assert page.locator("#conv-list label").count() == 0
    body = page.locator("body").inner_text()
    assert all(title not in body for title in alice_titles if title)
    shot(page, "login-second-user.png")
    page.context.close()


def test_contraindication_stated_to_the_model_is_shown_above_the_answer(server, browser):
    base, _ = server
    page = login(browser, base, ALICE)
    set_answer_length(page, SHORT_ANSWER)
    page.click("#conv-new")
    fill(page, "consult-input", "孩子10个月，发烧38.6度，可以吃阿司匹林退烧吗？")
    page.click("#consult-send")
    wait_answer_done(page, "consult-chat", 1)
    box = page.locator("#consult-chat .pedgpt-blocked")
    box.wait_for()
    text = box.inner_text()
    assert "已告知模型的用药禁忌" in text and "阿司匹林" in text
    assert box.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(220, 38, 38)"
    page.context.close()
