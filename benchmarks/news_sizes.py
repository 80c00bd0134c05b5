"""Nested corpora of RealTime QA 2023 articles, from a few thousand passages to the whole year.

The articles are put in one fixed order: first the search results (best first) of the
*accuracy questions*, those of one split (``news_data.py``) whose answer string is in one of
their search results, each question's results together, the questions in a fixed
pseudo-random order (SHA-256 of the question id, which spreads them over the year); then the
search results of every other question in the same order; then any article no question found.
A size of N passages takes whole articles from the front of that order until they hold at
least N passages, counted by parsing and chunking them as ``Assistant.ingest`` does
(identical texts are one article and count once). So every size holds the smaller ones, and
a question whose results are all in the smallest size is answerable from its own results at
every size.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import news_data

from assistant.chunking import chunk
from assistant.ingest import parse
from assistant.records import Article

Row = dict[str, str | None]


@dataclass(frozen=True)
class Size:
    """One corpus: the dataset's article ids, in order, and the passages they make.

    ``target`` is the passage count asked for (None = every article of the year);
    ``passages`` is what chunking counted (None when nothing was counted, for the year).
    """

    target: int | None
    article_ids: tuple[str, ...]
    passages: int | None

    @property
    def label(self) -> str:
        return label(self.target)


def label(target: int | None) -> str:
    """How a size is named: its passage count, or ``all``."""
    return "all" if target is None else str(target)


def spread(questions: Iterable[news_data.Question]) -> list[news_data.Question]:
    """``questions`` in a fixed order that mixes the weeks: by SHA-256 of the id."""
    return sorted(questions, key=lambda q: hashlib.sha256(q.id.encode()).hexdigest())


def accuracy_questions(split: str) -> list[news_data.Question]:
    """The split's questions whose answer string is in one of their search results, spread."""
    weeks = sorted({q.week for q in news_data.questions()})
    mine = {w for n, w in enumerate(weeks, 1) if (n % 2 == 1) == (split == "odd")}
    return spread(q for q in news_data.questions() if q.week in mine and q.answer_in_results)


def article_order(first: Sequence[news_data.Question], rows: dict[str, Row]) -> list[str]:
    """Every article id: ``first``'s search results, then the other questions', then the rest."""
    chosen = {q.id for q in first}
    rest = spread(q for q in news_data.questions() if q.id not in chosen)
    order = [a for q in [*first, *rest] for a in q.search_result_ids] + list(rows)
    return [a for a in dict.fromkeys(order) if a in rows]


def as_article(row: Row) -> Article | None:
    """The article ``Assistant.ingest`` makes of a row (None when it would skip it)."""
    line = json.dumps(news_data.record(row)).encode()
    return parse("realtimeqa.jsonl", "row", line)[0].article


def sizes(
    targets: Sequence[int | None], order: Sequence[str], rows: dict[str, Row], passage_chars: int
) -> list[Size]:
    """The corpus of each target, counting passages only as far as the largest number."""
    wanted = sorted({t for t in targets if t is not None})
    cuts: dict[int, Size] = {}
    seen: set[str] = set()
    passages = 0
    started = time.perf_counter()
    for n, aid in enumerate(order, 1):
        if not wanted:
            break
        article = as_article(rows[aid])
        if article is not None and article.id not in seen:
            seen.add(article.id)
            passages += len(chunk(article, passage_chars))
        while wanted and passages >= wanted[0]:
            cuts[wanted[0]] = Size(wanted[0], tuple(order[:n]), passages)
            wanted.pop(0)
        if n % 500 == 0:
            took = time.perf_counter() - started
            print(f"  chunked {n:,} articles: {passages:,} passages, {took:.0f} s", file=sys.stderr)
    for target in wanted:  # more than the year holds
        cuts[target] = Size(target, tuple(order), passages)
    return [Size(None, tuple(order), None) if t is None else cuts[t] for t in targets]


def held(questions: Iterable[news_data.Question], size: Size) -> list[news_data.Question]:
    """The questions whose every search result is in ``size``."""
    ids = set(size.article_ids)
    return [q for q in questions if set(q.search_result_ids) <= ids]


def content_ids(question: news_data.Question, rows: dict[str, Row]) -> list[str]:
    """The index's ids (content hashes) of the question's search results that ingest keeps."""
    articles = (as_article(rows[a]) for a in question.search_result_ids if a in rows)
    return sorted({a.id for a in articles if a is not None})


def write(article_ids: Sequence[str], rows: dict[str, Row], folder: Path, per_file: int) -> None:
    """The articles as JSON Lines files of ``per_file`` records each (ingest reports progress
    per file)."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, lo in enumerate(range(0, len(article_ids), per_file), 1):
        lines = [json.dumps(news_data.record(rows[a])) for a in article_ids[lo : lo + per_file]]
        (folder / f"part-{part:05d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
