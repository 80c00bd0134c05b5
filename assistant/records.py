"""The values that flow through the assistant, as frozen dataclasses.

article file -> Article -> Passage -> Hit -> Answer (with Citation)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["user", "assistant"]
FileStatus = Literal["added", "updated", "unchanged", "skipped"]
AnswerMode = Literal["extractive", "generated"]
Status = Literal["answered", "tentative", "refused"]
STATUSES: tuple[Status, ...] = ("answered", "tentative", "refused")


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` into an article's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Article:
    """One news article: its metadata and its full normalised text.

    ``id`` is a hash of ``text``, so the same text always gets the same id.
    """

    id: str
    title: str
    text: str
    published: str | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class ArticleInfo:
    """An article as a library lists it: its metadata and passage count, without its text
    (``Assistant.catalog``; reading every text of a year of news would take seconds)."""

    id: str
    title: str
    published: str | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None
    passages: int = 0


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences of one article.

    ``text == article.text[start:end]``; ``sentences`` are the spans of its sentences,
    in article coordinates.
    """

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Hit:
    """A passage retrieved for a question.

    ``similarity`` is the cosine similarity of question and passage (higher is closer,
    at most 1); ``score`` is the fused rank score the retriever sorted by.
    """

    passage: Passage
    similarity: float
    score: float
    title: str = ""


@dataclass(frozen=True)
class Citation:
    """A quote that supports part of an answer.

    ``quote == article(article_id).text[start:end]`` and is a whole sentence or a run of
    sentences; ``marker`` is the ``[n]`` number used in the answer text. ``published`` is
    the article's date (``None``: undated); ``also_in`` lists the other articles that carry
    the same sentences word for word (wire copies); ``speaker`` is who the quote attributes
    its claim to ("Dmitry Peskov", "officials"), when it attributes one.
    """

    marker: int
    article_id: str
    title: str
    start: int
    end: int
    quote: str
    published: str | None = None
    also_in: tuple[str, ...] = ()
    speaker: str | None = None


@dataclass(frozen=True)
class Short:
    """The short answer (a number, date, person, place, ...) inside one citation.

    ``text == article(article_id of citation marker).text[start:end]``.
    """

    text: str
    marker: int
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """A reply to a question.

    ``text`` carries ``[n]`` markers that each name one of ``citations``. ``status`` is
    one of three outcomes: ``"answered"`` (the cited sentences answer the question, as far
    as the answerer can tell), ``"tentative"`` (the articles are about the question's
    subject, but the cited sentences, the closest they come, may not answer it; ``text``
    says so) or ``"refused"`` (the articles are not about it; ``text`` says what is
    missing). ``abstained`` is true exactly when the reply is refused: ``citations`` is
    then empty and ``related`` may hold the nearest passages, which are not support for
    anything. ``confidence`` is the answerer's probability that the cited sentences answer.
    ``short`` is the phrase asked for (a number, a date, a name, ...) when the question
    asks for one and a cited sentence holds it.

    ``mode`` says who wrote ``text``: ``"extractive"`` (cited sentences, the default) or
    ``"generated"`` (a language model, every sentence verified against what it cites).
    ``unsupported`` holds generated sentences the verifier removed; ``notice`` is a one-line
    remark for the user (the model was unreachable, a sentence was removed, ...). While a
    generated answer streams, snapshots have ``final`` false and no citations yet.
    """

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    related: tuple[Hit, ...] = ()
    confidence: float = 0.0
    short: Short | None = None
    mode: AnswerMode = "extractive"
    notice: str | None = None
    unsupported: tuple[str, ...] = ()
    final: bool = True
    status: Status = "answered"

    def __post_init__(self) -> None:
        # ``abstained`` and ``status`` say one thing: a refusal.
        if self.abstained and self.status != "refused":
            object.__setattr__(self, "status", "refused")
        elif self.status == "refused" and not self.abstained:
            object.__setattr__(self, "abstained", True)

    def to_dict(self) -> dict[str, object]:
        """The reply as plain JSON-ready data (the CLI's ``--json`` shape)."""
        return {
            "text": self.text,
            "status": self.status,
            "confidence": round(self.confidence, 4),
            "abstained": self.abstained,
            "citations": [
                {
                    "marker": c.marker,
                    "article_id": c.article_id,
                    "title": c.title,
                    "start": c.start,
                    "end": c.end,
                    "quote": c.quote,
                    "published": c.published,
                    "also_in": list(c.also_in),
                    "speaker": c.speaker,
                }
                for c in self.citations
            ],
            "short": (
                None
                if self.short is None
                else {
                    "text": self.short.text,
                    "marker": self.short.marker,
                    "start": self.short.start,
                    "end": self.short.end,
                }
            ),
            "mode": self.mode,
            "notice": self.notice,
            "unsupported": list(self.unsupported),
        }


@dataclass(frozen=True)
class FileResult:
    """What ingesting one file (or one JSON record) did."""

    path: str
    status: FileStatus
    article_id: str | None = None
    title: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Event:
    """One dated development in a timeline: a verified sentence of one article.

    ``quote == article(article_id).text[start:end]``; ``date`` is the article's publication
    day (ISO); ``also_in`` lists the other articles that report the same development.
    """

    date: str
    article_id: str
    title: str
    quote: str
    start: int
    end: int
    also_in: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The event as plain JSON-ready data."""
        return {
            "date": self.date,
            "article_id": self.article_id,
            "title": self.title,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "also_in": list(self.also_in),
        }


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ``ingest`` call, one result per file or record; ``duplicates``
    counts the new passages that copy a passage of another article (wire copies)."""

    results: tuple[FileResult, ...] = field(default_factory=tuple)
    duplicates: int = 0

    def count(self, status: FileStatus) -> int:
        """How many results have ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def skipped(self) -> int:
        return self.count("skipped")


@dataclass(frozen=True)
class IndexStats:
    """How much the index holds. ``bytes`` is the on-disk size (None for a Chroma server)."""

    articles: int
    passages: int
    bytes: int | None
    passages_per_article: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexCheck:
    """What ``Assistant.check`` found wrong with the index; empty tuples and ``False`` = fine.

    ``orphans``: passage ids whose article is not listed (an interrupted write or removal).
    ``incomplete``: article ids listed with fewer passages than were written for them.
    ``unreadable``: passage ids whose vector cannot be read back.
    ``manifest``: ``manifest.json`` is missing or does not describe the index.
    ``interrupted``: a write was interrupted and not cleaned up yet.
    ``lexical``: the lexical search store does not hold exactly the stored passages.
    ``repaired``: whether the problems listed were fixed (``check(repair=True)``).
    ``reingest``: the files that held removed incomplete articles: ingest them again.
    """

    articles: int
    passages: int
    orphans: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()
    manifest: bool = False
    interrupted: bool = False
    lexical: bool = False
    repaired: bool = False
    reingest: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong (or everything found was repaired)."""
        return self.repaired or not (
            self.orphans
            or self.incomplete
            or self.unreadable
            or self.manifest
            or self.interrupted
            or self.lexical
        )
