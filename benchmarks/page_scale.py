"""The chat page at the size of real use: libraries of real news, one person and a crowd.

For each library size (``page_libraries.py``: the first N RealTime QA 2023 articles, built
once under ``build/page-N``) it starts ``streamlit run app.py`` over that index on a loopback
port and drives Debian's Chromium (headless, Playwright):

- server up: from starting the server until its health check answers;
- input usable, first visit: from navigation until the chat box takes typing, for the first
  browser session of the server (the model and the index load then);
- input usable, later visits: the same for a fresh browser session once the server is warm
  (median of three);
- answer drawn: from pressing Enter until the reply is drawn, beside the "Answered in" time
  the page itself shows (asking and preparing the sources, on the server);
- with ``--crowd 10,20``: that many browser sessions at once, each asking five questions of
  its own one after another; every reply must be drawn with no error shown, and p50 / p95 of
  the time to a drawn answer are reported, beside the page's own time (which includes the
  wait for the one shared ``Assistant``) and how many cores the page server and the whole
  machine kept busy (the browsers run on the same machine);
- the page server's peak resident memory (``VmHWM``) after all of that.

Questions come from the RealTime QA 2023 quiz: those whose search results are all in the
library first (so the answers are in it), then the earliest others.

``--app`` serves another version of the page (for instance ``git show REV:app.py``, which
must sit in the repository root to import the package the same way).

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/page_scale.py --sizes 10,1000,7500 \\
        [--crowd 10,20] [--crowd-size 7500] [--questions 5] [--app FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import news_data
import page_libraries
from app_latency import ARGS, PROMPT, REPLY, ROOT, free_port, serve, wait_healthy
from playwright.async_api import Browser, Page, async_playwright

ERROR = "[data-testid='stException'], [data-testid='stAlertContentError']"
TIMEOUT_MS = 300_000


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (Linux ``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def questions_for(size: int, wanted: int) -> list[str]:
    """``wanted`` quiz questions, those answerable from the library's articles first."""
    ids = set(page_libraries.ordered_ids()[:size])
    everything = news_data.questions()
    inside = [
        q.question for q in everything if q.search_result_ids and ids >= set(q.search_result_ids)
    ]
    others = [q.question for q in everything if q.question not in inside]
    return (inside + others)[:wanted]


async def open_page(browser: Browser, url: str) -> tuple[Page, float]:
    """A fresh browser session on the page; seconds from navigation until the chat box
    takes typing."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    started = time.perf_counter()
    await page.goto(url)
    box = page.get_by_placeholder(PROMPT)
    await box.wait_for(state="visible")
    await page.wait_for_function(
        """(prompt) => {
            const box = document.querySelector(`textarea[placeholder="${prompt}"]`);
            return box && !box.disabled && !box.readOnly;
        }""",
        arg=PROMPT,
        polling=10,
    )
    return page, time.perf_counter() - started


async def ask(page: Page, question: str) -> tuple[float, float]:
    """Seconds from pressing Enter to the reply drawn, and the page's own "Answered in" time.

    The reply is watched for every 10 ms in the page (a locator's ``wait_for`` polls every
    100-500 ms, which would add up to half a second).
    """
    messages = page.get_by_test_id("stChatMessage")
    before = await messages.count()
    box = page.get_by_placeholder(PROMPT)
    await box.fill(question)
    started = time.perf_counter()
    await box.press("Enter")
    await page.wait_for_function(
        """([before, reply]) => {
            const messages = document.querySelectorAll("[data-testid=stChatMessage]");
            return messages.length > before + 1 && messages[before + 1].querySelector(reply)
                && messages[before + 1].querySelector("[data-testid=stCaptionContainer]");
        }""",
        arg=[before, REPLY],
        polling=10,
    )
    seen = time.perf_counter() - started
    caption = await messages.nth(before + 1).get_by_test_id("stCaptionContainer").last.inner_text()
    return seen, float(caption.split()[2])


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by process ``pid``, or by the whole machine (all cores)."""
    ticks = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        return (sum(map(int, fields)) - int(fields[3]) - int(fields[4])) / ticks  # not idle
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


async def crowd(
    browser: Browser, url: str, people: int, each: int, questions: list[str], server: int
) -> dict[str, float]:
    """``people`` sessions at once, each asking ``each`` of ``questions`` of its own in turn;
    with how busy the server and the machine were meanwhile."""

    async def person(n: int) -> list[tuple[float, float]]:
        page, _ = await open_page(browser, url)
        times = [await ask(page, q) for q in questions[n * each : (n + 1) * each]]
        if await page.locator(ERROR).count():
            raise SystemExit(f"session {n} shows an error")
        await page.context.close()
        return times

    started, machine, served = time.perf_counter(), cpu_seconds(), cpu_seconds(server)
    everyone = await asyncio.gather(*(person(n) for n in range(people)))
    wall = time.perf_counter() - started
    machine, served = cpu_seconds() - machine, cpu_seconds(server) - served
    times = sorted(seen for mine in everyone for seen, _ in mine)
    own = sorted(server for mine in everyone for _, server in mine)
    return {
        "answered": len(times),
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": times[-1],
        "own p50": statistics.median(own),
        "own p95": percentile(own, 0.95),
        "wall": wall,
        "server cores": served / wall,
        "machine cores": machine / wall,
    }


def percentile(ordered: list[float], share: float) -> float:
    """The value ``share`` of the way up ``ordered`` (nearest rank)."""
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(size: int, crowds: list[int], wanted: int, app: Path) -> None:
    index_dir = page_libraries.build(size)
    questions = questions_for(size, wanted)
    crowd_questions = questions_for(size, wanted * max(crowds, default=0))  # each asks its own
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        conversations = str(Path(work) / "conversations")
        server = serve(
            index_dir,
            port,
            Path(work) / "streamlit.log",
            app,
            ASSISTANT_CONVERSATIONS_DIR=conversations,
        )
        try:
            wait_healthy(url, time.monotonic() + 300)
            up = time.perf_counter() - started
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=ARGS
                )
                first, cold = await open_page(browser, url)
                await ask(first, questions[0])  # the first answer loads what asking needs
                answers = [await ask(first, q) for q in questions]
                await first.context.close()
                warm = []
                for _ in range(3):
                    again, seconds = await open_page(browser, url)
                    warm.append(seconds)
                    await again.context.close()
                crowded = {
                    n: await crowd(browser, url, n, wanted, crowd_questions, server.pid)
                    for n in crowds
                }
                await browser.close()
            peak = peak_memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        if "Traceback" in (Path(work) / "streamlit.log").read_text():
            raise SystemExit((Path(work) / "streamlit.log").read_text())
    drawn = [seen for seen, _ in answers]
    own = [server_time for _, server_time in answers]
    print(f"\n{size} articles ({index_dir.name}), {len(questions)} questions")
    print(f"  server up:                        {up:.2f} s")
    print(f"  input usable, first visit:        {cold:.2f} s")
    print(f"  input usable, later visits:       {statistics.median(warm):.2f} s (median of 3)")
    print(
        f"  answer drawn after Enter:         median {statistics.median(drawn):.2f} s, "
        f"max {max(drawn):.2f} s"
    )
    print(
        f"  of which the page's own time:     median {statistics.median(own):.2f} s, "
        f"max {max(own):.2f} s"
    )
    for people, found in crowded.items():
        print(
            f"  {people} sessions x {len(questions)} questions: {found['answered']:.0f} answered, "
            f"0 errors, p50 {found['p50']:.2f} s, p95 {found['p95']:.2f} s, "
            f"max {found['max']:.2f} s, all done in {found['wall']:.1f} s; the page's own "
            f"time (waiting for the shared assistant included) p50 {found['own p50']:.2f} s, "
            f"p95 {found['own p95']:.2f} s; cores busy: page server {found['server cores']:.2f}, "
            f"whole machine {found['machine cores']:.2f} of {os.cpu_count()}"
        )
    print(f"  page server peak memory:          {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,7500", help="library sizes, in articles")
    parser.add_argument("--crowd", default="", help="concurrent sessions to try, e.g. 10,20")
    parser.add_argument("--crowd-size", type=int, default=7500, help="library for the crowd")
    parser.add_argument("--questions", type=int, default=5, help="questions per session")
    parser.add_argument(
        "--app", type=Path, default=ROOT / "app.py", help="the page to serve (another version's)"
    )
    args = parser.parse_args()
    crowds = [int(n) for n in args.crowd.split(",") if n]
    for size in (int(n) for n in args.sizes.split(",")):
        crowded = crowds if size == args.crowd_size else []
        asyncio.run(measure(size, crowded, args.questions, args.app.resolve()))


if __name__ == "__main__":
    main()
