"""Retrieved passages -> a timeline: dated events about a query, oldest first.

Every sentence of the retrieved passages from a dated article is a candidate, scored by the
cosine of its embedding with the query's. The most relevant are kept, near-identical ones
(the same development told by several articles, or by one article twice) merged into one
event dated by its first report, and the events sorted by date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant import dates, wire
from assistant.embedding import Embedder
from assistant.records import Article, Event, Hit

RELATIVE = 0.6
"""A sentence is relevant when its cosine with the query is at least this share of the best."""
FLOOR = 0.2
"""... and at least this cosine."""
SAME_EVENT = 0.85
"""The cosine from which two sentences tell the same development."""


@dataclass
class _Told:
    """One development and every sentence that tells it."""

    relevance: float
    vector: np.ndarray
    events: list[Event] = field(default_factory=list)


def events(
    query: str,
    hits: Sequence[Hit],
    embedder: Embedder,
    article: Callable[[str], Article | None],
    k: int,
) -> list[Event]:
    """At most ``k`` dated events about ``query`` from ``hits``, oldest first."""
    found = _sentences(hits, article)
    if not found:
        return []
    vectors = embedder.embed([query, *(e.quote for e in found)])
    relevance = vectors[1:] @ vectors[0]
    floor = max(FLOOR, RELATIVE * float(relevance.max()))
    told: list[_Told] = []
    for i in np.argsort(-relevance, kind="stable"):
        if relevance[i] < floor:
            break
        event, vector = found[i], vectors[1 + i]
        same = next((t for t in told if _same(t, event, vector)), None)
        if same is not None:
            same.events.append(event)
        elif len(told) < k:
            told.append(_Told(float(relevance[i]), vector, [event]))
    return sorted((_first(t) for t in told), key=lambda e: (e.date, e.article_id, e.start))


def _sentences(hits: Sequence[Hit], article: Callable[[str], Article | None]) -> list[Event]:
    """Each sentence of the hits once, as an event, when its article is dated and the
    sentence reads back from the stored article."""
    seen: set[tuple[str, int]] = set()
    found = []
    for hit in hits:
        stored = article(hit.passage.article_id)
        day = dates.parse(stored.published) if stored else None
        if stored is None or day is None:
            continue
        for span in hit.passage.sentences:
            quote = stored.text[span.start : span.end]
            if (stored.id, span.start) in seen or not quote.strip() or quote == stored.title:
                continue
            seen.add((stored.id, span.start))
            found.append(
                Event(day.isoformat(), stored.id, stored.title, quote, span.start, span.end)
            )
    return found


def _same(told: _Told, event: Event, vector: np.ndarray) -> bool:
    return float(told.vector @ vector) >= SAME_EVENT or any(
        wire.similar(e.quote, event.quote) for e in told.events
    )


def _first(told: _Told) -> Event:
    """The development's first report, naming the other articles that tell it."""
    ordered = sorted(told.events, key=lambda e: (e.date, e.article_id, e.start))
    head = ordered[0]
    others = sorted({e.article_id for e in ordered[1:]} - {head.article_id})
    return Event(
        head.date, head.article_id, head.title, head.quote, head.start, head.end, tuple(others)
    )
