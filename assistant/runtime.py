"""ONNX Runtime copies of the networks, so that asking needs neither torch nor its import.

The packaged all-MiniLM-L6-v2 (the embedder), the answer reader and the sentence matcher's
all-mpnet-base-v2 (``matcher``) are exported to ONNX from
their own weights on first use, with ``torch.onnx``, and kept in the user's cache folder; no
file is downloaded. ``int8`` copies are the same export with its weights quantised per channel
by ONNX Runtime (dynamic quantisation): about 1.6 times as fast on a CPU, with vectors whose
cosine to the full-precision ones is about 0.99.

Each copy is named by a fingerprint of the files it was exported from, so new weights get a
new export (and the copies of the old ones are deleted), and two installs of the same weights
share one. It is written to a temporary file and renamed, so a crash leaves no half file.
A GPU is used when ONNX Runtime offers CUDA (the ``onnxruntime-gpu`` package).

Hand-written because what sentence-transformers offers for ONNX imports torch to run: the
whole point here is a query path that loads in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

FORMAT = 2
"""Bump when the export itself changes, so old copies are not reused."""
GPU_PROVIDER = "CUDAExecutionProvider"
SAMPLE = 1 << 20
"""Bytes read from each end of a file to fingerprint it."""
_lock = threading.RLock()


def cache_dir() -> Path:
    """Where the exported copies live: ``ASSISTANT_MODEL_CACHE`` or the user's cache folder."""
    given = os.environ.get("ASSISTANT_MODEL_CACHE")
    return Path(given) if given else platformdirs.user_cache_path("assistant") / "onnx"


def fingerprint(*sources: Path | bytes) -> str:
    """A short name for the exact inputs of an export: bytes, or files, each read by its size
    and its first and last megabyte (weights files differ there; reading 90 MB whole would
    cost every start). The same weights installed twice get the same name."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for source in sources:
        if isinstance(source, Path):
            size = source.stat().st_size
            digest.update(str(size).encode())
            with source.open("rb") as data:
                digest.update(data.read(SAMPLE))
                data.seek(max(size - SAMPLE, 0))
                digest.update(data.read(SAMPLE))
        else:
            digest.update(source)
    return digest.hexdigest()[:16]


def exported(name: str, export: Callable[[Path], None], quantized: bool = False) -> Path:
    """The cached ONNX file ``name`` (``-int8`` added when ``quantized``), made on first use.

    ``export(path)`` writes the full-precision model to ``path``; the int8 copy is made from
    the full-precision one.
    """
    folder = cache_dir()
    target = folder / f"{name}{'-int8' if quantized else ''}.onnx"
    if target.exists():
        return target
    with _lock:
        if target.exists():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        if quantized:
            source = exported(name, export)
            _atomic(target, lambda path: _quantize(source, path))
        else:
            _atomic(target, export)
            _forget_older(folder, name)
    return target


def _forget_older(folder: Path, name: str) -> None:
    """Delete the copies of earlier weights: ``kind-<other fingerprint>*.onnx``."""
    kind = name.rsplit("-", 1)[0]
    for old in folder.glob(f"{kind}-*.onnx"):
        if not old.name.startswith(name):
            old.unlink(missing_ok=True)


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".onnx")
    os.close(handle)
    scratch = Path(name)
    try:
        write(scratch)
        scratch.chmod(0o644)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process is for convolutional networks
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def export_network(network: Any, names: Sequence[str], output: str, path: Path) -> None:
    """Write a transformers ``network`` to ``path`` as ONNX; its inputs are ``names``
    (token ids, attention mask, token types), all of shape (batch, tokens), and its one
    output is the ``output`` field of what the network returns."""
    import torch

    # Written out as plain operations, attention runs faster in ONNX Runtime than the fused
    # scaled-dot-product kernel exports (about 1.6x here).
    network.set_attn_implementation("eager")

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return getattr(self.network(**dict(zip(names, inputs, strict=True))), output)  # type: ignore[no-any-return]

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on operators it rewrites
        torch.onnx.export(
            Wrapped().eval(),
            tuple(sample for _ in names),
            str(path),
            input_names=list(names),
            output_names=[output],
            dynamic_axes={**axes, output: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def tokenizer(model: Path, max_length: int, pad: str = "[PAD]") -> Any:
    """The fast tokenizer of the model folder ``model``: truncating to ``max_length`` tokens
    (the longer text of a pair first) and padding each batch to its longest text with the
    ``pad`` token."""
    from tokenizers import Tokenizer

    loaded = Tokenizer.from_file(str(model / "tokenizer.json"))
    loaded.enable_truncation(max_length=max_length, strategy="longest_first")
    loaded.enable_padding(pad_id=loaded.token_to_id(pad), pad_token=pad)
    return loaded


def providers() -> list[str]:
    """ONNX Runtime's execution providers to use: CUDA first when present, then the CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return (
        [GPU_PROVIDER, "CPUExecutionProvider"]
        if GPU_PROVIDER in available
        else ["CPUExecutionProvider"]
    )


def gpu() -> bool:
    """Whether ONNX Runtime offers a GPU here (see ``providers``)."""
    return providers()[0] == GPU_PROVIDER


def open_session(path: Path) -> Any:
    """An ONNX Runtime session over ``path``, on the GPU when there is one."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=providers())


def on_gpu(session: Any) -> bool:
    """Whether ``session`` runs on a GPU."""
    return GPU_PROVIDER in session.get_providers()


class Network:
    """A network run through ONNX Runtime with its tokenizer, exported and opened on first
    use; safe to share across threads. ``quantized``: int8 weights; ``None`` means int8 on a
    CPU and float32 on a GPU, which runs the full network fast. A subclass says where its
    export is and which tokenizer it reads with (``_prepare``)."""

    def __init__(self, quantized: bool | None = None) -> None:
        self._quantized = quantized
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def quantized(self) -> bool:
        """Whether the network's weights are int8 (see the class)."""
        return self._quantized if self._quantized is not None else not gpu()

    def load(self) -> None:
        """Load the network now rather than on the first call (exporting it if needed)."""
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                path, self._tokenizer = self._prepare()
                self._session = open_session(path)
            return self._session

    def _prepare(self) -> tuple[Path, Any]:
        """The exported ONNX file to open (made if needed) and the tokenizer."""
        raise NotImplementedError


def run(session: Any, names: Sequence[str], encodings: Sequence[Any]) -> np.ndarray:
    """Run ``session`` over tokenizer ``encodings`` padded to the same length; ``names`` are
    its inputs: token ids, attention mask and, when the network takes them, token types."""
    columns = (
        [e.ids for e in encodings],
        [e.attention_mask for e in encodings],
        [e.type_ids for e in encodings],
    )
    feeds = {
        name: np.array(column, dtype=np.int64)
        for name, column in zip(names, columns[: len(names)], strict=True)
    }
    return np.asarray(session.run(None, feeds)[0])
