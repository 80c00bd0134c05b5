"""A generated reply -> only the sentences that the sources they cite support.

A sentence is kept when it cites at least one of the sources the model was given, every
name, number and date in it appears in what it cites, and its embedding is close enough to
one cited sentence (``support_floor``, fitted by ``benchmarks/support_floor.py``). The rest
are removed and reported, never shown as cited facts. Markers are renumbered to the
citations that remain, so every ``[n]`` names one of them.

Names are read as reporters write them: a name may come from the cited sentence, its
article's title or the sentences before it in the article, and a country, organisation or
place counts as named when one of its other names is (``places.same_actor``: "Russia" for
"the Kremlin" or "Moscow"; "Moscow" for "the Kremlin", not for "Russia"). Numbers, dates and
amounts must be in the cited sentence itself (or its title), exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from assistant import places
from assistant.answerer import Candidate
from assistant.chunking import split_sentences
from assistant.entities import labelled_facts
from assistant.generate import NOT_IN_SOURCES, Source
from assistant.patterns import fold, unaccented
from assistant.places import same_actor
from assistant.records import Citation, Hit, Passage, Span

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
ACTOR_LABELS = frozenset({"NORP", "ORG", "GPE", "FAC", "LOC"})
"""Kinds of name that may be supported by another name of the same actor (not people)."""
_LOCATIVE = frozenset(
    {"in", "at", "to", "from", "near", "into", "inside", "outside", "around", "across"}
    | {"toward", "towards", "via", "over", "of"}
)
"""Words before a name that make it a place, not an actor ("talks in Ankara")."""
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
    return {_NUMBER_WORDS.get(t, t) for t in unaccented(text).split()} - _FILLER


def unsupported_facts(sentence: str, evidence: str) -> list[str]:
    """The names, numbers and dates of ``sentence`` that ``evidence`` does not contain, under
    any of its names for a country, organisation or place (``same_actor``)."""
    return [fact for fact, _ in _missing(sentence, evidence)]


def _missing(sentence: str, evidence: str) -> list[tuple[str, str]]:
    """``unsupported_facts`` with each one's label."""
    have = _tokens(evidence)
    return [
        (fact, label)
        for fact, label, start in labelled_facts(sentence)
        if not _tokens(fact) <= have
        and not (label in ACTOR_LABELS and _named_otherwise(fact, _acting(sentence, start), have))
    ]


def _acting(sentence: str, start: int) -> bool:
    """Whether the name at ``start`` acts (says, proposes) rather than places ("in Ankara")."""
    words = fold(sentence[:start]).split()
    while words and words[-1] in ("the", "a", "an"):
        words.pop()
    return not words or words[-1] not in _LOCATIVE


def _named_otherwise(name: str, acting: bool, have: set[str]) -> bool:
    """Whether the words ``have`` hold another name of the actor ``name``."""
    return any(_tokens(alias) <= have for alias in same_actor(name, acting) if _tokens(alias))


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
    evidence = " ".join(f"{s.candidate.text} {s.published or ''}" for s in cited)
    earlier = " ".join(f"{s.candidate.hit.title} {s.before} {s.context}" for s in cited)
    missing = _missing(text, evidence)
    if missing:
        said = labelled_facts(" ".join(s.candidate.text for s in cited))
        if not all(_named_earlier(f, label, earlier, said) for f, label in missing):
            return False
    cited_vectors = embed([s.candidate.text for s in cited])
    return float(np.max(cited_vectors @ vector)) >= floor


def _named_earlier(
    fact: str, label: str, earlier: str, said: Sequence[tuple[str, str, int]]
) -> bool:
    """Whether the article's title or ``earlier`` sentences may supply ``fact``, a name the
    cited sentences (``said``: their labelled facts) do not hold: only where they name nobody
    for its role (a person or body that speaks or acts, or a country, people or place), or
    name one of them in part ("Medinsky" for "Vladimir Medinsky"). Never a number or a date."""
    role = _role(fact, label)
    if role is None:
        return False
    rivals = [name for name, kind, _ in said if _role(name, kind, known=True) == role]
    if rivals and not any(_tokens(name) & _tokens(fact) for name in rivals):
        return False
    have = _tokens(earlier)
    return _tokens(fact) <= have or (label in ACTOR_LABELS and _named_otherwise(fact, True, have))


def _role(name: str, label: str, known: bool = False) -> str | None:
    """ "place" for a country, people or place (a seat of government counts as its country:
    "the Kremlin"), "speaker" for a person or another organisation, None for anything else.
    spaCy's small model often takes a surname for a place ("Salcedo said"); with ``known``,
    a name it calls a country or city is a place only when GeoNames knows it (``places``)."""
    if label not in ACTOR_LABELS and label != "PERSON":
        return None
    if same_actor(name) or label in ("NORP", "LOC", "FAC"):
        return "place"
    if label == "GPE":
        return "speaker" if known and not places.is_place(name) else "place"
    return "speaker"


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


def supports(
    claim: str,
    sentence: str,
    embed: Embed,
    floor: float,
    title: str = "",
    before: str = "",
    published: str | None = None,
) -> bool:
    """Whether ``sentence`` (of an article titled ``title``, after the text ``before``)
    supports ``claim`` as ``check`` judges a generated sentence that cites it alone."""
    text = f"{title}\n{before}{' ' if before else ''}{sentence}"
    span = Span(len(text) - len(sentence), len(text))
    passage = Passage("claim:0", "claim", 0, 0, len(text), text, (span,))
    candidate = Candidate(Hit(passage, 1.0, 1.0, title), span, sentence, ())
    previous = split_sentences(before)[-1:] if before else []
    context = before[previous[0].start : previous[0].end] if previous else ""
    source = Source(1, candidate, context, published, text[: span.start])
    checked = check(f"{claim} [1]", [source], embed, floor)
    return bool(checked.citations) and not checked.unsupported


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
