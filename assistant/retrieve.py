"""Question -> ranked passages: dense (Chroma) and lexical (BM25) rankings, fused."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from threading import RLock
from typing import Any

import bm25s
import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from assistant import dates, wire
from assistant.dates import AgeOf
from assistant.embedding import Embedder
from assistant.index import Index
from assistant.lexical import terms
from assistant.records import Hit, Passage

RRF_K = 60
RECENCY_WEIGHT = 0.5
RECENCY_HALF_LIFE = 14
"""A passage's fused score counts ``1 - RECENCY_WEIGHT`` plus ``RECENCY_WEIGHT`` halved for
every ``RECENCY_HALF_LIFE`` days its article is older than the day asked (see ``search``)."""


class LexicalIndex:
    """BM25 over passages, plus the document frequencies that weight words."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        tokenised = terms([p.text for p in self.passages]) if self.passages else []
        self._bm25 = bm25s.BM25()
        if self.passages:
            self._bm25.index(tokenised, show_progress=False)

    def search(
        self, query: str, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[Passage, float]]:
        """The ``k`` best BM25 matches with a positive score, best first; ``allowed`` (one
        flag per passage, in ``passages`` order) leaves out the others."""
        if not self.passages:
            return []
        tokens = terms([query])
        if not tokens[0]:
            return []
        mask = None if allowed is None else allowed.astype(np.float32)
        docs, scores = self._bm25.retrieve(
            tokens, k=min(k, len(self.passages)), show_progress=False, weight_mask=mask
        )
        return [
            (self.passages[int(d)], float(s))
            for d, s in zip(docs[0], scores[0], strict=True)
            if s > 0
        ]


class HybridRetriever(BaseRetriever):
    """A LangChain retriever fusing Chroma's dense ranking with BM25 by reciprocal rank."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    embedder: Embedder
    k: int = 5
    candidates: int = 20
    only: frozenset[str] | None = None
    """Search only these articles' passages (``None``: all), e.g. one story's sources."""
    _lexical: LexicalIndex | None = PrivateAttr(default=None)
    _passage_days: np.ndarray = PrivateAttr(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _revision: object = PrivateAttr(default=None)
    _titles: dict[str, str] = PrivateAttr(default_factory=dict)
    _days: dict[str, int] = PrivateAttr(default_factory=dict)
    _newest: int = PrivateAttr(default=dates.UNDATED)
    _lock: Any = PrivateAttr(default_factory=RLock)

    def _refresh(self) -> None:
        """Titles and days of the articles, read again when the Chroma index has changed."""
        revision = self.index.revision()
        with self._lock:
            if revision != self._revision:
                self._titles, self._days = self.index.titles_and_days()
                self._newest = max(self._days.values(), default=dates.UNDATED)
                self._lexical = None
                self._revision = revision

    def lexical(self) -> LexicalIndex:
        """BM25 in memory over every passage, for an index without a lexical store (a Chroma
        server): built on first use, rebuilt when the index has changed."""
        return self._in_memory()[0]

    def _in_memory(self) -> tuple[LexicalIndex, np.ndarray]:
        """The in-memory BM25 and its passages' days, built by one thread while the others
        asking wait for it."""
        self._refresh()
        with self._lock:
            if self._lexical is None:
                self._lexical = LexicalIndex(self.index.passages())
                self._passage_days = np.array(
                    [self._days.get(p.article_id, 0) for p in self._lexical.passages],
                    dtype=np.int64,
                )
            return self._lexical, self._passage_days

    def days(self) -> dict[str, int]:
        """Article id -> publication day (``YYYYMMDD``, 0 when undated)."""
        self._refresh()
        return self._days

    def ages(self, as_of: int | None = None) -> AgeOf:
        """Each article's age in days on the day asked: ``as_of`` (``YYYYMMDD``), or without
        it the newest article's day (the index's "now"); ``None`` when either is undated."""
        self._refresh()
        asked, days = as_of or self._newest, self._days
        return lambda article_id: dates.age(asked, days.get(article_id, dates.UNDATED))

    def _words(self, query: str, as_of: int | None) -> list[tuple[Passage, float]]:
        """The BM25 ranking: from the index's lexical store, or in memory without one."""
        stored = self.index.lexical_search(terms([query])[0], self.candidates, as_of, self.only)
        if stored is not None:
            return stored
        lexical_index, passage_days = self._in_memory()
        allowed = None if as_of is None else passage_days <= as_of
        if self.only is not None:
            mine = np.array([p.article_id in self.only for p in lexical_index.passages])
            allowed = mine if allowed is None else allowed & mine
        return lexical_index.search(query, self.candidates, allowed)

    def search(
        self, query: str, k: int | None = None, as_of: int | None = None, recent: bool = True
    ) -> list[Hit]:
        """The best ``k`` passages for ``query``, each with its cosine similarity; with
        ``as_of`` (``YYYYMMDD``) only those of articles published by then, or undated.
        Copies of one text in several articles (wire copies) count once: the best ranked.

        With ``recent``, newer articles rank higher: a question about the news is mostly
        about the latest, and a search for it also finds last year's story on the same
        subject. Each fused score is weighted by the ``freshness`` of its article's age
        (``ages``); undated articles keep theirs.
        """
        k = k or self.k
        vector = self.embedder.embed([query])[0]
        dense = self.index.query(vector, self.candidates, as_of, self.only)
        self._refresh()
        lexical = self._words(query, as_of)
        fused: dict[str, float] = {}
        passages: dict[str, Passage] = {}
        similarity = {h.passage.id: h.similarity for h in dense}
        for ranking in ([h.passage for h in dense], [p for p, _ in lexical]):
            for rank, passage in enumerate(ranking):
                fused[passage.id] = fused.get(passage.id, 0.0) + 1.0 / (RRF_K + rank + 1)
                passages[passage.id] = passage
        if recent:
            age_of = self.ages(as_of)
            for pid in fused:
                fused[pid] *= freshness(age_of(passages[pid].article_id))
        ranked = sorted(fused, key=lambda pid: (-fused[pid], pid))
        best = _distinct([passages[pid] for pid in ranked], k)
        missing = [pid for pid in best if pid not in similarity]
        for pid, vec in self.index.vectors(missing).items():
            similarity[pid] = float(np.dot(vec, vector))
        return [
            Hit(
                passage=passages[pid],
                similarity=similarity.get(pid, 0.0),
                score=fused[pid],
                title=self._titles.get(passages[pid].article_id, ""),
            )
            for pid in best
        ]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [to_document(hit) for hit in self.search(query)]


def freshness(age: int | None) -> float:
    """The weight of an article ``age`` days old on the day asked: 1 on the day (or later),
    falling to ``1 - RECENCY_WEIGHT`` for old news; 1 when undated (``None``)."""
    if age is None:
        return 1.0
    decay: float = 0.5 ** (max(age, 0) / RECENCY_HALF_LIFE)
    return 1.0 - RECENCY_WEIGHT + RECENCY_WEIGHT * decay


def _distinct(ranked: Sequence[Passage], k: int) -> list[str]:
    """The ids of the first ``k`` passages, skipping copies of a passage already taken
    from another article."""
    kept: list[Passage] = []
    for passage in ranked:
        if len(kept) == k:
            break
        if not any(
            p.article_id != passage.article_id and wire.similar(p.text, passage.text) for p in kept
        ):
            kept.append(passage)
    return [p.id for p in kept]


def to_document(hit: Hit) -> Document:
    """A hit as a LangChain ``Document`` (the passage text, its ids and scores)."""
    p = hit.passage
    return Document(
        page_content=p.text,
        id=p.id,
        metadata={
            "article_id": p.article_id,
            "title": hit.title,
            "start": p.start,
            "end": p.end,
            "similarity": hit.similarity,
            "score": hit.score,
        },
    )


_ANAPHORA = re.compile(
    r"\b(?:he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those|"
    r"there|then|the same|also|else|other|others)\b",
    re.I,
)
_MARKER = re.compile(r"\s*\[\d+\]")


def contextualise(question: str, history: Sequence[Mapping[str, str]] | None) -> str:
    """The text to search for: the question, preceded by the previous turn when it is a
    follow-up (it refers back with a pronoun, or is too short to stand alone)."""
    if not history:
        return question
    follow_up = _ANAPHORA.search(question) or len(question.split()) <= 4
    if not follow_up:
        return question
    previous = [_MARKER.sub("", turn["content"]) for turn in history[-2:] if turn.get("content")]
    return " ".join([*previous, question])


def reading(question: str, history: Sequence[Mapping[str, str]] | None) -> str:
    """The text the answerer weighs a follow-up's sentences against: the question after the
    user's previous question, without the assistant's reply. The reply's words still steer the
    search (``contextualise``), but a sentence it quoted would match them and be answered
    again, where a follow-up asks for something new."""
    asked = [turn for turn in history or [] if turn.get("role") == "user"]
    return contextualise(question, asked[-1:])
