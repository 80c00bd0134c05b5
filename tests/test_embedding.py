"""Embedders: the protocol, the fake used by unit tests, and the packaged model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assistant import embedding
from assistant.embedding import (
    CachedEmbedder,
    Embedder,
    SentenceTransformerEmbedder,
    Vectors,
    packaged_model_path,
)


def test_fake_embedder_meets_the_protocol(fake_embedder: Embedder) -> None:
    assert isinstance(fake_embedder, Embedder)
    vectors = fake_embedder.embed(["the council met", "the council met", "", "rain tomorrow"])
    assert vectors.shape == (4, fake_embedder.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.array_equal(vectors[0], vectors[1])
    assert float(vectors[0] @ vectors[3]) < 0.99


def test_packaged_model_ships_with_the_package() -> None:
    path = packaged_model_path()
    assert (path / "1_Pooling" / "config.json").is_file()


def test_creating_the_real_embedder_does_not_load_the_model() -> None:
    embedder = SentenceTransformerEmbedder()
    assert isinstance(embedder, Embedder)
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    empty = embedder.embed([])
    assert empty.shape == (0, 384)
    assert embedder._model is None


def test_real_embedder_name_can_be_overridden() -> None:
    assert SentenceTransformerEmbedder(name="custom").name == "custom"


@pytest.mark.slow
def test_real_model_gives_unit_vectors_closer_for_related_texts(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    texts = [
        "Russia proposed a short ceasefire.",
        "The Kremlin offered a truce of a few days.",
        "The recipe needs two cups of flour.",
    ]
    vectors = real_embedder.embed(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
    assert np.allclose(real_embedder.embed(texts[:1])[0], vectors[0], atol=1e-5)


class CountingEmbedder:
    """Counts the texts it is asked to encode."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.encoded: list[str] = []
        self.name = inner.name
        self.dimension = inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.encoded.extend(texts)
        return self.inner.embed(texts)


def test_cached_embedder_encodes_each_text_once_and_keeps_order(fake_embedder: Embedder) -> None:
    counting = CountingEmbedder(fake_embedder)
    cached = CachedEmbedder(counting, size=3)
    first = cached.embed(["a", "b", "a"])
    assert counting.encoded == ["a", "b"]
    np.testing.assert_allclose(first, fake_embedder.embed(["a", "b", "a"]))
    again = cached.embed(["b", "c"])
    assert counting.encoded == ["a", "b", "c"]
    np.testing.assert_allclose(again, fake_embedder.embed(["b", "c"]))
    cached.embed(["d"])  # the least recently used, "a", is forgotten
    cached.embed(["a"])
    assert counting.encoded == ["a", "b", "c", "d", "a"]
    assert cached.embed([]).shape == (0, fake_embedder.dimension)


def test_ingest_uses_torch_on_a_gpu_that_onnx_runtime_cannot_use(
    monkeypatch: pytest.MonkeyPatch, fake_embedder: Embedder
) -> None:
    onnx = embedding.make_embedder("onnx-int8", batch_size=16)
    monkeypatch.setattr(embedding, "gpu_for_torch", lambda: False)
    assert embedding.for_ingest(onnx) is onnx
    monkeypatch.setattr(embedding, "gpu_for_torch", lambda: True)
    on_gpu = embedding.for_ingest(onnx)
    assert isinstance(on_gpu, embedding.SentenceTransformerEmbedder)
    assert (on_gpu.name, on_gpu.model_path, on_gpu.chosen_batch) == (
        onnx.name,
        onnx.model_path,
        16,
    )
    assert embedding.backend_of(on_gpu) == "torch"
    assert embedding.backend_of(onnx) == "onnx-int8"
    assert embedding.for_ingest(fake_embedder) is fake_embedder  # not the packaged model
    monkeypatch.setattr(
        embedding.runtime, "providers", lambda: [embedding.runtime.GPU_PROVIDER, "CPU"]
    )
    assert embedding.for_ingest(onnx) is onnx  # ONNX Runtime's CUDA build runs it there


def test_without_an_nvidia_driver_torch_is_not_imported_to_look_for_a_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setattr(embedding.shutil, "which", lambda name: None)
    monkeypatch.setattr(embedding.Path, "exists", lambda self: False)
    monkeypatch.setitem(sys.modules, "torch", None)  # importing it would raise
    assert embedding.gpu_for_torch() is False
