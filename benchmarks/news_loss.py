"""Where the answers to answerable news questions are lost: retrieval, choice or abstention.

On one split of RealTime QA 2023 (``news.py``'s index and questions), each answerable question
is searched as of its quiz date and followed through the answerer's steps:

- retrieval: the answer string is in one of the top-k passages, for several k;
- candidates: it is in one of the sentences the answerer scores (those of the top
  ``top_k`` passages, the setting);
- choice: the sentence the choice model scores highest holds it;
- gates: the gates let the question be answered (``Calibration.answerable``).

Each step is reported as the share of the answerable questions that get through it and all
steps before it, so the drop between two lines is what that step loses. The last line is
close to ``news.py``'s answer accuracy (which also lets a newer or attributed sentence lead
and cites a second sentence). The figures count whole-word matches of the answer string,
case and punctuation folded, as ``news.py`` does.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/news_loss.py [--split even] [--ks 3,5,10,20]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news
import news_data

from assistant import Assistant, dates
from assistant import answerer as answering


@dataclass(frozen=True)
class Route:
    """How far one answerable question got: the rank of the first passage that holds the
    answer (None: none of those searched), and whether each later step kept it."""

    first: int | None
    candidate: bool
    chosen: bool
    answered: bool


def follow(bot: Assistant, q: news_data.Question, searched: int) -> Route:
    """``q`` through retrieval (``searched`` passages), then, as ``Assistant.ask`` takes it
    as of its quiz date, the candidates of the top ``top_k``, the choice and the gates."""
    asked = dates.as_of(q.date)
    hits = bot.retriever.search(q.question, searched, asked)
    first = next((n for n, h in enumerate(hits) if news.holds(h.passage.text, q.answer)), None)
    found = answering.candidates(
        q.question,
        q.question,
        bot.retriever.search(q.question, bot.settings.top_k, asked),
        bot.embedder,
        bot.reader,
        bot.calibration,
        age_of=bot.retriever.ages(asked),
        matcher=bot.matcher,
    )
    candidate = any(news.holds(c.text, q.answer) for c in found)
    scores = answering.score(found, bot.calibration)
    best = max(range(len(found)), key=scores.__getitem__, default=None)
    chosen = candidate and best is not None and news.holds(found[best].text, q.answer)
    answered = chosen and bot.calibration.answerable([c.features for c in found])[1]
    return Route(first, candidate, chosen, answered)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=news_data.SPLITS, default="even")
    parser.add_argument("--index", type=Path, default=None, help="the split's index folder")
    parser.add_argument(
        "--ks", default="3,5,8,10,15,20", help="passage counts to report retrieval at"
    )
    args = parser.parse_args(argv)
    ks = sorted({int(k) for k in args.ks.split(",")})
    split = news_data.split(args.split)
    bot = news.open_index(split, args.index or news.ROOT / "build" / f"news-{args.split}")
    top_k = bot.settings.top_k
    paths = [follow(bot, q, max(ks)) for q in tqdm(split.answerable, desc="questions")]
    total = len(paths)
    print(f"RealTime QA 2023, {args.split} weeks: {total} answerable questions")
    rows = [
        (
            f"retrieval: the top {k} passages hold the answer",
            sum(p.first is not None and p.first < k for p in paths),
        )
        for k in ks
    ]
    rows += [
        (
            f"candidates: a sentence of the top {top_k} passages holds it",
            sum(p.candidate for p in paths),
        ),
        ("choice: the best-scored sentence holds it", sum(p.chosen for p in paths)),
        ("gates: and the answerer answers", sum(p.answered for p in paths)),
    ]
    for name, count in rows:
        print(f"{name:<62}{count / total:>8.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
