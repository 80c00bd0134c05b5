"""The chat page in a real browser: `streamlit run app.py` driven by headless Chromium.

Set ``ASSISTANT_SCREENSHOT=docs/screenshot.png`` to refresh the README's screenshot; otherwise
the screenshot goes to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import news_corpus
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from assistant import Assistant

if TYPE_CHECKING:
    from conftest import Loopback, StartScriptedLLM

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "articles" / "ukraine-russia-istanbul-talks.txt"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROMPT = "Ask about the articles…"
REPLY = ".answer, .abstained, [data-testid='stAlert']"
HOSTILE = (
    'Bunker report <img src=x onerror="window.__pwned=1;alert(1)">\n'
    "Inspectors found a note reading <script>window.__pwned=2;alert(2)</script> "
    "inside the old bunker.\n"
    'The bunker near the river <img src=y onerror="window.__pwned=3"> was sealed in 1961.\n'
)

pytestmark = pytest.mark.slow


@contextmanager
def serve(work: Path, loopback: Loopback, **env: str) -> Iterator[str]:
    """``streamlit run app.py`` on a free loopback port over ``work/index``, with ``env``."""
    port = loopback.free_port()
    environment = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(work / "index"),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        **env,
    }
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--server.fileWatcherType", "none"]
    log = work / "streamlit.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        loopback.wait(f"{url}/_stcore/health", process, 120, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, loopback: Loopback) -> Iterator[str]:
    """The page served on a free loopback port, over an index in a temporary folder."""
    work = tmp_path_factory.mktemp("browser")
    Assistant(index_dir=work / "index").ingest([ARTICLE])
    with serve(work, loopback) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed - run `make browser`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh browser session on the page, with the chat box ready."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    opened.goto(server)
    opened.get_by_placeholder(PROMPT).wait_for()
    yield opened
    context.close()


def ask(page: Page, question: str) -> Locator:
    """Type ``question`` and press Enter; returns the reply's message once it is drawn."""
    messages = page.get_by_test_id("stChatMessage")
    before = messages.count()
    box = page.get_by_placeholder(PROMPT)
    box.fill(question)
    box.press("Enter")
    reply = messages.nth(before + 1)
    reply.locator(REPLY).first.wait_for()
    return reply


def test_answer_shows_the_cited_sentence_highlighted(page: Page, tmp_path: Path) -> None:
    reply = ask(page, "What did Russia propose on ceasefire length?")

    quote = reply.locator("mark").first
    expect(quote).to_be_visible()
    expect(quote).to_contain_text("limited ceasefire lasting two to three days")
    expect(reply.locator(".answer")).to_contain_text("[1]")
    expect(reply).to_contain_text("Ukrainian and Russian Delegations Meet in Istanbul")
    background = quote.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")

    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("ASSISTANT_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / target)

    page.reload()  # the conversation and its highlighted source come back
    expect(page.locator("mark").first).to_contain_text("two to three days")


def test_follow_up_is_answered_about_the_earlier_subject(page: Page) -> None:
    first = ask(page, "Who leads the Russian negotiating team?")
    expect(first.locator("mark").first).to_contain_text("Vladimir Medinsky")

    follow_up = ask(page, "What does he demand?")

    expect(follow_up.locator("mark").first).to_contain_text("cessation of Western support")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    expect(first.locator("mark").first).to_be_visible()  # earlier sources stay in place


def test_markup_in_an_uploaded_article_is_shown_and_never_run(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sidebar = page.get_by_test_id("stSidebar")

    sidebar.locator("input[type=file]").set_input_files(
        {"name": "bunker.txt", "mimeType": "text/plain", "buffer": HOSTILE.encode()}
    )
    expect(sidebar.get_by_role("button", name="Remove bunker.txt")).to_be_visible()
    sidebar.get_by_role("button", name="Add to library").click()
    expect(sidebar.locator(".results")).to_contain_text("added bunker.txt")
    reply = ask(page, "What did the inspectors find inside the old bunker?")

    expect(reply.locator("mark").first).to_contain_text(
        "<script>window.__pwned=2;alert(2)</script>"
    )
    listed = sidebar.locator(".article").filter(has_text="Bunker report")
    expect(listed).to_contain_text('<img src=x onerror="window.__pwned=1;alert(1)">')
    page.wait_for_timeout(500)  # give anything that did get in a moment to fire
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("img[src=x], img[src=y], [onerror]").count() == 0
    assert not page.evaluate("[...document.scripts].some(s => s.textContent.includes('__pwned'))")


def test_a_model_answer_streams_into_the_message_then_the_verified_one_replaces_it(
    browser: Browser, loopback: Loopback, scripted_llm: StartScriptedLLM, tmp_path: Path
) -> None:
    true = "The Kremlin has proposed a limited ceasefire lasting two to three days [1]."
    made_up = "It would be watched by 4,000 observers [1]."
    model = scripted_llm([{"text": f"{true} {made_up}", "chunk_delay": 0.3}])
    Assistant(index_dir=tmp_path / "index").ingest([ARTICLE])
    with serve(tmp_path, loopback, ASSISTANT_LLM_BASE_URL=model.url) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_placeholder(PROMPT).wait_for()
        page.evaluate("window.__same_page = true")
        box = page.get_by_placeholder(PROMPT)
        box.fill("What did Russia propose on ceasefire length?")
        box.press("Enter")
        reply = page.get_by_test_id("stChatMessage").nth(1)
        reply.get_by_text("▌", exact=False).first.wait_for()  # the draft's first words
        # the request was logged as the model started answering (no first-token delay)
        lag = time.time() - model.log.stat().st_mtime
        expect(reply.get_by_text("The Kremlin has proposed", exact=False).first).to_be_visible()
        print(f"first words on the page {lag:.2f} s after the model's first token")
        assert lag <= 1.0
        # the draft shows while the model is still writing: the final answer is not there yet
        assert reply.locator(".answer").count() == 0
        expect(reply.locator(".answer")).to_contain_text("two to three days", timeout=60_000)
        expect(reply.locator(".answer")).to_contain_text("[1]")
        expect(reply.locator(".answer")).not_to_contain_text("4,000")
        expect(reply).to_contain_text("written by the language model")
        expect(reply.get_by_text("Removed: not supported by the sources")).to_be_visible()
        expect(reply.locator("mark").first).to_contain_text("two to three days")
        assert "▌" not in reply.inner_text()
        assert page.evaluate("window.__same_page") is True  # no reload
        context.close()


def test_the_timeline_and_the_as_of_day_in_a_real_browser(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, loopback: Loopback
) -> None:
    work = tmp_path_factory.mktemp("dated-browser")
    corpus = news_corpus.write(news_corpus.EVOLVING, work, "fire")
    Assistant(index_dir=work / "index").ingest([corpus])
    with serve(work, loopback) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_placeholder(PROMPT).wait_for()

        page.get_by_role("button", name="Timeline").click()
        page.get_by_label("Timeline of").fill("Larch Creek fire")
        page.get_by_role("button", name="Show timeline").click()
        days = page.locator(".timeline .when")
        expect(days.first).to_be_visible()
        shown = days.all_inner_texts()
        assert len(shown) >= 3 and shown == sorted(shown)
        page.keyboard.press("Escape")

        for part, typed in (("year", "2024"), ("month", "07"), ("day", "01")):
            page.get_by_role("spinbutton", name=f"{part}, As of").click()
            page.keyboard.type(typed)
        page.keyboard.press("Tab")
        expect(page.get_by_role("spinbutton", name="day, As of")).to_have_text("01")
        reply = ask(page, "How many acres has the Larch Creek fire burned?")
        expect(reply.locator("mark").first).to_contain_text("1,200 acres")
        context.close()


TOWNS = ("Ashford", "Brenmoor", "Calder", "Dunmere", "Elston", "Fairholm", "Glenrock", "Hartley")
TOPICS = ("road repairs", "the library roof", "school buses", "park lighting", "water mains")


def generated_library(count: int) -> list[dict[str, str]]:
    """``count`` short dated council reports, each with its own figures, and one about a ferry."""
    records = []
    for n in range(count):
        town, topic = TOWNS[n % len(TOWNS)], TOPICS[n % len(TOPICS)]
        day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        text = (
            f"The {town} council met on {day} to discuss {topic}, item {n} of its agenda. "
            f"Members voted {n % 9 + 3} to {n % 3} to spend {n * 7 + 11} thousand pounds on it. "
            f"The next {town} meeting is set for week {n % 50 + 1}."
        )
        records.append({"title": f"{town} council report {n}", "text": text, "published": day})
    records.append(
        {
            "title": "Larkspur ferry to resume",
            "text": "The Larkspur ferry will resume service on 14 March after repairs to its "
            "hull. The operator said the crossing would run every forty minutes.",
            "published": "2024-12-30",
        }
    )
    return records


def test_a_library_of_hundreds_pages_its_list_and_answers_as_quickly_as_a_small_one(
    browser: Browser, tmp_path: Path, loopback: Loopback
) -> None:
    records = generated_library(300)
    corpus = tmp_path / "reports.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    calder = [r for r in records if "Calder" in r["title"] and r["published"][:7] == "2024-03"]
    Assistant(index_dir=tmp_path / "index").ingest([corpus])
    with serve(tmp_path, loopback) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        received: list[bytes] = []  # what the server sends the page, from asking on
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived",
                lambda frame: received.append(
                    frame if isinstance(frame, bytes) else frame.encode()
                ),
            ),
        )
        page.goto(url)
        page.get_by_placeholder(PROMPT).wait_for()
        sidebar = page.get_by_test_id("stSidebar")
        cards = sidebar.locator(".library .article")

        expect(sidebar).to_contain_text("301 articles")
        expect(sidebar).to_contain_text("Showing 1–20 of 301, newest first")
        expect(cards).to_have_count(20)  # one page, however big the library
        expect(cards.first).to_contain_text("Larkspur ferry to resume")  # the newest
        sidebar.get_by_role("button", name="Older").click()
        expect(sidebar).to_contain_text("Showing 21–40 of 301")
        expect(cards).to_have_count(20)
        sidebar.get_by_label("Search the library").fill("Calder 2024-03")
        sidebar.get_by_label("Search the library").press("Enter")
        expect(cards).to_have_count(len(calder))  # title, day or source: every word matches
        assert all("Calder" in text for text in cards.all_inner_texts())

        messages = page.get_by_test_id("stChatMessage")
        box = page.get_by_placeholder(PROMPT)
        box.fill("When will the Larkspur ferry resume service?")
        received.clear()
        started = time.perf_counter()
        box.press("Enter")
        reply = messages.nth(1)
        reply.locator(REPLY).first.wait_for()
        reply.get_by_test_id("stCaptionContainer").last.wait_for()
        drawn = time.perf_counter() - started
        own = float(reply.get_by_test_id("stCaptionContainer").last.inner_text().split()[2])
        expect(reply.locator("mark").first).to_contain_text("resume service on 14 March")
        print(f"answer drawn {drawn:.2f} s after Enter; the page's own time {own:.2f} s")
        assert drawn - own < 3.0  # drawing the reply does not grow with the library
        sent = b"".join(received)
        assert b"resume service on 14 March" in sent
        assert b"Calder council report" not in sent and b"301 articles" not in sent  # no library

        sidebar.get_by_label("Search the library").fill("Larkspur")
        sidebar.get_by_label("Search the library").press("Enter")
        expect(cards).to_have_count(1)
        expect(sidebar.get_by_test_id("stSelectbox")).to_have_count(1)  # the old page's gone
        sidebar.get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name="Larkspur ferry to resume").click()
        sidebar.get_by_role("button", name="Remove…").click()
        page.get_by_role("button", name="Remove from library").click()
        expect(sidebar).to_contain_text("300 articles")
        expect(sidebar).to_contain_text("No article matches.")
        expect(reply.locator("mark").first).to_contain_text("resume service on 14 March")
        context.close()
