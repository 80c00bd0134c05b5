"""The answer reader: a cross-encoder that reads a question with one sentence and scores
how likely the sentence answers it.

It is the packaged all-MiniLM-L6-v2 with a scoring head, fine-tuned by
``benchmarks/train_reader.py`` on RealTime QA 2023 odd weeks and the SQuAD sample (see the
README's "Answering"). Only the fine-tuned layers ship, in ``assistant/reader/``; the word
embeddings are the packaged model's own. Reading a question with each sentence sees what a
similarity of two separate vectors misses: "truce" for "ceasefire", "which city" answered by
"in Istanbul".
"""

from __future__ import annotations

import logging as std_logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant import runtime
from assistant.embedding import INPUTS, Backend, packaged_model_path

WEIGHTS = "reader.safetensors"
CARD = "reader.json"
MAX_TOKENS = 128


@runtime_checkable
class Scorer(Protocol):
    """What the answerer needs of a reader."""

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray: ...


class Reader:
    """Scores (question, sentence) pairs; loaded on first use, safe to share across threads."""

    def __init__(self, trained: bool = True) -> None:
        self._trained = trained
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def untrained(cls) -> Reader:
        """The packaged model with a fresh head: the starting point of training."""
        return cls(trained=False)

    def load(self) -> None:
        """Load the network now rather than on the first call."""
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import CrossEncoder
                from transformers.utils import logging

                # The fresh head is reported missing and the model "converted": the head
                # is loaded below, so neither is news to the user.
                level = logging.get_verbosity()
                logging.set_verbosity(std_logging.ERROR)
                logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                quiet = std_logging.getLogger("sentence_transformers")
                was = quiet.level
                quiet.setLevel(std_logging.ERROR)
                try:
                    model = CrossEncoder(
                        str(packaged_model_path()),
                        num_labels=1,
                        max_length=MAX_TOKENS,
                        device="cpu",
                    )
                finally:
                    quiet.setLevel(was)
                    logging.set_verbosity(level)
                    logging.enable_progress_bar()  # type: ignore[no-untyped-call]
                if self._trained:
                    from safetensors.torch import load

                    data = resources.files("assistant").joinpath("reader", WEIGHTS).read_bytes()
                    state = {k: v.to(torch.float32) for k, v in load(data).items()}
                    missing, unexpected = model.model.load_state_dict(state, strict=False)
                    if unexpected or any(not k.startswith("bert.embeddings.") for k in missing):
                        raise RuntimeError(f"{WEIGHTS} does not fit the packaged model")
                model.model.eval()
                self._model = model
        return self._model

    @property
    def network(self) -> Any:
        """The underlying transformers model (for training)."""
        return self._load().model

    def encode(self, questions: Sequence[str], sentences: Sequence[str]) -> Any:
        """Tokenised pairs, as the network takes them."""
        return self._load().tokenizer(
            list(questions),
            list(sentences),
            padding=True,
            truncation="longest_first",
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The probability that each sentence answers ``question``."""
        if not sentences:
            return np.zeros(0)
        import torch

        model = self._load()
        with torch.inference_mode():
            logits = model.model(**self.encode([question] * len(sentences), sentences)).logits
        return np.asarray(torch.sigmoid(logits.squeeze(-1)).float(), dtype=np.float64).reshape(-1)


class OnnxReader(runtime.Network):
    """The trained reader through ONNX Runtime (see ``runtime``), loaded without importing
    torch. Exported from :class:`Reader`'s network on first use. With ``quantized`` false,
    the same scores as :class:`Reader` to five decimals; with it true, its weights in int8:
    twice as fast on a CPU, with scores within about 0.1 of those (ONNX Runtime quantises
    each call's activations by their own range, so a sentence's score also moves by about
    0.01 with the sentences read beside it) and the same answers (docs/design.md, "The answer
    reader"); ``None``: int8 on a CPU, float32 on a GPU, which runs the full network fast.
    """

    def _prepare(self) -> tuple[Path, Any]:
        model = packaged_model_path()
        weights = resources.files("assistant").joinpath("reader", WEIGHTS).read_bytes()
        name = "reader-" + runtime.fingerprint(model / "model.safetensors", weights)
        path = runtime.exported(name, self._export, self.quantized)
        return path, runtime.tokenizer(model, MAX_TOKENS)

    @staticmethod
    def _export(path: Path) -> None:
        runtime.export_network(Reader().network, INPUTS, "logits", path)

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The probability that each sentence answers ``question``."""
        if not sentences:
            return np.zeros(0)
        session = self._load()
        encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
        logits = runtime.run(session, INPUTS, encodings).reshape(-1).astype(np.float64)
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))


@lru_cache(maxsize=3)
def default_reader(backend: Backend = "onnx") -> Scorer:
    """The shared trained reader through an embedding ``backend`` (``embedding.BACKENDS``):
    ONNX Runtime with int8 weights (``onnx``: on a CPU, see :class:`OnnxReader`;
    ``onnx-int8``: everywhere), or torch."""
    if backend == "torch":
        return Reader()
    return OnnxReader(quantized=True if backend == "onnx-int8" else None)
