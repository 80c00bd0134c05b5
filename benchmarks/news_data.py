"""RealTime QA 2023 in ../shared/datasets, read on the fly (never copied here).

A split is the odd- or even-numbered quiz weeks (1-based, in date order): tune on ``odd``,
report on ``even``. Within a split, every other week is *indexed* (the search results of
its questions go into the index) and the weeks between are *held back*:

- answerable: questions of indexed weeks whose answer string occurs in one of their
  search results (``answer_in_results``);
- unanswerable: questions of held-back weeks whose answer string occurs in none of the
  indexed articles, so the right reply is no confident answer;
- off-subject: those of them that also name nobody and nothing (``answerer.unmentioned``'s
  kinds of name) that any indexed article names: about subjects absent from the index, so
  the right reply is a refusal.

``select("2024")`` reads RealTime QA 2024 instead (the same format, another year).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT = DATASETS / "realtimeqa-2023"
SPLITS = ("odd", "even")
YEARS = ("2023", "2024")
_year = {"chosen": "2023"}


@dataclass(frozen=True)
class Question:
    id: str
    week: str
    date: str
    question: str
    answer: str
    search_result_ids: tuple[str, ...]
    answer_in_results: tuple[str, ...]


@dataclass(frozen=True)
class Split:
    """The questions and articles of one split (see the module docstring)."""

    name: str
    answerable: tuple[Question, ...]
    unanswerable: tuple[Question, ...]
    article_ids: tuple[str, ...]
    off_subject: tuple[Question, ...] = ()


def select(year: str) -> None:
    """Read RealTime QA ``year`` (one of ``YEARS``) from now on."""
    if year not in YEARS:
        raise ValueError(f"year must be one of {YEARS}")
    _year["chosen"] = year


def year() -> str:
    """The RealTime QA year read (``select``)."""
    return _year["chosen"]


def dataset_dir() -> Path:
    """``ASSISTANT_NEWS_DIR``, or ``../shared/datasets/realtimeqa-YEAR`` beside the repo."""
    return Path(os.environ.get("ASSISTANT_NEWS_DIR", DATASETS / f"realtimeqa-{year()}"))


def questions() -> list[Question]:
    """Every question of the year, in file order."""
    rows = map(json.loads, (dataset_dir() / "questions.jsonl").read_text().splitlines())
    return [
        Question(
            r["id"],
            r["id"][:8],
            r["date"],
            r["question"],
            r["answer"],
            tuple(r["search_result_ids"]),
            tuple(r["answer_in_results"]),
        )
        for r in rows
    ]


def articles(ids: Iterable[str] | None = None) -> dict[str, dict[str, str | None]]:
    """Article id -> its record (``title``, ``published``, ``url``, ``text``)."""
    wanted = set(ids) if ids is not None else None
    found = {}
    with gzip.open(dataset_dir() / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if wanted is None or row["id"] in wanted:
                found[row["id"]] = row
    return found


def split_weeks(name: str, everything: Sequence[Question]) -> list[str]:
    """The ``odd`` or ``even`` weeks (1st, 3rd, ... or 2nd, 4th, ...) of ``everything``."""
    if name not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    weeks = sorted({q.week for q in everything})
    return [w for n, w in enumerate(weeks, 1) if (n % 2 == 1) == (name == "odd")]


def split(name: str, limit: int | None = None) -> Split:
    """The ``odd`` or ``even`` split; ``limit`` keeps the first N indexed weeks."""
    everything = questions()
    mine = split_weeks(name, everything)
    indexed, held = mine[0::2], mine[1::2]
    if limit:
        indexed, held = indexed[:limit], held[:limit]
    answerable = [q for q in everything if q.week in indexed and q.answer_in_results]
    ids = sorted({a for q in everything if q.week in indexed for a in q.search_result_ids})
    texts = [str(r["text"]).lower() for r in articles(ids).values()]
    unanswerable = [
        q
        for q in everything
        if q.week in held and not any(q.answer.lower() in text for text in texts)
    ]
    off_subject = [q for q in unanswerable if not any(_named_in(q.question, texts))]
    return Split(name, tuple(answerable), tuple(unanswerable), tuple(ids), tuple(off_subject))


def _named_in(question: str, texts: Sequence[str]) -> Iterable[bool]:
    """For each name the question gives, whether one of ``texts`` (lower-cased) holds it."""
    from assistant.answerer import UNMENTIONED_LABELS
    from assistant.entities import named

    for name, label in named(question):
        if label in UNMENTIONED_LABELS:
            yield any(name.lower() in text for text in texts)


def record(row: dict[str, str | None]) -> dict[str, str | None]:
    """An article row as the JSON record ``Assistant.ingest`` reads."""
    return {
        "title": row["title"] or "",
        "text": row["text"],
        "published": row["published"],
        "url": row["url"],
        "source": f"RealTime QA {year()}",
    }


def write_corpus(article_ids: Iterable[str], folder: Path) -> Path:
    """The articles as one JSON Lines file, for ``Assistant.ingest``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "realtimeqa-articles.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for row in articles(article_ids).values():
            out.write(json.dumps(record(row)) + "\n")
    return path
