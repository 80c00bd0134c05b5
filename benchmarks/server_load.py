"""Many askers on one Chroma server: ingest throughput, then asks per second and latency.

A fresh ``chroma run`` on a free loopback port, its data in a temporary folder, holds the
index (``Settings.chroma_url``); it is stopped at the end, also after an error or Ctrl-C.

- ingest: RealTime QA 2023 articles, the search results of the year's questions in question
  order until about ``--passages`` passages, written as one JSON Lines file
  (``news_data.write_corpus``) and added with ``Assistant.ingest`` (parse, chunk, embed,
  upsert over HTTP; the model is loaded before): seconds and passages per second;
- asking: ``--askers`` threads share one warmed-up ``Assistant`` (``warm_up`` also builds the
  in-memory BM25 that a server index uses) and ask, in a loop, the questions whose search
  results were ingested, each thread from its own place in the list, for ``--seconds``:
  asks, asks per second, ``ask`` latency p50 / p95 / max, and the errors (how many, the
  first messages and tracebacks); none are expected;
- memory: this process's peak RSS (``ru_maxrss``) and the server's (``VmHWM``) after each
  phase.

Threads sharing one ``Assistant`` is the shape of a real deployment: a process that serves
users (the chat page, or any web service over the library) keeps one ``Assistant``, since its
models (embedder, answer reader, spaCy) take hundreds of MB and seconds to load, and serves
each user's request on a thread of its own (Streamlit runs every browser session in a
thread). A Chroma server is what the README suggests for many users. ``--serialise`` puts one
lock around ``ask``, for comparison (the chat page keeps one assistant per core instead, each
used by one session at a time: ``app.Assistants``).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/server_load.py [--passages 10000]
        [--askers 20] [--seconds 60] [--serialise]

RealTime QA is read from ``ASSISTANT_NEWS_DIR`` or ``../shared/datasets/realtimeqa-2023``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus
import news_data
from core import Report
from measure import load, mb, rss_now, rss_peak, timed

from assistant import Assistant
from assistant.chunking import split_sentences
from assistant.config import Settings, load_settings
from assistant.ingest import normalise

HOST = "127.0.0.1"
STARTUP_SECONDS = 60
SHOWN_ERRORS = 3


# the server -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def chroma_server(data: Path, log: Path) -> Iterator[Server]:
    """``chroma run`` on a free loopback port, once it answers its heartbeat; stopped after."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    command = [str(chroma), "run", "--host", HOST, "--port", str(port), "--path", str(data)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        server = Server(f"http://{HOST}:{port}", process)
        wait_for(server, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(server: Server, log: Path) -> None:
    """Return once the server's heartbeat answers 200; raise if it exits or takes too long."""
    url = f"{server.url}/api/v2/heartbeat"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise RuntimeError(f"chroma run exited with code {code}:\n{tail(log)}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {STARTUP_SECONDS} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def server_memory(pid: int) -> str:
    """A process's peak and current RSS, from ``/proc/PID/status`` (Linux)."""
    try:
        rows = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "not available"
    kib = {k: int(v.split()[0]) for k, v in (r.split(":", 1) for r in rows) if k.startswith("Vm")}
    return f"peak RSS {mb(kib['VmHWM'] * 1024)}, RSS now {mb(kib['VmRSS'] * 1024)}"


def memory(report: Report, phase: str, server: Server) -> None:
    mine = f"peak RSS {mb(rss_peak())}, RSS now {mb(rss_now())}"
    report.add("Memory after each phase", f"{phase}: this process", mine)
    report.add("Memory after each phase", f"{phase}: server", server_memory(server.process.pid))


# the news -------------------------------------------------------------------------------


@dataclass(frozen=True)
class News:
    """The articles to ingest and the questions that found them."""

    article_ids: tuple[str, ...]
    questions: tuple[str, ...]
    estimated_passages: int


def choose(passages: int, max_chars: int) -> News:
    """The search results of the year's questions, in question order, until about
    ``passages`` passages (estimated as ``corpus.estimate_passages`` does), and the questions
    with at least one search result among them."""
    everything = news_data.questions()
    ids = list(dict.fromkeys(a for q in everything for a in q.search_result_ids))
    estimates: dict[str, int] = {}
    wanted = max(1, math.ceil(passages / 10))  # about 20 passages an article: room to spare
    while True:
        texts = news_data.articles(i for i in ids[:wanted] if i not in estimates)
        for article_id, row in texts.items():
            text = normalise(str(row["text"]))
            sentences = [text[s.start : s.end] for s in split_sentences(text)]
            estimates[article_id] = corpus.estimate_passages(sentences, max_chars)
        chosen, total = [], 0
        for article_id in ids[:wanted]:
            if total >= passages:
                break
            if article_id in estimates:
                chosen.append(article_id)
                total += estimates[article_id]
        if total >= passages or wanted >= len(ids):
            break
        wanted *= 2
    kept = set(chosen)
    asked = [q.question for q in everything if kept.intersection(q.search_result_ids)]
    return News(tuple(chosen), tuple(dict.fromkeys(asked)), total)


# asking ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the askers did; every field is written under ``lock``."""

    per_asker: list[int]
    seconds: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    """From the askers' start until the last of them finished."""
    errors: Counter[str] = field(default_factory=Counter)
    tracebacks: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def asked(self, asker: int, took: float) -> None:
        with self.lock:
            self.seconds.append(took)
            self.per_asker[asker] += 1

    def failed(self, asker: int, exc: Exception) -> None:
        with self.lock:
            first = str(exc).splitlines()[0] if str(exc) else ""
            message = f"{type(exc).__name__}: {first}"[:300]
            if message not in self.errors and len(self.tracebacks) < SHOWN_ERRORS:
                self.tracebacks.append(traceback.format_exc())
            self.errors[message] += 1
            self.per_asker[asker] += 1


def ask_concurrently(
    bot: Assistant, questions: Sequence[str], askers: int, seconds: float, serialise: bool
) -> Tally:
    """``askers`` threads asking ``questions`` in a loop for ``seconds``; each finishes the
    ask it is in when time is up, and the tally's ``elapsed`` counts until the last did."""
    guard: contextlib.AbstractContextManager[object] = (
        threading.Lock() if serialise else contextlib.nullcontext()
    )
    stop = threading.Event()
    tally = Tally([0] * askers)

    def ask_loop(asker: int) -> None:
        first = asker * len(questions) // askers
        for question in itertools.islice(itertools.cycle(questions), first, None):
            if stop.is_set():
                return
            started = time.monotonic()
            try:
                with guard:
                    bot.ask(question)
            except Exception as exc:  # counted and shown: any error is what this looks for
                tally.failed(asker, exc)
            else:
                tally.asked(asker, time.monotonic() - started)

    threads = [
        threading.Thread(target=ask_loop, args=(n,), name=f"asker-{n}", daemon=True)
        for n in range(askers)
    ]
    began = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        stop.wait(seconds)
    finally:
        stop.set()  # also on Ctrl-C: the asks in flight finish before the server stops
        for thread in threads:
            if thread.ident is not None:
                thread.join()
    tally.elapsed = time.monotonic() - began
    return tally


def latency(seconds: Sequence[float]) -> str:
    if not seconds:
        return "-"
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    top = max(seconds) * 1000
    return f"p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   max {top:8.1f} ms   (n={len(seconds)})"


# the run --------------------------------------------------------------------------------


def header(args: argparse.Namespace, settings: Settings) -> list[str]:
    import chromadb

    command = " ".join(shlex.quote(a) for a in sys.argv)
    return [
        f"command:   HF_HUB_OFFLINE={os.environ['HF_HUB_OFFLINE']} {sys.executable} {command}",
        f"machine:   {os.cpu_count()} CPUs; chromadb {chromadb.__version__} (client and server)",
        f"settings:  passage_chars={settings.passage_chars}, "
        f"embed_batch_size={settings.embed_batch_size}, top_k={settings.top_k}, "
        f"candidates={settings.candidates}, answerer: "
        + ("language model" if settings.llm_base_url else "extractive"),
        f"load avg at start: {load()}  (the machine is shared; other work slows these numbers)",
    ]


def run(args: argparse.Namespace, report: Report, work: Path) -> None:
    settings = load_settings()
    news = choose(args.passages, settings.passage_chars)
    started = time.perf_counter()
    corpus_file = news_data.write_corpus(news.article_ids, work / "news")
    report.notes.append(
        f"Corpus: {len(news.article_ids):,} RealTime QA 2023 articles (the search results of "
        f"the year's questions in question order, about {news.estimated_passages:,} passages "
        f"estimated), one .jsonl file written in {time.perf_counter() - started:.1f} s; "
        f"{len(news.questions):,} distinct questions asked (those with a search result among "
        "them)."
    )
    with chroma_server(work / "chroma", work / "chroma.log") as server:
        memory(report, "start (server up)", server)
        bot = Assistant(settings=settings.model_copy(update={"chroma_url": server.url}))
        seconds = timed(lambda: bot.embedder.embed(["warm up"]))
        report.add("Model", type(bot.embedder).__name__, f"load + first embedding {seconds:.1f} s")
        ingest(args, report, bot, corpus_file, server)
        tally = ask(args, report, bot, news.questions, server)
    for message, count in tally.errors.most_common(SHOWN_ERRORS):
        report.notes.append(f"error, {count:,} x: {message}")
    report.notes.extend(f"first traceback of an error:\n{tb}" for tb in tally.tracebacks)


def ingest(
    args: argparse.Namespace, report: Report, bot: Assistant, corpus_file: Path, server: Server
) -> None:
    """Time ``ingest`` of the corpus file, then ``warm_up`` for the askers."""
    section = f"Ingest into the server, about {args.passages:,} passages"
    print(f"ingesting {corpus_file} ...", file=sys.stderr, flush=True)
    seconds = timed(lambda: bot.ingest([corpus_file]))
    stats = bot.stats()
    report.add(section, "articles / passages indexed", f"{stats.articles:,} / {stats.passages:,}")
    report.add(
        section,
        "Assistant.ingest (end to end)",
        f"{stats.passages / seconds:8.1f} passages/s  ({seconds:.1f} s)",
    )
    memory(report, "ingested", server)
    seconds = timed(bot.warm_up)
    report.add(section, "warm_up (reader, spaCy, in-memory BM25)", f"{seconds:.1f} s")
    memory(report, "warmed up", server)


def ask(
    args: argparse.Namespace,
    report: Report,
    bot: Assistant,
    questions: Sequence[str],
    server: Server,
) -> Tally:
    """The askers' run, reported."""
    lock = ", one lock around ask (--serialise)" if args.serialise else ", no lock"
    askers = f"{args.askers} asker{'s' if args.askers > 1 else ''}"
    section = f"{askers} sharing one Assistant for {args.seconds:g} s{lock}"
    print(f"asking with {args.askers} threads ...", file=sys.stderr, flush=True)
    tally = ask_concurrently(bot, questions, args.askers, args.seconds, args.serialise)
    failed = sum(tally.errors.values())
    report.add(section, "asks answered / failed", f"{len(tally.seconds):,} / {failed:,}")
    report.add(
        section,
        "throughput (answered / elapsed)",
        f"{len(tally.seconds) / tally.elapsed:8.2f} asks/s  ({tally.elapsed:.1f} s elapsed)",
    )
    report.add(section, "ask latency", latency(tally.seconds))
    report.add(
        section,
        "asks per asker (min / max)",
        f"{min(tally.per_asker):,} / {max(tally.per_asker):,}",
    )
    memory(report, "asked", server)
    return tally


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: the server is stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000, help="passages to ingest")
    parser.add_argument("--askers", type=int, default=20, help="threads asking at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they ask")
    parser.add_argument(
        "--serialise", action="store_true", help="one lock around ask, as app.py has"
    )
    args = parser.parse_args()
    if args.passages < 1 or args.askers < 1 or args.seconds <= 0:
        parser.error("--passages, --askers and --seconds must be positive")
    signal.signal(signal.SIGTERM, stop_on_sigterm)

    lines = header(args, load_settings())
    print("\n".join(lines), file=sys.stderr, flush=True)
    report = Report()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="assistant-server-load-") as work:
        run(args, report, Path(work))

    report.show(lines)
    print(
        "Askers stop starting asks when time is up and finish the one they are in; elapsed "
        "runs until the last finished. A Chroma server index has no lexical store: BM25 runs "
        "in memory in this process."
    )
    print(f"load avg at end:   {load()}")
    print(f"total time:        {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
