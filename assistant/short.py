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


_TITLE = re.compile(
    r"^\W{0,2}(?:Rep|Sen|Gov|Lt|Gen|Col|Sgt|Capt|Amb|Atty|Dr|Rev)\b\.?"
    r"|^\s+(?:Rep|Sen|Gov|President|Prime|Minister|Senator|Representative|Governor|Ambassador"
    r"|Secretary|official|officials|lawmaker|lawmakers|diplomat|envoy|embassy|forces|troops"
    r"|team|player|athlete|company|firm|government|Department|Army|Navy)\b"
)
"""What follows a place that only describes someone ("U.S. Rep. Michael Baumgartner", "Russian
officials"): such a place is a modifier, not where something happened."""
_CLAUSE = re.compile(r"[;:—–]|,\s+(?:while|but|after|before|although|whereas|and|who|which)\b|\.\s")


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """The clauses of ``sentence`` as spans (cut at semicolons, colons, dashes, and commas
    before a conjunction or a relative pronoun)."""
    cuts = [(m.start(), m.end()) for m in _CLAUSE.finditer(sentence)]
    starts = [0] + [b for _, b in cuts]
    ends = [a for a, _ in cuts] + [len(sentence)]
    return list(zip(starts, ends, strict=True))


def _answers(sentence: str, span: tuple[int, int], question: str, kind: str) -> bool:
    """Whether the phrase at ``span`` answers ``question`` in its own right: a place is not
    a modifier of a title ("U.S. Rep."), and when clauses of the sentence share content words
    with the question, the phrase's clause shares the most (a name in a clause about
    something else answers something else)."""
    if "GPE" in ENTITY_LABELS[kind] and _TITLE.match(sentence[span[1] :]):
        return False
    wanted = keywords(question)
    shared = {
        (a, b): sum(wanted.get(k, 0.0) for k in keywords(sentence[a:b]))
        for a, b in _clauses(sentence)
    }
    most = max(shared.values(), default=0.0)
    return most == 0.0 or any(
        a <= span[0] and span[1] <= b and score == most for (a, b), score in shared.items()
    )


def find(
    question: str,
    citations: Sequence[Citation],
    article_text: Callable[[str], str | None],
) -> Short | None:
    """The short answer to ``question`` in the first citation that holds one, or None.

    None when the question does not ask for a number, date, duration, person, place,
    organisation, title, event or product (``patterns.short_type``), or no cited sentence
    holds one that the question does not already name and that answers in its own clause
    (``_answers``).
    """
    kind = short_type(question)
    if kind not in ENTITY_LABELS:
        return None
    for citation in citations:
        spans = [
            (a, b)
            for a, b in phrases_of([citation.quote], kind, counted(question))[0]
            if not names(citation.quote[a:b], question)
            and _answers(citation.quote, (a, b), question, kind)
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
