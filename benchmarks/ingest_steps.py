"""Two steps of ingest beside the model, measured alone: cutting sentences and Chroma's writes.

- Sentences: every sentence splitter of ``assistant.chunking.SPLITTERS`` cuts the same
  RealTime QA 2023 articles (every 25th of the year, ``--articles`` of them); reported: the
  seconds each took, its sentences, and the share of each one's sentences (same start and
  end) that the other cuts the same.
- Chroma's writes: ``--passages`` slices of the year's first articles (500 characters, as
  long as a passage) are upserted in batches of 256 with random 384-d vectors and passage-like
  metadata into fresh collections of one embedded Chroma in a temporary folder, each a
  different way: the text as the Chroma document (format 2), the text in the metadata
  (format 3, on disk), and no text at all (the floor). Reported: the seconds and the
  process's CPU seconds of each.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/ingest_steps.py [--articles 300] \
        [--passages 30000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news_data
from measure import load

from assistant.chunking import SPLITTERS, split_sentences
from assistant.index import TEXT

BATCH = 256
PASSAGE = 500


def sample(count: int, every: int = 25) -> list[str]:
    """The texts of ``count`` articles of the year: every ``every``-th, in file order."""
    texts: list[str] = []
    path = news_data.dataset_dir() / "articles.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n % every == 0:
                texts.append(str(json.loads(line)["text"]))
            if len(texts) >= count:
                break
    return texts


def sentences(texts: Sequence[str]) -> None:
    cut: dict[str, list[set[tuple[int, int]]]] = {}
    print(f"{len(texts)} articles, {sum(map(len, texts)):,} characters")
    for name in SPLITTERS:
        started = time.perf_counter()
        spans = [split_sentences(text, name) for text in texts]
        seconds = time.perf_counter() - started
        cut[name] = [{(s.start, s.end) for s in found} for found in spans]
        total = sum(map(len, spans))
        print(f"{name:<12} {seconds:6.2f} s  {total:,} sentences")
    names = list(cut)
    for name in names:
        for other in names:
            if other != name:
                same = sum(len(a & b) for a, b in zip(cut[name], cut[other], strict=True))
                total = sum(map(len, cut[name]))
                print(f"{name}'s sentences that {other} cuts the same: {same / total:.1%}")


def meta(n: int) -> dict[str, str | int]:
    """Metadata shaped like a passage's (``index._passage_meta``)."""
    return {
        "article_id": f"{n // 20:036d}",
        "index": n % 20,
        "start": n * PASSAGE,
        "end": n * PASSAGE + PASSAGE,
        "sentences": ",".join(f"{k}-{k + 80}" for k in range(0, PASSAGE, 80)),
        "title": "A headline about the events of the week, as long as most",
        "day": 20230101 + n % 300,
        "key": f"{n:016x}",
    }


WAYS: dict[str, Callable[[list[str], list[dict[str, str | int]]], dict[str, Any]]] = {
    "text as document (format 2)": lambda texts, metas: {"documents": texts, "metadatas": metas},
    "text in metadata (format 3)": lambda texts, metas: {
        "metadatas": [{**m, TEXT: t} for m, t in zip(metas, texts, strict=True)]
    },
    "no text": lambda texts, metas: {"metadatas": metas},
}


def writes(texts: Sequence[str], count: int) -> None:
    import chromadb

    passages = [t[i : i + PASSAGE] for t in texts for i in range(0, len(t), PASSAGE)][:count]
    rng = np.random.default_rng(0)
    print(f"{len(passages):,} passages of {PASSAGE} characters, {BATCH} a call")
    with tempfile.TemporaryDirectory() as folder:
        client = chromadb.PersistentClient(folder)
        for n, (way, columns) in enumerate(WAYS.items()):
            collection = client.create_collection(
                f"passages-{n}", configuration={"hnsw": {"space": "cosine"}}
            )
            started, cpu = time.perf_counter(), time.process_time()
            for lo in range(0, len(passages), BATCH):
                batch = passages[lo : lo + BATCH]
                collection.upsert(
                    ids=[str(lo + i) for i in range(len(batch))],
                    embeddings=rng.standard_normal((len(batch), 384)).astype(np.float32),
                    **columns(batch, [meta(lo + i) for i in range(len(batch))]),
                )
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"{way:<30} {seconds:6.1f} s  (CPU {cpu:.1f} s)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="articles to cut")
    parser.add_argument("--passages", type=int, default=30000, help="passages to write")
    args = parser.parse_args(argv)
    print(f"load avg at start: {load()}")
    sentences(sample(args.articles))
    print()
    writes(sample(args.passages * PASSAGE // 4000 + 1, every=1), args.passages)


if __name__ == "__main__":
    main()
