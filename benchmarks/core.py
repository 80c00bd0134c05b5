"""Core numbers for the README: ingest throughput, warm ``ask`` latency and peak memory.

For the bundled ``articles/`` and for a corpus of at least ``--passages`` passages (made on
the fly from the SQuAD 2.0 paragraphs on disk, see ``benchmarks/corpus.py``), each in a fresh
temporary index:

- ingest: ``Assistant.ingest`` end to end (parse, chunk, embed, Chroma upsert) in passages
  per second, beside the assistant's own embedder alone (``embedder.embed``, the backend of
  ``ASSISTANT_EMBEDDING_BACKEND``) on the same passage texts and the ratio of the two;
- latency: warm ``ask`` and ``retrieve`` p50/p95 beside the floor, one query embedding plus
  one Chroma query (``embedder.embed([q])`` + ``index.query(vec, candidates)``);
- memory: the process's peak RSS (``ru_maxrss``) and current RSS after each phase, and with
  ``--tracemalloc`` the Python heap peak of each phase (tracing slows Python code down, so
  the timings of such a run are not the ones to quote).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/core.py [--passages N] [--questions N]

The SQuAD data is read from ``ASSISTANT_SQUAD_DIR`` or ``../shared/datasets/squad2-dev-500``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus
import squad_data
from measure import floor, load, mb, percentiles, rss_now, rss_peak, timed

from assistant import Assistant
from assistant.config import Settings, load_settings
from assistant.embedding import Embedder, make_embedder

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "articles"
ARTICLE_QUESTIONS = (
    "What did Russia propose on ceasefire length?",
    "How many soldiers' remains will be exchanged?",
    "Who leads the Russian delegation?",
    "Where did the delegations meet?",
    "When might Zelensky and Putin meet?",
    "What does Ukraine demand for a ceasefire?",
    "Who won the football match?",
)
WARM_UP = 3


@dataclass
class Report:
    """Rows of the final table, grouped by section, and notes printed under it."""

    sections: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, section: str, label: str, value: str) -> None:
        self.sections.setdefault(section, []).append((label, value))
        print(f"  {section}: {label}: {value}", file=sys.stderr, flush=True)

    def render(self) -> str:
        width = max(len(label) for rows in self.sections.values() for label, _ in rows)
        lines = []
        for section, rows in self.sections.items():
            lines += ["", section, "-" * len(section)]
            lines += [f"  {label:<{width}}  {value}" for label, value in rows]
        return "\n".join(lines)

    def show(self, header: Sequence[str]) -> None:
        """Print ``header``, the table and the notes, on standard output."""
        print("\n".join(header))
        print(self.render())
        print()
        for note in self.notes:
            print(note)


def memory(report: Report, phase: str) -> None:
    value = f"peak RSS {mb(rss_peak())}, RSS now {mb(rss_now())}"
    if tracemalloc.is_tracing():
        current, peak = tracemalloc.get_traced_memory()
        value += f", Python heap peak {mb(peak)} (now {mb(current)})"
        tracemalloc.reset_peak()
    report.add("Memory after each phase", phase, value)


def ingest(
    report: Report,
    section: str,
    phase: str,
    assistant: Assistant,
    paths: Iterable[Path],
    embedder: Embedder,
) -> None:
    """Time ``ingest``, then ``encode`` alone on the very passage texts it stored."""
    seconds = timed(lambda: assistant.ingest(paths))
    memory(report, f"{phase}: ingested")
    stats = assistant.stats()
    texts = [p.text for p in assistant.index.passages()]
    encode = timed(lambda: embedder.embed(texts))  # the very embedder the assistant used
    memory(report, f"{phase}: encoded again (encode alone)")
    end_to_end = stats.passages / seconds
    raw = len(texts) / encode
    report.add(section, "articles / passages indexed", f"{stats.articles:,} / {stats.passages:,}")
    report.add(section, "index size on disk", mb(stats.bytes or 0))
    report.add(
        section, "Assistant.ingest (end to end)", f"{end_to_end:8.1f} passages/s  ({seconds:.1f} s)"
    )
    report.add(section, "embedder.embed alone", f"{raw:8.1f} passages/s  ({encode:.1f} s)")
    report.add(section, "ingest / encode", f"{end_to_end / raw:8.2f}")


def latency(
    report: Report, section: str, assistant: Assistant, questions: Sequence[str], k: int
) -> None:
    """Cold first ask, then warm ask, retrieve and the embed+query floor per question."""
    first = timed(lambda: assistant.ask(questions[0]))
    for question in questions[:WARM_UP]:
        assistant.ask(question)
    asks = [timed(lambda q=q: assistant.ask(q)) for q in questions]
    retrieves = [timed(lambda q=q: assistant.retrieve(q)) for q in questions]

    floors = [timed(lambda q=q: floor(assistant, q, k)) for q in questions]
    report.add(section, "first ask (cold: loads the models)", f"{first * 1000:8.1f} ms")
    report.add(section, "ask, warm", percentiles(asks))
    report.add(section, "retrieve, warm", percentiles(retrieves))
    report.add(section, f"floor: embed 1 + Chroma query k={k}", percentiles(floors))
    ratio = statistics.median(asks) / statistics.median(floors)
    report.add(section, "ask p50 / floor p50", f"{ratio:8.1f}")


def squad_questions(limit: int) -> list[str]:
    """The first ``limit`` SQuAD questions (answerable and not, as the file orders them)."""
    _, questions = squad_data.load()
    return [q.question.strip() for q in questions[:limit]]


def header(args: argparse.Namespace, settings: Settings, batch_size: int) -> list[str]:
    import chromadb
    import sentence_transformers
    import torch

    command = " ".join(shlex.quote(a) for a in sys.argv)
    return [
        f"command:   HF_HUB_OFFLINE={os.environ['HF_HUB_OFFLINE']} {sys.executable} {command}",
        f"machine:   {os.cpu_count()} CPUs, torch {torch.__version__} on CPU with "
        f"{torch.get_num_threads()} threads; sentence-transformers "
        f"{sentence_transformers.__version__}, chromadb {chromadb.__version__}",
        f"settings:  passage_chars={settings.passage_chars}, embed_batch_size={batch_size}, "
        f"top_k={settings.top_k}, candidates={settings.candidates}, "
        f"embedding_backend={settings.embedding_backend}",
        f"load avg at start: {load()}  (the machine is shared; other work slows these numbers)",
        f"options:   --passages {args.passages} --questions {args.questions} "
        f"--per-file {args.per_file}" + (" --tracemalloc" if args.tracemalloc else ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000, help="large corpus size")
    parser.add_argument("--questions", type=int, default=50, help="SQuAD questions to time")
    parser.add_argument("--rounds", type=int, default=3, help="times to ask each article question")
    parser.add_argument("--per-file", type=int, default=100, help="articles per .jsonl file")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap")
    args = parser.parse_args()

    settings = load_settings().model_copy(update={"chroma_url": None})
    batch_size = settings.embed_batch_size
    lines = header(args, settings, batch_size)
    print("\n".join(lines), file=sys.stderr, flush=True)
    report = Report()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    memory(report, "start (imports)")

    embedder = make_embedder(settings.embedding_backend, batch_size)
    seconds = timed(lambda: embedder.embed(["warm up"]))
    report.add("Model", "load + first embedding", f"{seconds:.1f} s")
    memory(report, "model loaded")

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as work:
        small = Assistant(Path(work) / "small", settings=settings, embedder=embedder)
        section = "Bundled articles/ (ingest)"
        ingest(report, section, "bundled", small, [ARTICLES], embedder)
        questions = list(ARTICLE_QUESTIONS) * args.rounds
        latency(report, "Bundled articles/ (latency)", small, questions, settings.candidates)
        memory(report, "bundled: questions asked")
        del small

        contexts, _ = squad_data.load()
        built = time.perf_counter()
        folder = Path(work) / "corpus"
        large_corpus = corpus.build(
            contexts, folder, args.passages, settings.passage_chars, args.per_file
        )
        seconds = time.perf_counter() - built
        report.notes.append(f"Large corpus: {large_corpus.describe()}; written in {seconds:.1f} s")
        large = Assistant(Path(work) / "large", settings=settings, embedder=embedder)
        section = f"Large corpus, >= {args.passages:,} passages (ingest)"
        ingest(report, section, "large", large, list(large_corpus.files), embedder)
        questions = squad_questions(args.questions)
        section = f"Large corpus, >= {args.passages:,} passages (latency, SQuAD questions)"
        latency(report, section, large, questions, settings.candidates)
        memory(report, "large: questions asked")

    report.show(lines)
    print(
        "Bundled articles/: one article of about ten passages - too few for a throughput "
        "figure (model and Chroma warm-up dominate); quote the large corpus for ingest."
    )
    print(
        f"Latency: {WARM_UP} warm-up asks first; ask = Assistant.ask (retrieve + answer); "
        f"retrieve = Assistant.retrieve (dense + BM25 fused); with n near 20, p95 is near the max."
    )
    print(f"load avg at end:   {load()}")
    print(f"total time:        {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
