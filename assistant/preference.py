"""Which answering sentence leads the reply, when the news calls for another than the best.

The answerer's choice model ranks the candidate sentences; among those that answer nearly as
well as the best (``good``), news asks for a different lead:

- a question about the current state ("latest", "so far", ...) gets the newest;
- when a newer article gives another figure for the same thing (a toll, a count, a price),
  the newest figure leads and the reply says as of when;
- "Who said ...?" gets an attributed sentence, and "What did X say ...?" one attributed to X.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant import dates, speakers
from assistant.lexical import stem, words

if TYPE_CHECKING:
    from assistant.answerer import Candidate

GOOD = 0.5
"""A sentence whose choice score is at least this share of the best one's answers too."""
LOOK = 8
"""How many of the best-ranked sentences are considered."""
RIVAL = 0.1
"""A sentence giving another figure for the same thing is weighed down to this share of the
best one's choice score (older and newer reports of a figure are worded alike, so the choice
model splits its preference between them)."""
SAME_THING = 0.2
"""Shared content words (Jaccard, numbers left out) from which two sentences speak of one thing."""

Said = Callable[[Sequence["Candidate"]], list[str | None]]
_QUANTITY = re.compile(r"(\d[\d,.]*\d|\d)\s*(%|[^\W\d_]+)")


@dataclass(frozen=True)
class Lead:
    """The sentence to lead with (its place in the ranking) and what to say before it."""

    index: int = 0
    prefix: str | None = None
    alone: bool = False
    """Cite this sentence only (a second one could contradict it)."""


def quantities(text: str) -> dict[str, frozenset[str]]:
    """The figures of ``text`` by the word that follows them ("1,200 acres" -> acre: {1200})."""
    found: dict[str, set[str]] = {}
    for number, unit in _QUANTITY.findall(text):
        found.setdefault(stem(unit.lower()), set()).add(number.replace(",", "").rstrip("."))
    return {unit: frozenset(numbers) for unit, numbers in found.items()}


def _rival(first: str, other: str) -> bool:
    """Whether ``other`` gives another figure for something ``first`` counts."""
    mine, theirs = quantities(first), quantities(other)
    shared = [u for u in mine if u in theirs]
    return (
        any(mine[u] != theirs[u] for u in shared)
        and not any(mine[u] & theirs[u] for u in shared)
        and _same_thing(first, other)
    )


def _topic(text: str) -> set[str]:
    return {stem(w) for w in words(text) if not any(ch.isdigit() for ch in w)}


def _same_thing(a: str, b: str) -> bool:
    ta, tb = _topic(a), _topic(b)
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= SAME_THING


def choose(
    question: str,
    ranked: Sequence[tuple[Candidate, float]],
    answers: Sequence[bool],
    day: Callable[[str], int],
    published: Callable[[str], str | None],
    said: Said,
) -> Lead:
    """The lead among ``ranked`` (best first; ``answers[i]``: whether sentence i passes the
    gate). ``day(article_id)`` is ``YYYYMMDD`` or ``dates.UNDATED``; ``published`` gives an
    article's date as stored; ``said`` the speakers of candidate sentences."""
    if not ranked:
        return Lead()
    best = ranked[0][1]
    good = [
        i
        for i, ((_, p), ok) in enumerate(zip(ranked[:LOOK], answers, strict=False))
        if ok and p >= GOOD * best
    ] or [0]
    asked = speakers.asked_speaker(question)
    if asked or speakers.asks_who_said(question):
        return _attributed(ranked, good, asked, said)

    def article(i: int) -> str:
        return ranked[i][0].hit.passage.article_id

    def as_of(i: int) -> str | None:
        stamp = published(article(i))
        return None if dates.parse(stamp) is None else f"As of {dates.label(stamp)}:"

    first = ranked[0][0].text
    rivals = [
        i
        for i, (c, p) in enumerate(ranked[1:LOOK], 1)
        if p >= RIVAL * best and day(article(i)) != day(article(0)) and _rival(first, c.text)
    ]
    if dates.asks_current(question):
        newest = max({0, *good, *rivals}, key=lambda i: (day(article(i)), -i))
        return Lead(newest, as_of(newest), alone=newest != 0 or bool(rivals))
    if not rivals:
        return Lead()
    newest = max([0, *rivals], key=lambda i: (day(article(i)), -i))
    return Lead(newest, as_of(newest), alone=True)


def _attributed(
    ranked: Sequence[tuple[Candidate, float]], good: list[int], asked: str | None, said: Said
) -> Lead:
    """The best good sentence attributed to ``asked`` (or to anyone, when ``None``)."""
    for i, who in zip(good, said([ranked[i][0] for i in good]), strict=True):
        if who and (asked is None or speakers.same_speaker(who, asked)):
            return Lead(i, alone=i != 0)
    return Lead()
