"""A long-lived reader beside a writer process on one on-disk index: errors and staleness.

The reader (this process, one ``Assistant``, as the chat page keeps) asks questions in a loop
while ``assistant ingest`` adds articles from another process. Printed: how many asks ran and
failed, and how long after the writer finished the reader listed the new articles.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/concurrency.py --articles 150
"""

from __future__ import annotations

import argparse
import collections
import gzip
import itertools
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant import Assistant

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "datasets" / "realtimeqa-2023" / "articles.jsonl.gz"
QUESTIONS = [
    "What did Russia propose on ceasefire length?",
    "Who leads the Russian negotiating team?",
    "What happened to Damar Hamlin?",
    "How many jobs did Amazon cut?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=150, help="articles the writer adds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with gzip.open(NEWS, "rt") as lines:
            chosen = list(itertools.islice(lines, 40 + args.articles))
        (work / "first.jsonl").write_text("".join(chosen[:40]))
        (work / "more.jsonl").write_text("".join(chosen[40:]))
        index = work / "index"
        reader = Assistant(index_dir=index)
        reader.ingest([ROOT / "articles", work / "first.jsonl"])
        before = len(reader.articles())
        errors: collections.Counter[str] = collections.Counter()
        seen: dict[int, float] = {}
        asks = 0
        stop = threading.Event()

        def ask_forever() -> None:
            nonlocal asks
            for question in itertools.cycle(QUESTIONS):
                if stop.is_set():
                    return
                try:
                    reader.ask(question)
                    seen.setdefault(len(reader.articles()), time.monotonic())
                except Exception as exc:  # counted: any error is what this measures
                    errors[f"{type(exc).__name__}: {str(exc)[:100]}"] += 1
                asks += 1

        thread = threading.Thread(target=ask_forever)
        thread.start()
        cli = Path(sys.prefix) / "bin" / "assistant"
        started = time.monotonic()
        done = subprocess.run(
            [str(cli), "ingest", str(work / "more.jsonl"), "--index", str(index)],
            check=True,
            capture_output=True,
            text=True,
        )
        finished = time.monotonic()
        added = int(done.stdout.strip().splitlines()[-1].split()[0])  # "N added, ..."
        expected = before + added
        while expected not in seen and time.monotonic() < finished + 30:
            time.sleep(0.1)
        stop.set()
        thread.join()
        print(f"writer: {added} articles added in {finished - started:.0f} s")
        print(f"reader: {asks} asks, {sum(errors.values())} failed")
        for message, count in errors.most_common(3):
            print(f"  {count} x {message}")
        if expected in seen:
            print(
                f"reader lists the new articles {seen[expected] - finished:+.1f} s after the writer"
            )
        else:
            print("reader did not list the new articles within 30 s")


if __name__ == "__main__":
    main()
