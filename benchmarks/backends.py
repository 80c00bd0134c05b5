"""The embedding backends side by side: encoding speed, and how close their vectors are.

On the same passages of RealTime QA 2023 articles (cut by the assistant's own chunker), each
backend of ``Settings.embedding_backend`` (torch, onnx, onnx-int8) encodes every passage,
after a warm-up; the best of ``--repeats`` runs is its speed, so a moment of load elsewhere
on the machine does not count against one backend. Reported beside it:

- the cosine of each passage's vector to torch's (min and mean);
- retrieval agreement: for each of ``--questions`` quiz questions, the share of torch's 10
  nearest passages (by cosine) that the backend also puts in its 10 nearest.

Whether answers stay the same is measured by the news benchmark and the gold set run with
``ASSISTANT_EMBEDDING_BACKEND`` set (see the README).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py [--passages 1024] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news_data
from measure import load, timed

from assistant.chunking import chunk
from assistant.embedding import BACKENDS, Vectors, device, make_embedder
from assistant.ingest import parse

TOP = 10


def passages(count: int) -> list[str]:
    """The first ``count`` passages of the year's articles, in file order."""
    texts: list[str] = []
    rows = news_data.articles()
    for n, row in enumerate(rows.values()):
        data = json.dumps(news_data.record(row)).encode()
        for item in parse(f"{n}.json", f"bench:{n}", data):
            if item.article is not None:
                texts += [p.text for p in chunk(item.article)]
        if len(texts) >= count:
            break
    return texts[:count]


def nearest(questions: Vectors, vectors: Vectors) -> list[set[int]]:
    scores = questions @ vectors.T
    return [set(np.argsort(-row)[:TOP].tolist()) for row in scores]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="texts per call (default: the device's)"
    )
    args = parser.parse_args()

    texts = passages(args.passages)
    asked = [q.question for q in news_data.questions()[: args.questions]]
    print(f"{len(texts)} passages, {len(asked)} questions; load {load()}")
    vectors: dict[str, Vectors] = {}
    speed: dict[str, float] = {}
    tops: dict[str, list[set[int]]] = {}
    for backend in BACKENDS:
        embedder = make_embedder(backend, args.batch_size)
        embedder.embed(texts[:64])  # load (and export, the first time)
        best = min(timed(partial(embedder.embed, texts)) for _ in range(args.repeats))
        vectors[backend] = embedder.embed(texts)
        speed[backend] = len(texts) / best
        tops[backend] = nearest(embedder.embed(asked), vectors[backend])
        print(
            f"  {backend:<10} {speed[backend]:7.1f} passages/s on the {device(embedder)}, "
            f"{embedder.batch_size} a call"
        )
    print()
    header = f"{'backend':<10} {'passages/s':>10} {'x torch':>8} {'cos min':>8} {'cos mean':>9}"
    print(f"{header} top-10")
    for backend in BACKENDS:
        cosines = np.sum(vectors[backend] * vectors["torch"], axis=1)
        agree = np.mean(
            [len(a & b) / TOP for a, b in zip(tops[backend], tops["torch"], strict=True)]
        )
        print(
            f"{backend:<10} {speed[backend]:10.1f} {speed[backend] / speed['torch']:8.2f} "
            f"{cosines.min():8.4f} {cosines.mean():9.4f} {agree:6.1%}"
        )
    print(f"load at the end: {load()}")


if __name__ == "__main__":
    main()
