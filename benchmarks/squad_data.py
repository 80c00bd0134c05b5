"""The SQuAD 2.0 dev sample in ../shared/datasets, read on the fly (never copied here)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "squad2-dev-500"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    impossible: bool
    context_id: str


def dataset_dir() -> Path:
    """``ASSISTANT_SQUAD_DIR`` or ``../shared/datasets/squad2-dev-500`` beside the repo."""
    return Path(os.environ.get("ASSISTANT_SQUAD_DIR", DEFAULT))


def load() -> tuple[dict[str, str], list[Question]]:
    """Context id -> paragraph text, and the questions."""
    root = dataset_dir()
    contexts = {
        row["context_id"]: row["text"]
        for row in map(json.loads, (root / "contexts.jsonl").read_text().splitlines())
    }
    questions = [
        Question(
            r["id"], r["question"], tuple(r["answers"]), r["is_impossible"], r["gold_context_id"]
        )
        for r in map(json.loads, (root / "questions.jsonl").read_text().splitlines())
    ]
    return contexts, questions


def write_corpus(contexts: dict[str, str], folder: Path) -> Path:
    """The paragraphs as one JSON Lines file of articles, for ``Assistant.ingest``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "squad-contexts.jsonl"
    lines = (
        json.dumps({"title": f"SQuAD paragraph {cid}", "text": text, "source": "SQuAD 2.0"})
        for cid, text in contexts.items()
    )
    path.write_text("\n".join(lines) + "\n")
    return path


def calibration_half(context_id: str) -> bool:
    """The deterministic half of the paragraphs that calibration may fit on."""
    return int(context_id.rsplit("c", 1)[-1]) % 2 == 0


SUBSETS = DEFAULT.parent / "squad2-subsets"


@dataclass(frozen=True)
class Article:
    """One Wikipedia article of the SQuAD 2.0 subsets: its paragraphs and its questions."""

    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[Question, ...]


def load_articles() -> list[Article]:
    """The 13 articles of ``../shared/datasets/squad2-subsets``, by title."""
    rows = [json.loads(line) for line in (SUBSETS / "contexts.jsonl").read_text().splitlines()]
    asked = [json.loads(line) for line in (SUBSETS / "questions.jsonl").read_text().splitlines()]
    titles = sorted({r["title"] for r in rows})
    return [
        Article(
            title,
            tuple(r["text"] for r in rows if r["title"] == title),
            tuple(
                Question(
                    q["id"],
                    q["question"],
                    tuple(q["answers"]),
                    q["is_impossible"],
                    q["gold_context_id"],
                )
                for q in asked
                if q["title"] == title
            ),
        )
        for title in titles
    ]


def write_article(article: Article, folder: Path) -> Path:
    """The article's paragraphs as one text file (one article), for ``Assistant.ingest``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "article.txt"
    path.write_text(article.title + "\n\n" + "\n\n".join(article.paragraphs) + "\n")
    return path
