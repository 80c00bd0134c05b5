"""Answer quality on one article at a time: the bundled gold set's setting, on real news.

A reader who loads one article asks about its story. Here each RealTime QA 2023 quiz
question of a split (``--split odd`` to tune, ``even`` to report) whose answer string is in
its own search results is asked twice, each time of an index that holds one article only:

- the first of its search results that holds the answer (``answer_in_results``): the reply
  should hold the answer (answer accuracy, a citation states it, ``short`` holds it,
  abstained);
- the first of its search results that does not: an article on the same story that does
  not state the answer, so the right reply is an abstention (these are the hard negatives,
  on the topic the way the gold set's unanswerable questions are; a few answer it in other
  words, "PepsiCo" for "Pepsi", and count as wrongly answered).

``news.py`` asks the same kind of questions of a year's index, where an unanswerable
question is one no indexed article is about. The one-article indexes are kept under
``--root`` (default ``build/news-single``), one folder per article, and reused.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/news_single.py [--split even] [--questions 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news
import news_data

from assistant import Assistant

ROOT = Path(__file__).resolve().parents[1]


def pairs(
    questions: Sequence[news_data.Question], texts: dict[str, str]
) -> list[tuple[news_data.Question, str, bool]]:
    """(question, article id, whether that article answers it) for each question: the first
    search result holding the answer, and the first one without it (``texts``: article id
    -> text; a question whose other results are all missing has no negative)."""
    found = []
    for q in questions:
        if not q.answer_in_results:
            continue
        found.append((q, q.answer_in_results[0], True))
        other = next(
            (
                a
                for a in q.search_result_ids
                if a not in q.answer_in_results
                and a in texts
                and q.answer.lower() not in texts[a].lower()
            ),
            None,
        )
        if other is not None:
            found.append((q, other, False))
    return found


def one_article(article_id: str, root: Path) -> Assistant:
    """An index holding only ``article_id``, ingested unless it already is."""
    folder = root / article_id
    bot = Assistant(index_dir=folder)
    done = folder / "ingested.txt"
    if not done.exists():
        with tempfile.TemporaryDirectory() as tmp:
            bot.ingest([news_data.write_corpus([article_id], Path(tmp))])
        done.write_text(article_id + "\n")
    return bot


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=news_data.SPLITS, default="even")
    parser.add_argument(
        "--questions", type=int, default=200, help="ask every k-th question, about N in all"
    )
    parser.add_argument("--root", type=Path, default=None, help="where to keep the indexes")
    parser.add_argument("--json", type=Path, default=None, help="also write per-question results")
    args = parser.parse_args(argv)
    everything = news_data.questions()
    mine = set(news_data.split_weeks(args.split, everything))
    questions = [q for q in everything if q.week in mine and q.answer_in_results]
    questions = questions[:: max(1, len(questions) // args.questions)][: args.questions]
    rows = news_data.articles({a for q in questions for a in q.search_result_ids})
    asked = pairs(questions, {a: str(r["text"]) for a, r in rows.items()})
    root = args.root or ROOT / "build" / "news-single"
    print(
        f"RealTime QA 2023, {args.split} weeks: {len(questions)} questions, each asked of "
        f"one article that answers it and of one of its search results that does not "
        f"({sum(not a for *_, a in asked)} of them have one)"
    )
    outcomes = [
        news.ask(one_article(article, root), q, answers, dated=False)
        for q, article, answers in tqdm(asked, desc="ask")
    ]
    print("\n".join(news.report(outcomes)))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
