"""The ONNX Runtime backends: the same vectors and scores as torch, exported once, safely,
and a question answered without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import runtime
from assistant.config import load_settings
from assistant.embedding import (
    CPU_BATCH,
    GPU_BATCH,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from assistant.errors import ConfigError
from assistant.reader import OnnxReader, Reader, default_reader

TEXTS = [
    "Russia proposed a short ceasefire.",
    "The Kremlin offered a truce of a few days, and the delegations met again in Istanbul "
    "on Friday for a second round of talks that lasted well into the evening. " * 6,
    "",
    "The recipe needs two cups of flour.",
    "Talks",
]


def test_the_backend_is_a_setting_with_a_one_line_error() -> None:
    assert load_settings().embedding_backend == "onnx"
    assert load_settings(embedding_backend="onnx-int8").embedding_backend == "onnx-int8"
    with pytest.raises(ConfigError, match=r"embedding_backend.*ASSISTANT_EMBEDDING_BACKEND"):
        load_settings(embedding_backend="tensorflow")


def test_each_backend_is_the_same_model_to_the_index() -> None:
    made = [make_embedder(b) for b in ("onnx", "onnx-int8", "torch")]
    assert isinstance(made[0], OnnxEmbedder) and not made[0].quantized
    assert isinstance(made[1], OnnxEmbedder) and made[1].quantized
    assert isinstance(made[2], SentenceTransformerEmbedder)
    assert {(e.name, e.dimension) for e in made} == {
        ("sentence-transformers/all-MiniLM-L6-v2", 384)
    }
    assert made[0].embed([]).shape == (0, 384)
    assert made[0]._model is None  # nothing loads until there is something to embed


def test_an_export_is_made_once_and_an_interrupted_one_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path))
    calls: list[Path] = []

    def failing(path: Path) -> None:
        path.write_bytes(b"half a model")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runtime.exported("model", failing)
    assert list(tmp_path.iterdir()) == []

    def export(path: Path) -> None:
        calls.append(path)
        path.write_bytes(b"a model")

    first = runtime.exported("model", export)
    assert runtime.exported("model", export) == first
    assert len(calls) == 1
    assert first.read_bytes() == b"a model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_new_weights_replace_the_copies_of_the_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path))
    for name in ("minilm-aaaa.onnx", "minilm-aaaa-int8.onnx", "reader-aaaa.onnx"):
        (tmp_path / name).write_bytes(b"old")
    runtime.exported("minilm-bbbb", lambda path: path.write_bytes(b"new"), quantized=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minilm-bbbb.onnx", "reader-aaaa.onnx"]


def test_a_fingerprint_changes_with_the_files_exported_from(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"one")
    before = runtime.fingerprint(weights, b"head")
    assert runtime.fingerprint(weights, b"head") == before
    assert runtime.fingerprint(weights, b"other head") != before
    weights.write_bytes(b"two")
    assert runtime.fingerprint(weights, b"head") != before
    elsewhere = tmp_path / "other install"
    elsewhere.mkdir()
    (elsewhere / "model.safetensors").write_bytes(b"two")
    assert runtime.fingerprint(elsewhere / "model.safetensors", b"head") == runtime.fingerprint(
        weights, b"head"
    )


@pytest.mark.slow
def test_onnx_vectors_are_the_torch_vectors(real_embedder: OnnxEmbedder) -> None:
    reference = SentenceTransformerEmbedder().embed(TEXTS)
    assert isinstance(real_embedder, OnnxEmbedder)
    vectors = real_embedder.embed(TEXTS)
    assert vectors.dtype == np.float32
    assert np.allclose(vectors, reference, atol=1e-5)
    one_at_a_time = np.stack([real_embedder.embed([t])[0] for t in TEXTS])
    assert np.allclose(one_at_a_time, vectors, atol=1e-5)
    assert real_embedder.device == "CPU"


@pytest.mark.slow
def test_the_batch_size_follows_the_device_unless_set(real_embedder: OnnxEmbedder) -> None:
    assert load_settings().embed_batch_size is None
    assert load_settings(embed_batch_size=16).embed_batch_size == 16
    assert real_embedder.batch_size == (GPU_BATCH if real_embedder.device == "GPU" else CPU_BATCH)
    assert make_embedder("onnx", batch_size=3).batch_size == 3
    assert make_embedder("torch", batch_size=5).batch_size == 5
    texts = TEXTS * 5  # more than one default batch, of mixed lengths
    wide = make_embedder("onnx", batch_size=64).embed(texts)
    assert np.allclose(real_embedder.embed(texts), wide, atol=1e-5)


@pytest.mark.slow
def test_int8_vectors_are_close_and_keep_the_order_of_similarity() -> None:
    full = make_embedder("onnx").embed(TEXTS)
    fast = make_embedder("onnx-int8", batch_size=2).embed(TEXTS)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(full * fast, axis=1))) > 0.97
    assert float(fast[0] @ fast[1]) > float(fast[0] @ fast[3]) + 0.2


@pytest.mark.slow
def test_onnx_reader_scores_are_the_torch_reader_scores() -> None:
    sentences = [
        "The council approved the bridge on Monday.",
        "Construction will start next spring.",
        "It rained. " * 80,
    ]
    question = "When does construction start?"
    onnx = OnnxReader(quantized=False)
    assert np.allclose(
        onnx.score(question, sentences), Reader().score(question, sentences), atol=1e-4
    )
    assert onnx.score(question, []).shape == (0,)


@pytest.mark.slow
def test_the_int8_reader_is_the_int8_backends_and_scores_like_the_reader() -> None:
    sentences = [
        "The council approved the bridge on Monday.",
        "Construction will start next spring.",
        "The mayor said it would cost 40 million euros.",
    ]
    question = "When does construction start?"
    int8 = default_reader("onnx-int8")
    assert isinstance(int8, OnnxReader) and int8.quantized
    default = default_reader()
    assert isinstance(default, OnnxReader) and default.quantized == (not runtime.gpu())
    assert not OnnxReader(quantized=False).quantized
    assert isinstance(default_reader("torch"), Reader)
    full = OnnxReader(quantized=False).score(question, sentences)
    fast = int8.score(question, sentences)
    assert np.argmax(fast) == np.argmax(full) == 1
    assert np.abs(fast - full).max() < 0.1


@pytest.mark.slow
def test_a_question_is_answered_without_importing_torch(
    bundled_index: Path, real_embedder: OnnxEmbedder
) -> None:
    real_embedder.embed(["export the model first"])  # exporting it is what needs torch
    default_reader().score("q", ["and the reader"])
    script = (
        "import json, sys\n"
        "from assistant import Assistant\n"
        f"bot = Assistant({str(bundled_index)!r}, create=False)\n"
        "answer = bot.ask('Where did the delegations meet?')\n"
        "print(json.dumps([len(answer.citations), 'torch' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=True,
    )
    cited, torch_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert cited >= 1
    assert torch_loaded is False
