"""Named entities and number phrases of sentences, by the kind of thing a question asks for.

Entities come from spaCy's small English pipeline (``en_core_web_sm``, installed from PyPI as
a package and loaded on first use); numbers and durations also by pattern, since a phrase
such as "two to three days" is what a "how long" question wants whole. Results are kept per
sentence, since the same sentences come back question after question.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from threading import Lock

from assistant import places
from assistant.lexical import stem
from assistant.nlp import parse
from assistant.patterns import ANSWER_PATTERNS, WORD

Span = tuple[int, int]
ENTITY_LABELS: dict[str, frozenset[str]] = {
    "number": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "duration": frozenset({"DATE", "TIME"}),
    "date": frozenset({"DATE", "TIME"}),
    "person": frozenset({"PERSON"}),
    "agent": frozenset({"PERSON", "ORG"}),
    "country": frozenset({"GPE"}),
    "state": frozenset({"GPE"}),
    "city": frozenset({"GPE"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "organisation": frozenset({"ORG"}),
    "work": frozenset({"WORK_OF_ART"}),
    "event": frozenset({"EVENT"}),
    "product": frozenset({"PRODUCT", "ORG"}),
}
"""The spaCy labels that answer each kind of question (the last three for short answers
alone: ``patterns.SHORT_TYPES``)."""
PATTERN_KINDS = ("number", "duration")
CACHE_SIZE = 20_000

_cache: OrderedDict[str, tuple[tuple[int, int, str], ...]] = OrderedDict()
_lock = Lock()


NER_ONLY = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
"""The components entities do not need: the entity recogniser has token vectors of its own,
so the shared ``tok2vec`` (the tagger's and parser's) is left out too, which makes finding
entities a third faster with the same entities."""


def _entities(texts: Sequence[str]) -> list[tuple[tuple[int, int, str], ...]]:
    """``(start, end, label)`` of every entity of each text, from the cache when seen."""
    with _lock:
        known = {t: _cache[t] for t in texts if t in _cache}
    new = list(dict.fromkeys(t for t in texts if t not in known))
    if new:
        with _lock:
            docs = parse(new, disable=NER_ONLY)
            for text, doc in zip(new, docs, strict=True):
                found = tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)
                known[text] = _cache[text] = found
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return [known[t] for t in texts]


def phrases_of(texts: Sequence[str], kind: str, counting: Sequence[str] = ()) -> list[list[Span]]:
    """For each text, the spans that are a thing of ``kind``, in order. With ``counting`` (the
    words of what a "how many" question counts), only the numbers of it ("6,300 acres" for
    "acres", not "90 percent") when any of the texts counts it; otherwise every number, since
    the question may name it in other words ("bodies" for "soldiers' remains").

    A span inside a longer one of the same kind is left out (it is the same thing, partly).
    """
    labels = ENTITY_LABELS[kind]
    counted = frozenset(stem(w) for w in counting)
    result = []
    for text, found in zip(texts, _entities(texts), strict=True):
        spans = {
            (a, b)
            for a, b in (
                _unquoted(text, *_unpossessed(text, a, b))
                for a, b, label in found
                if label in labels
            )
            if places.fits(kind, text[a:b])
        }
        if kind in PATTERN_KINDS:
            spans |= {m.span() for m in ANSWER_PATTERNS[kind].finditer(text)}
        if kind == "duration":
            spans = {s for s in spans if ANSWER_PATTERNS["duration"].search(text[s[0] : s[1]])}
        kept = [
            s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)
        ]
        result.append(sorted(kept))
    if counted:
        of_it = [
            [s for s in spans if _counts(text, s, counted)]
            for text, spans in zip(texts, result, strict=True)
        ]
        if any(of_it):
            return of_it
    return result


COUNT_WINDOW = 3
"""How many words after a number may come before the thing it counts ("6,000 fallen soldiers")."""


def _counts(text: str, span: Span, counted: frozenset[str]) -> bool:
    """Whether the number at ``span`` counts one of ``counted`` (stems): in the span ("6,300
    acres") or within ``COUNT_WINDOW`` words after it."""
    inside = WORD.findall(text[span[0] : span[1]])
    after = WORD.findall(text[span[1] :])[:COUNT_WINDOW]
    return any(stem(w.lower()) in counted for w in inside + after)


_POSSESSIVE = ("'s", "’s")


def _unpossessed(text: str, start: int, end: int) -> Span:
    """The span without a possessive ending ("Virginia's" -> "Virginia"), which the tagger
    sometimes takes into a name."""
    return (start, end - 2) if text[start:end].endswith(_POSSESSIVE) else (start, end)


_QUOTES = "\"'“”‘’«»"


def _unquoted(text: str, start: int, end: int) -> Span:
    """The span without quotation marks at either end (the recogniser takes the opening one
    of a title into the name: '"Squid Game')."""
    while start < end and text[start] in _QUOTES:
        start += 1
    while end > start and text[end - 1] in _QUOTES:
        end -= 1
    return start, end


NAME_LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
)
"""Entity kinds that name someone or something (not a date, a number or an amount)."""


def named(text: str) -> list[tuple[str, str]]:
    """The names in ``text`` (``NAME_LABELS``), each as ``(name, label)``, in order, without
    a possessive ending or quotation marks."""
    found = []
    for a, b, label in _entities([text])[0]:
        if label in NAME_LABELS:
            start, end = _unquoted(text, *_unpossessed(text, a, b))
            found.append((text[start:end], label))
    return found


def phrases(text: str, kind: str) -> list[Span]:
    """The spans of ``text`` that are a thing of ``kind`` (see :func:`phrases_of`)."""
    return phrases_of([text], kind)[0]


FACT_LABELS = frozenset(
    {
        "PERSON",
        "NORP",
        "FAC",
        "ORG",
        "GPE",
        "LOC",
        "PRODUCT",
        "EVENT",
        "WORK_OF_ART",
        "LAW",
        "DATE",
        "TIME",
        "PERCENT",
        "MONEY",
        "QUANTITY",
        "ORDINAL",
        "CARDINAL",
    }
)
"""Entity kinds a claim must not change: names, dates and numbers."""
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def facts(text: str) -> list[str]:
    """The names, dates and numbers stated in ``text`` (entities, and every written number)."""
    return [fact for fact, _, _ in labelled_facts(text)]


def labelled_facts(text: str) -> list[tuple[str, str, int]]:
    """``facts`` with spaCy's label of each ("GPE", "DATE", ...; "NUMBER" for written digits)
    and where it starts in ``text``."""
    found = [(text[a:b], label, a) for a, b, label in _entities([text])[0] if label in FACT_LABELS]
    return found + [(m.group(), "NUMBER", m.start()) for m in _DIGITS.finditer(text)]
