"""A generated reply -> only the sentences that the sources they cite support.

A sentence is kept when it cites at least one of the sources the model was given, every
name, number and date in it appears in what it cites, and its embedding is close enough to
one cited sentence (``support_floor``, fitted by ``benchmarks/support_floor.py``). The rest
are removed and reported, never shown as cited facts. Markers are renumbered to the
citations that remain, so every ``[n]`` names one of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from assistant.chunking import split_sentences
from assistant.entities import facts
from assistant.generate import NOT_IN_SOURCES, Source
from assistant.patterns import fold
from assistant.records import Citation

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+(?:\s*[.!?](?=\s|$))?")
_NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        re.findall(
            r"\w+",
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty",
        )
    )
}
_FILLER = frozenset({"the", "a", "an", "of", "and", "on", "in", "at", "s", "to", "by", "for"})
Embed = Callable[[Sequence[str]], np.ndarray]


@lru_cache(maxsize=1)
def support_floor() -> float:
    """The fitted similarity floor (``assistant/verification.json``)."""
    raw = resources.files("assistant").joinpath("verification.json").read_text()
    return float(json.loads(raw)["support_floor"])


@dataclass(frozen=True)
class Checked:
    """What survives verification: the text with renumbered markers and its citations."""

    text: str
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]
    declined: bool = False


def declined(reply: str) -> bool:
    """Whether the model said the sources do not answer."""
    return fold(NOT_IN_SOURCES) in fold(reply)[: len(NOT_IN_SOURCES) + 20]


def sentences(reply: str) -> list[str]:
    """The reply's sentences; markers written after a sentence's full stop ("... days. [1]")
    stay with that sentence, not the next one."""
    found: list[str] = []
    for span in split_sentences(reply):
        piece = reply[span.start : span.end]
        lead = _LEADING_MARKERS.match(piece)
        if found and lead:
            found[-1] += " " + lead.group().strip()
            piece = piece[lead.end() :].strip()
        if piece:
            found.append(piece)
    return found


def markers(sentence: str) -> list[int]:
    """The source numbers a sentence cites, in order, each once."""
    numbers = (int(n) for group in _MARKERS.findall(sentence) for n in group.split(","))
    return list(dict.fromkeys(numbers))


def claim(sentence: str) -> str:
    """The sentence without its markers."""
    text = _MARKERS.sub("", sentence)
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split())).strip()


def _tokens(text: str) -> set[str]:
    return {_NUMBER_WORDS.get(t, t) for t in fold(text).split()} - _FILLER


def unsupported_facts(sentence: str, evidence: str) -> list[str]:
    """The names, numbers and dates of ``sentence`` that ``evidence`` does not contain."""
    have = _tokens(evidence)
    return [f for f in facts(sentence) if not _tokens(f) <= have]


def check(reply: str, sources: Sequence[Source], embed: Embed, floor: float) -> Checked:
    """Keep the sentences of ``reply`` that their cited sources support."""
    if declined(reply):
        return Checked("", (), (), declined=True)
    by_number = {s.number: s for s in sources}
    kept: list[tuple[str, list[Source]]] = []
    dropped: list[str] = []
    pieces = [(p, claim(p)) for p in sentences(reply)]
    claims = [c for _, c in pieces if c]
    vectors = dict(zip(claims, embed(claims), strict=True)) if claims else {}
    for piece, text in pieces:
        if not text:
            continue
        cited = [by_number[n] for n in markers(piece) if n in by_number]
        if cited and _supported(text, cited, vectors[text], embed, floor) and _counted(text, cited):
            # a marker stays only on a source whose own sentence states the sentence's facts,
            # unless it takes them together
            alone = [s for s in cited if _states(text, s)]
            kept.append((text, alone or cited))
        else:
            dropped.append(text)
    return _renumber(kept, tuple(dropped))


def _supported(
    text: str, cited: Sequence[Source], vector: np.ndarray, embed: Embed, floor: float
) -> bool:
    evidence = " ".join(
        f"{s.candidate.hit.title} {s.context} {s.candidate.text} {s.published or ''}" for s in cited
    )
    if unsupported_facts(text, evidence):
        return False
    cited_vectors = embed([s.candidate.text for s in cited])
    return float(np.max(cited_vectors @ vector)) >= floor


def _counted(text: str, cited: Sequence[Source]) -> bool:
    """Whether the cited sentences themselves hold the numbers, dates and amounts of
    ``text``: a name may come from the passage around a cited sentence ("he" named before),
    a figure must be in what is cited."""
    own = " ".join(f"{s.candidate.hit.title} {s.candidate.text}" for s in cited)
    return all(
        f[:1].isupper() and not any(ch.isdigit() for ch in f) for f in unsupported_facts(text, own)
    )


def _states(text: str, source: Source) -> bool:
    """Whether the cited sentence itself (with its title) holds every name, date and number
    of ``text``: its passage around it may hold them without it saying them."""
    return not unsupported_facts(text, f"{source.candidate.hit.title} {source.candidate.text}")


def _renumber(kept: Sequence[tuple[str, list[Source]]], dropped: tuple[str, ...]) -> Checked:
    order: dict[int, int] = {}
    for _, cited in kept:
        for s in cited:
            order.setdefault(s.number, len(order) + 1)
    parts = []
    for text, cited in kept:
        marks = "".join(f"[{order[s.number]}]" for s in cited)
        parts.append(f"{text} {marks}")
    sources = {s.number: s for _, cited in kept for s in cited}
    citations = tuple(
        Citation(
            new,
            sources[old].candidate.hit.passage.article_id,
            sources[old].candidate.hit.title,
            sources[old].candidate.span.start,
            sources[old].candidate.span.end,
            sources[old].candidate.text,
        )
        for old, new in order.items()
    )
    return Checked(" ".join(parts), citations, dropped)
