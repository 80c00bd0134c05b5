"""Sentence and clause vectors pooled from a passage's own encoding.

The answerer compares the question with every sentence it reads, with each window of two
clauses of it, and with it read after the sentence before. Rather than encode those texts
again for every question, the passage is encoded once, and each *part* of it (a clause of
one sentence) keeps the mean of its tokens' output vectors and how many tokens it has. A
sentence, a clause window or two sentences together are then the token-weighted mean of
their parts, normalised: the mean pooling the model was trained with, over tokens that saw
the whole passage ("late chunking"). Ingest computes the parts in the same pass as the
passage vector and stores them; a passage stored without them is encoded when read.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from itertools import pairwise
from threading import Lock
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.records import Passage

_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+(?=[(—–])")

FORMAT = b"\x01"
"""The first byte of stored parts; parts stored in another format are computed again."""
Layout = tuple[tuple[int, int, int], ...]
"""The parts of a passage: (sentence number, start, end), offsets in the passage's text."""


def layout(passage: Passage) -> Layout:
    """The clauses of each sentence of ``passage``, in order, as spans of its text."""
    found = []
    for n, span in enumerate(passage.sentences):
        start, end = span.start - passage.start, span.end - passage.start
        text = passage.text[start:end]
        cursor = 0
        for brk in [*_CLAUSE_BREAK.finditer(text), None]:
            stop = brk.start() if brk else len(text)
            if text[cursor:stop].strip():
                found.append((n, start + cursor, start + stop))
            cursor = brk.end() if brk else cursor
    return tuple(found)


@dataclass(frozen=True)
class Parts:
    """The parts of one passage: each one's mean token vector and token count."""

    means: npt.NDArray[np.float16]
    counts: npt.NDArray[np.int32]

    def to_bytes(self) -> bytes:
        """A format byte, the counts, then each mean as int8 with its own float32 scale:
        about 0.4 KB a part."""
        means = self.means.astype(np.float32)
        scales = np.maximum(np.abs(means).max(axis=1), 1e-12) / 127.0
        levels = np.rint(means / scales[:, None]).astype("<i1")
        columns = (np.asarray(self.counts, "<i4"), np.asarray(scales, "<f4"), levels)
        return FORMAT + b"".join(column.tobytes() for column in columns)

    @classmethod
    def from_bytes(cls, data: bytes, dimension: int) -> Parts:
        """The parts ``to_bytes`` wrote.

        Raises:
            ValueError: ``data`` is not parts of ``dimension``-wide vectors in this format.
        """
        n, left = divmod(len(data) - len(FORMAT), 8 + dimension)
        if not data.startswith(FORMAT) or left:
            raise ValueError("not parts in this format")
        body = data[len(FORMAT) :]
        counts = np.frombuffer(body[: 4 * n], "<i4")
        scales = np.frombuffer(body[4 * n : 8 * n], "<f4")
        levels = np.frombuffer(body[8 * n :], "<i1").reshape(n, dimension)
        return cls((levels * scales[:, None]).astype(np.float16), counts)

    def sums(self) -> npt.NDArray[np.float32]:
        return self.means.astype(np.float32) * self.counts[:, None].astype(np.float32)


def membership(
    offsets: Sequence[Sequence[tuple[int, int]]],
    special: Sequence[Sequence[int]],
    mask: npt.NDArray[Any],
    layouts: Sequence[Layout],
) -> npt.NDArray[np.float32]:
    """Which tokens make each part: texts x parts x tokens, 1 where a token (not special,
    not padding) starts inside the part; the parts padded to the most any text has. From the
    tokens' character ``offsets``, which are ``special`` and the attention ``mask``."""
    most = max((len(spans) for spans in layouts), default=0)
    member = np.zeros((len(layouts), most, mask.shape[1]), dtype=np.float32)
    for row, spans in enumerate(layouts):
        if not spans:
            continue
        starts = np.array([a for a, _ in offsets[row]])[None, :]
        usable = (mask[row] > 0) & (np.asarray(special[row]) == 0)
        begin = np.array([a for _, a, _ in spans])[:, None]
        end = np.array([b for _, _, b in spans])[:, None]
        member[row, : len(spans)] = usable & (starts >= begin) & (starts < end)
    return member


def gather(
    sums: npt.NDArray[Any], member: npt.NDArray[np.float32], layouts: Sequence[Layout]
) -> list[Parts]:
    """Each text's parts from the sums of their tokens' vectors (texts x parts x dimension,
    ``membership`` times the model's output) and ``member`` itself."""
    counts = member.sum(axis=2).astype(np.int32)
    found = []
    for row, spans in enumerate(layouts):
        n = len(spans)
        mine = counts[row, :n]
        means = sums[row, :n] / np.maximum(mine, 1)[:, None]
        found.append(Parts(means.astype(np.float16), mine.copy()))
    return found


def pool(
    tokens: npt.NDArray[Any],
    offsets: Sequence[Sequence[tuple[int, int]]],
    special: Sequence[Sequence[int]],
    mask: npt.NDArray[Any],
    layouts: Sequence[Layout],
) -> list[Parts]:
    """Each text's parts from the model's output ``tokens`` (texts x tokens x dimension),
    the tokens' character ``offsets``, which are ``special`` and the attention ``mask``."""
    member = membership(offsets, special, mask, layouts)
    return gather(np.matmul(member, tokens.astype(np.float32, copy=False)), member, layouts)


def _unit(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    unit: npt.NDArray[np.float32] = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return unit


@dataclass(frozen=True)
class SentenceVectors:
    """Unit vectors for each sentence of a passage: alone, each clause window, and read
    after the sentence before it (None for the first)."""

    whole: list[npt.NDArray[np.float32]]
    windows: list[npt.NDArray[np.float32]]
    after_before: list[npt.NDArray[np.float32] | None]


def sentence_vectors(passage: Passage, parts: Parts) -> SentenceVectors:
    """The vectors the answerer compares with the question, from the passage's parts."""
    spans = layout(passage)
    sums = parts.sums()
    counts = parts.counts
    per: list[list[int]] = [[] for _ in passage.sentences]
    for k, (n, _, _) in enumerate(spans):
        if counts[k]:
            per[n].append(k)
    whole, windows, joined = [], [], []
    dim = sums.shape[1] if len(sums) else 0
    previous: npt.NDArray[np.float32] | None = None
    for ks in per:
        total = sums[ks].sum(axis=0) if ks else np.zeros(dim, dtype=np.float32)
        whole.append(_unit(total))
        if len(ks) <= 2:
            windows.append(_unit(total)[None, :])
        else:
            windows.append(_unit(np.stack([sums[a] + sums[b] for a, b in pairwise(ks)])))
        joined.append(None if previous is None else _unit(previous + total))
        previous = total
    return SentenceVectors(whole, windows, joined)


def encode(
    passages: Sequence[Passage], embedder: Any
) -> tuple[npt.NDArray[np.float32], list[Parts]]:
    """The passages' vectors and their parts, from one pass of the model when ``embedder``
    can (``embed_parts``: both backends of the packaged model); else each part is embedded
    alone (a test's stand-in model)."""
    inner = getattr(embedder, "inner", embedder)
    if hasattr(inner, "embed_parts"):
        vectors, found = inner.embed_parts(passages)
        return vectors, list(found)
    found = []
    for passage in passages:
        texts = [passage.text[a:b] for _, a, b in layout(passage)]
        alone = embedder.embed(texts) if texts else np.zeros((0, embedder.dimension))
        counts = np.array([max(1, len(t.split())) for t in texts], dtype=np.int32)
        found.append(Parts(np.asarray(alone, dtype=np.float16), counts))
    return embedder.embed([p.text for p in passages]), found


class Cache:
    """Parts read from the index (``stored``) or computed, the last ``size`` kept in memory.

    Passage ids name their text (``<content hash>:<n>``), so a kept entry never goes stale.
    """

    def __init__(
        self,
        stored: Callable[[Sequence[str]], dict[str, bytes]],
        embedder: Any,
        size: int = 4096,
    ) -> None:
        self._stored = stored
        self._embedder = embedder
        self._size = size
        self._kept: OrderedDict[str, Parts] = OrderedDict()
        self._lock = Lock()

    def __call__(self, passages: Sequence[Passage]) -> list[Parts]:
        with self._lock:
            known = {p.id: self._kept[p.id] for p in passages if p.id in self._kept}
        missing = [p for p in passages if p.id not in known]
        if missing:
            stored = self._stored([p.id for p in missing])
            dimension = self._embedder.dimension
            for p in missing:
                if p.id in stored:
                    with suppress(ValueError):  # another format: computed below
                        found = Parts.from_bytes(stored[p.id], dimension)
                        if len(found.counts) == len(layout(p)):
                            known[p.id] = found
            computed = [p for p in missing if p.id not in known]
            if computed:
                fresh = encode(computed, self._embedder)[1]
                known.update(zip((p.id for p in computed), fresh, strict=True))
            with self._lock:
                for p in missing:
                    self._kept[p.id] = known[p.id]
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return [known[p.id] for p in passages]
