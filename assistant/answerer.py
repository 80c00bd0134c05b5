"""Hits -> an extractive Answer whose every sentence is a verified citation.

Each sentence of the retrieved passages is a candidate. A logistic model, fitted on
SQuAD 2.0 by ``benchmarks/calibrate.py`` and stored in ``calibration.json``, turns its
features into the probability that the sentence answers the question; below the fitted
threshold the assistant abstains.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

import numpy as np
from wordfreq import zipf_frequency

from assistant.embedding import Embedder, Vectors
from assistant.records import Answer, Citation, Hit, Passage, Span
from assistant.retrieve import stem, words

FEATURES = (
    "dense",
    "clause",
    "overlap",
    "missing",
    "type_miss",
)
MAX_SENTENCES = 2
ABSTAIN_TEXT = "The articles don't say: none of the indexed articles answers this question."

_NUMBER = (
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozens?|"
    r"half)\b"
)
_UNIT = r"(?:second|minute|hour|day|night|week|month|year|decade|centur(?:y|ie))s?"
_MONTH = (
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
)
ANSWER_PATTERNS: dict[str, re.Pattern[str]] = {
    "number": re.compile(_NUMBER, re.I),
    "duration": re.compile(rf"(?:{_NUMBER})(?:\s+(?:to|or|-)\s+(?:{_NUMBER}))?\s+{_UNIT}", re.I),
    "date": re.compile(
        rf"{_MONTH}|\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:monday|tuesday|wednesday|thursday|"
        r"friday|saturday|sunday|yesterday|today|tomorrow|weekend)\b|\bcentury\b",
        re.I,
    ),
    "person": re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)+"),
    "place": re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*"),
    "reason": re.compile(
        r"\b(?:because|due to|in order to|so that|as a result|since|to (?:\w+ ){0,2}\w+)\b", re.I
    ),
}
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("duration", re.compile(r"\bhow long\b|\blength\b|\bduration\b|\blast(?:ing)?\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|old)\b|\bwhat (?:number|percentage|amount)", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich year\b", re.I)),
    ("person", re.compile(r"\bwho(?:m|se)?\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(?:what|which) (?:country|city|place|region)\b", re.I)),
    ("reason", re.compile(r"\bwhy\b", re.I)),
)


def question_type(question: str) -> str | None:
    """The kind of thing the question asks for (number, date, person, ...), if any."""
    for name, pattern in QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def has_answer_type(sentence: str, kind: str, question: str) -> bool:
    """Whether ``sentence`` holds a thing of ``kind`` that the question does not name."""
    asked = question.lower()
    return any(m.group().lower() not in asked for m in ANSWER_PATTERNS[kind].finditer(sentence))


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, with the features that score it."""

    hit: Hit
    span: Span
    text: str
    features: tuple[float, ...]


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over ``FEATURES`` and the probability below which to abstain."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    second_ratio: float = 0.8

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        raw = (
            path.read_text()
            if path
            else resources.files("assistant").joinpath("calibration.json").read_text()
        )
        data = json.loads(raw)
        weights = tuple(float(data["weights"][name]) for name in FEATURES)
        return cls(
            weights,
            float(data["bias"]),
            float(data["threshold"]),
            float(data.get("second_ratio", 0.8)),
        )

    def probability(self, features: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=1)
def default_calibration() -> Calibration:
    return Calibration.load()


def keywords(text: str) -> dict[str, float]:
    """Stemmed content words of ``text``, each weighted by how rare it is in English.

    The weights come from general word frequencies (wordfreq), not from the indexed
    corpus, so they mean the same on a one-article index as on a large one.
    """
    found: dict[str, float] = {}
    for word in words(text):
        key = stem(word)
        found[key] = max(found.get(key, 0.0), 8.0 - min(zipf_frequency(word, "en"), 7.5))
    return found


_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+(?=[(—–])")


def clauses(sentence: str) -> list[str]:
    """Windows of two consecutive clauses of a sentence (the whole sentence if it has one).

    A long news sentence often answers the question in one clause ("..., led by X, ...");
    comparing the question with each window finds it.
    """
    parts = [p for p in _CLAUSE_BREAK.split(sentence) if p.strip()]
    if len(parts) <= 2:
        return [sentence]
    return [" ".join(parts[i : i + 2]) for i in range(len(parts) - 1)]


def sentence_text(passage: Passage, span: Span) -> str:
    return passage.text[span.start - passage.start : span.end - passage.start]


def _sentences(hits: Sequence[Hit]) -> list[tuple[Hit, Span, str]]:
    """Each sentence of the hits once (headlines left out: they restate, not answer)."""
    seen: set[tuple[str, int]] = set()
    found = []
    for hit in hits:
        for span in hit.passage.sentences:
            text = sentence_text(hit.passage, span)
            if (hit.passage.article_id, span.start) not in seen and text != hit.title:
                seen.add((hit.passage.article_id, span.start))
                found.append((hit, span, text))
    return found


def _similarities(
    query: str, texts: Sequence[str], embedder: Embedder
) -> tuple[list[float], list[float]]:
    """Cosine of the query with each text, and with each text's best clause window."""
    windows = [clauses(text) for text in texts]
    flat = [w for group in windows for w in group]
    vectors: Vectors = embedder.embed([query, *texts, *flat])
    whole = vectors[1 : 1 + len(texts)] @ vectors[0]
    parts = vectors[1 + len(texts) :] @ vectors[0]
    bounds = np.cumsum([0, *(len(g) for g in windows)])
    best = [float(parts[a:b].max()) for a, b in pairwise(bounds)]
    return [float(v) for v in whole], best


def candidates(
    question: str, query: str, hits: Sequence[Hit], embedder: Embedder
) -> list[Candidate]:
    """Every sentence of ``hits`` with its features (see ``FEATURES``).

    ``query`` is what was searched for (the question, with earlier turns for a follow-up);
    word overlap is measured against the question itself when it has content words.
    """
    found = _sentences(hits)
    if not found:
        return []
    dense, best_clause = _similarities(query, [text for _, _, text in found], embedder)
    weight = keywords(question) or keywords(query)
    total = sum(weight.values()) or 1.0
    kind = question_type(question)
    in_passage = {h.passage.id: set(keywords(h.passage.text)) for h in hits}
    result = []
    for (hit, span, text), sim, clause in zip(found, dense, best_clause, strict=True):
        present = set(keywords(text))
        matched = kind is not None and has_answer_type(text, kind, question)
        features = (
            sim,
            clause,
            sum(w for t, w in weight.items() if t in present) / total,
            sum(w for t, w in weight.items() if t not in in_passage[hit.passage.id]) / total,
            1.0 if kind is not None and not matched else 0.0,
        )
        result.append(Candidate(hit, span, text, features))
    return result


def compose(
    question: str,
    scored: Sequence[tuple[Candidate, float]],
    calibration: Calibration,
    article_text: Callable[[str], str | None],
    related: Sequence[Hit] = (),
) -> Answer:
    """The answer from scored candidates: the best one or two sentences, or an abstention.

    A citation is only returned after ``article_text(id)[start:end] == quote`` is checked.
    """
    ranked = sorted(scored, key=lambda cs: -cs[1])
    best = ranked[0][1] if ranked else 0.0
    floor = max(calibration.threshold, calibration.second_ratio * best)
    chosen = [c for c, p in ranked[:MAX_SENTENCES] if p >= floor]
    chosen = [c for c in chosen if _verified(c, article_text)]
    if not chosen:
        return Answer(question, ABSTAIN_TEXT, True, (), tuple(related), best)
    first = chosen[0].hit.passage.article_id
    chosen.sort(key=lambda c: (c.hit.passage.article_id != first, c.span.start))
    citations = tuple(
        Citation(n, c.hit.passage.article_id, c.hit.title, c.span.start, c.span.end, c.text)
        for n, c in enumerate(chosen, 1)
    )
    text = " ".join(f"{c.quote} [{c.marker}]" for c in citations)
    return Answer(question, text, False, citations, (), best)


def _verified(c: Candidate, article_text: Callable[[str], str | None]) -> bool:
    full = article_text(c.hit.passage.article_id)
    return full is not None and full[c.span.start : c.span.end] == c.text and bool(c.text)


def score(candidates_: Sequence[Candidate], calibration: Calibration) -> list[float]:
    """The probability that each candidate answers the question."""
    return [calibration.probability(c.features) for c in candidates_]
