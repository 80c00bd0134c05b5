"""The short answer inside a cited sentence: the number, date, person, place or organisation
the question asks for (found by ``entities``), with its offsets in the article."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.answerer import keywords
from assistant.entities import ENTITY_LABELS, phrases_of
from assistant.lexical import stem
from assistant.patterns import WORD, answer_kind_phrase, counted, names, short_type
from assistant.records import Citation, Short

_ASKING = frozenset(
    stem(w) for w in ("what", "which", "when", "where", "who", "how", "many", "much")
)
_PREPOSITION = re.compile(r"\b(?:in|at|on|near|from|since|until|by|during)\s+(?:the\s+)?$", re.I)
"""A place or a date is usually introduced by a preposition ("met in Istanbul on June 2")."""


def _closest(
    sentence: str, spans: Sequence[tuple[int, int]], question: str, kind: str
) -> tuple[int, int]:
    """The span most likely to answer: one that names the kind asked for ("which university"
    -> "the University of Virginia"), for a place or date one a preposition introduces, then
    the one nearest to the words the sentence shares with the question."""
    asked = {stem(w) for w in WORD.findall(answer_kind_phrase(question).lower())} - _ASKING
    naming = [
        s for s in spans if asked & {stem(w.lower()) for w in WORD.findall(sentence[s[0] : s[1]])}
    ]
    spans = naming or spans
    if kind == "date" or "GPE" in ENTITY_LABELS[kind]:
        introduced = [s for s in spans if _PREPOSITION.search(sentence[: s[0]])]
        spans = introduced or spans
    wanted = set(keywords(question))
    anchors = [m.start() for m in WORD.finditer(sentence) if stem(m.group().lower()) in wanted]
    if not anchors:
        return spans[0]
    return min(spans, key=lambda s: min(min(abs(a - s[0]), abs(a - s[1])) for a in anchors))


def find(
    question: str,
    citations: Sequence[Citation],
    article_text: Callable[[str], str | None],
) -> Short | None:
    """The short answer to ``question`` in the first citation that holds one, or None.

    None when the question does not ask for a number, date, duration, person, place,
    organisation, title, event or product (``patterns.short_type``), or no cited sentence
    holds one that the question does not already name.
    """
    kind = short_type(question)
    if kind not in ENTITY_LABELS:
        return None
    for citation in citations:
        spans = [
            (a, b)
            for a, b in phrases_of([citation.quote], kind, counted(question))[0]
            if not names(citation.quote[a:b], question)
        ]
        if not spans:
            continue
        a, b = _closest(citation.quote, spans, question, kind)
        start, end = citation.start + a, citation.start + b
        full = article_text(citation.article_id)
        text = citation.quote[a:b]
        if full is not None and full[start:end] == text:
            return Short(text, citation.marker, start, end)
    return None
