"""How fast the chat page answers, measured in a real browser.

Builds an index of the bundled article in a temporary folder, starts ``streamlit run app.py``
on a free loopback port and drives headless Chromium:

- time to first answer: from starting the server to the first answer drawn in the page
  (server start, model and index load, page load, one question);
- warm answer time: from pressing Enter to the answer drawn, for questions asked after that.

Usage: ``.venv/bin/python benchmarks/app_latency.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from assistant import Assistant

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "articles" / "ukraine-russia-istanbul-talks.txt"
QUESTIONS = (
    "What did Russia propose on ceasefire length?",
    "How many soldiers' remains will be exchanged?",
    "Who leads the Russian delegation?",
    "Who won the football match?",
)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARGS += ["--disable-component-update", "--disable-sync"]
PROMPT = "Ask about the articles…"
REPLY = ".answer, .abstained, [data-testid='stAlert']"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(
    index_dir: Path, port: int, log: Path, app: Path = ROOT / "app.py", **more: str
) -> subprocess.Popen[bytes]:
    """``streamlit run app`` over ``index_dir`` on ``port``, with ``more`` environment."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1", **more}
    env["ANONYMIZED_TELEMETRY"] = "False"
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--server.fileWatcherType", "none"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


def wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("streamlit did not come up")


def ask(page: Page, question: str) -> tuple[float, float]:
    """Seconds from pressing Enter to the reply drawn, and the page's own "Answered in" time
    (asking and preparing the sources, on the server).

    The reply is watched for every 10 ms in the page: a locator's ``wait_for`` backs off to
    polling every 100-500 ms, which would add up to half a second to what is measured.
    """
    messages = page.get_by_test_id("stChatMessage")
    before = messages.count()
    box = page.get_by_placeholder(PROMPT)
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        """([before, reply]) => {
            const messages = document.querySelectorAll("[data-testid=stChatMessage]");
            return messages.length > before + 1 && messages[before + 1].querySelector(reply);
        }""",
        arg=[before, REPLY],
        polling=10,
        timeout=120_000,
    )
    seen = time.perf_counter() - started
    caption = messages.last.get_by_test_id("stCaptionContainer").last.inner_text()
    return seen, float(caption.split()[-2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times to ask each question warm")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as work:
        index_dir = Path(work) / "index"
        Assistant(index_dir=index_dir).ingest([ARTICLE])
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        server = serve(index_dir, port, Path(work) / "streamlit.log")
        try:
            wait_healthy(url, time.monotonic() + 120)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page()
                page.goto(url)
                page.get_by_placeholder(PROMPT).wait_for(timeout=120_000)
                loaded = time.perf_counter() - started
                ask(page, QUESTIONS[0])
                first = time.perf_counter() - started
                timings = [ask(page, q) for _ in range(rounds) for q in QUESTIONS]
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"page ready after start:        {loaded:.2f} s")
    print(f"time to first answer (start):  {first:.2f} s")
    for label, values in (
        ("warm answer time in the page:", [seen for seen, _ in timings]),
        ("of which server (ask+sources):", [server for _, server in timings]),
    ):
        print(
            f"{label:31s}median {statistics.median(values):.2f} s, min {min(values):.2f} s, "
            f"max {max(values):.2f} s over {len(values)} questions"
        )


if __name__ == "__main__":
    main()
