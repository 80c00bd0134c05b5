"""Cross-report questions: training questions for the answer reader made from the news itself.

RealTime QA gives the reader a few hundred real questions. The same articles hold many more
facts told twice in different words: a story on one site and another site's report of the
same event. A cross-report question is one report's sentence with a name or a number turned
into a question word ("Jimmy Kimmel will host the Oscars" -> "Who will host the Oscars?");
its answer is the sentence of *another* report that holds the same name or number and says
the same thing in its own words (shared content words, and a MiniLM cosine of at least
``MIN_COSINE`` between the two sentences). Its negatives are that report's other sentences,
none holding the phrase: on-topic, and the nearest by BM25 first. The reader so learns to read
a paraphrase, which the real questions teach it too rarely.

Only the articles of the training weeks are read (``train_reader.py`` passes them): never
those of a held-out or an even week.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.embedding import make_embedder
from assistant.lexical import terms
from assistant.patterns import fold

MIN_COSINE = 0.6
"""How alike (MiniLM cosine) the question's sentence and its answer must be."""
MIN_SHARED = 2
"""Content words, besides the phrase, that the two sentences must share."""
MAX_JACCARD = 0.5
"""Above this share of common content words, the answer is a copy, not a paraphrase."""
MAX_ARTICLES = 60
"""A phrase in more articles than this (a president's name) pairs unrelated facts."""
PER_PHRASE = 2
TOP_NEGATIVES = 24
RANDOM_NEGATIVES = 6

_WORD = r"(?:[A-Z][^\W\d_]+(?:[’'-][^\W\d_]+)?|[A-Z]{2,6})"
_NAME = re.compile(
    r"(?<![\w’'.@/-])"
    + _WORD
    + r"(?:\s+(?:(?:of|de|la|the|and)\s+)?(?:"
    + _WORD
    + r"|[A-Z]\.))*(?![\w@/-])"
)
_NUMBER = re.compile(
    r"(?<![\w.,-])(?:\$\s?)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    r"(?:\s?(?:%|percent|million|billion|trillion))?(?![\w,-]|\.\d)"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_CALENDAR = re.compile(
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_OPENER_WORDS = (
    "The A An In On At But And He She It They We I This That There His Her Their As If When "
    "After Before For Mr Ms Mrs Dr So Its Our What Who While Some One Also Still Now Here"
)
_OPENERS = frozenset(_OPENER_WORDS.split())
"""Capitalised only because they open a sentence: not part of a name."""
_PARTICLES = frozenset(("de", "da", "van", "von", "bin", "al", "el", "la", "le", "di", "du"))
_ARTICLE = re.compile(r"\b(?:[Tt]he|[Aa]n?) $")
_NOISE = re.compile(r"https?:|www\.|@|\.com\b|\b\d{3}-\d{3}")


@dataclass(frozen=True)
class Phrase:
    """A name or a number in a sentence: what a question can ask for."""

    kind: str
    text: str
    start: int


def phrases(sentence: str) -> list[Phrase]:
    """The names (runs of capitalised words) and numbers of ``sentence``."""
    found = []
    for match in _NAME.finditer(sentence):
        text, start = match.group(), match.start()
        first, _, rest = text.partition(" ")
        if first in _OPENERS:
            if not rest:
                continue
            text, start = rest, match.end() - len(rest)
        before = sentence[:start].split()[-1:]
        if _CALENDAR.match(text) or len(text) < 3 or (before and before[0] in _PARTICLES):
            continue
        if start == 0 and " " not in text:  # a capital that may only open the sentence
            continue
        found.append(Phrase("name", text, start))
    for match in _NUMBER.finditer(sentence):
        if not _YEAR.fullmatch(match.group()):
            found.append(Phrase("number", match.group(), match.start()))
    return found


def question(sentence: str, phrase: Phrase) -> str | None:
    """``sentence`` asking for ``phrase``: the phrase replaced by a question word; None when
    the result would not read as a question."""
    if phrase.kind == "number":
        amount = any(u in phrase.text for u in ("$", "%", "percent"))
        word = "how much" if amount else "how many"
    elif sentence[: phrase.start].endswith(("in ", "at ")):
        word = "where"
    else:
        word = "who" if len(phrase.text.split()) <= 3 else "what"
    head, tail = sentence[: phrase.start], sentence[phrase.start + len(phrase.text) :]
    head = _ARTICLE.sub("", head)  # "the who" -> "who"
    if word == "where":
        head = head[:-3]
    if (head and not head.endswith(" ")) or (tail and tail[0].isalnum()):
        return None
    text = (head + word + tail).strip().rstrip(".!\"”’' ").strip()
    return text[0].upper() + text[1:] + "?"


@dataclass(frozen=True)
class Pair:
    """A fact told by two reports: ``asked`` holds the phrase asked for, ``answer`` gives it."""

    phrase: Phrase
    asked: tuple[str, int]
    answer: tuple[str, int]


def pairs(sentences: Mapping[str, Sequence[str]], rng: random.Random) -> list[Pair]:
    """Sentences of different articles that hold the same phrase and share other content
    words without being copies, at most ``PER_PHRASE`` a phrase."""
    where: defaultdict[tuple[str, str], list[tuple[str, int, Phrase]]] = defaultdict(list)
    for article, own in sentences.items():
        for n, sentence in enumerate(own):
            if len(sentence) <= 300 and not _NOISE.search(sentence) and not sentence.isupper():
                for phrase in phrases(sentence):
                    where[(phrase.kind, fold(phrase.text))].append((article, n, phrase))
    content: dict[tuple[str, int], set[str]] = {}

    def words(article: str, n: int) -> set[str]:
        if (article, n) not in content:
            content[(article, n)] = set(terms([sentences[article][n]])[0])
        return content[(article, n)]

    keys = [k for k, v in where.items() if 2 <= len({a for a, *_ in v}) <= MAX_ARTICLES]
    rng.shuffle(keys)
    found: list[Pair] = []
    for key in keys:
        own_words = set(terms([key[1]])[0])
        scored = []
        for a, n, phrase in where[key]:
            one = words(a, n) - own_words
            if not 4 <= len(one) <= 18:
                continue
            for b, m, _ in where[key]:
                if a < b:
                    other = words(b, m) - own_words
                    shared = len(one & other)
                    if shared >= MIN_SHARED and shared <= MAX_JACCARD * len(one | other):
                        scored.append((shared, Pair(phrase, (a, n), (b, m))))
        scored.sort(key=lambda s: -s[0])
        found.extend(p for _, p in scored[:PER_PHRASE])
    return found


def alike(found: Sequence[Pair], sentences: Mapping[str, Sequence[str]]) -> list[Pair]:
    """The pairs whose two sentences have a MiniLM cosine of at least ``MIN_COSINE``."""
    embedder = make_embedder("onnx-int8")
    asked = np.asarray(embedder.embed([sentences[a][n] for a, n in (p.asked for p in found)]))
    answer = np.asarray(embedder.embed([sentences[a][n] for a, n in (p.answer for p in found)]))
    cosine = (asked * answer).sum(axis=1)
    return [p for p, c in zip(found, cosine, strict=True) if c >= MIN_COSINE]
