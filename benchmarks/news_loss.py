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
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news
import news_data

from assistant import answerer as answering
from assistant import dates


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
    found_at = {k: 0 for k in ks}
    candidates = chosen = answered = 0
    for q in tqdm(split.answerable, desc="questions"):
        asked = dates.as_of(q.date)
        hits = bot.retriever.search(q.question, max([*ks, top_k]), asked)
        first = next((n for n, h in enumerate(hits) if news.holds(h.passage.text, q.answer)), None)
        for k in ks:
            found_at[k] += first is not None and first < k
        found = answering.candidates(
            q.question,
            q.question,
            hits[:top_k],
            bot.embedder,
            bot.reader,
            bot.calibration,
            age_of=bot.retriever.ages(asked),
        )
        if not any(news.holds(c.text, q.answer) for c in found):
            continue
        candidates += 1
        scores = answering.score(found, bot.calibration)
        best = max(range(len(found)), key=scores.__getitem__)
        if not news.holds(found[best].text, q.answer):
            continue
        chosen += 1
        answered += bot.calibration.answerable([c.features for c in found])[1]
    total = len(split.answerable)
    print(f"RealTime QA 2023, {args.split} weeks: {total} answerable questions")
    rows = [(f"retrieval: the top {k} passages hold the answer", found_at[k]) for k in ks]
    rows += [
        (f"candidates: a sentence of the top {top_k} passages holds it", candidates),
        ("choice: the best-scored sentence holds it", chosen),
        ("gates: and the answerer answers", answered),
    ]
    for name, count in rows:
        print(f"{name:<62}{count / total:>8.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
