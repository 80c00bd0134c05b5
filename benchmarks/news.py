"""Answer quality on real news: RealTime QA 2023 quiz questions over their search results.

One split (``--split odd`` to tune, ``even`` to report; see ``news_data.py``): the search
results of every question of the split's indexed weeks go into one index, then

Each question is asked as of its quiz date (``as_of``: the index as a reader knew it that
day, and the day the answerer counts an article's age from); ``--undated`` asks without one.

- each answerable question is asked: answer accuracy (the reply holds the answer string),
  a citation states it (a cited quote holds it), ``short`` holds it, and the share abstained;
- each unanswerable question (a held-back week's, its answer in no indexed article) is
  asked: the share abstained on, which should be high;
- the plain retrieval baseline: the top-4 passages of the same index hold the answer
  string (the ceiling for an answerer that reads those passages).

Matching folds case and punctuation (``assistant.goldset.normalize``), whole words only.
The index is kept in ``--index`` (default ``build/news-SPLIT``) and reused once it holds the
split's articles (``ingested.txt`` in it lists them).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/news.py [--split even] [--weeks N] [--json F]
        [--undated]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news_data

from assistant import Answer, Assistant
from assistant.answerer import Calibration
from assistant.goldset import normalize

ROOT = Path(__file__).resolve().parents[1]
BASELINE_K = 4


@dataclass(frozen=True)
class Outcome:
    """What the assistant did with one question."""

    id: str
    answerable: bool
    abstained: bool
    in_text: bool
    in_citation: bool
    in_short: bool
    in_top4: bool
    seconds: float


def holds(text: str, answer: str) -> bool:
    """Whether ``text`` holds ``answer`` as whole words, case and punctuation folded."""
    wanted = normalize(answer)
    return bool(wanted) and f" {wanted} " in f" {normalize(text)} "


def open_index(
    split: news_data.Split, index_dir: Path, calibration: Calibration | None = None
) -> Assistant:
    """The split's index, ingested unless it already holds every article."""
    bot = Assistant(index_dir=index_dir, calibration=calibration)
    done = index_dir / "ingested.txt"
    if not done.exists() or done.read_text().split() != sorted(split.article_ids):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = news_data.write_corpus(split.article_ids, Path(tmp))
            started = time.perf_counter()
            with tqdm(total=1, desc="ingest", unit="file") as bar:

                def progress(done: int, total: int) -> None:
                    bar.update(done - bar.n)

                bot.ingest([corpus], progress=progress)
            stats = bot.stats()
            took = time.perf_counter() - started
            print(f"ingested {stats.articles} articles, {stats.passages} passages in {took:.0f} s")
        done.write_text("\n".join(sorted(split.article_ids)) + "\n")
    return bot


def ask(bot: Assistant, q: news_data.Question, answerable: bool, dated: bool = True) -> Outcome:
    """Ask ``q`` on its quiz date (``as_of``: what a reader knew that day; ``dated``
    false: with no date, the index's newest article being "now")."""
    as_of = q.date if dated else None
    started = time.perf_counter()
    reply: Answer = bot.ask(q.question, as_of=as_of)
    seconds = time.perf_counter() - started
    short = reply.short
    top = bot.retrieve(q.question, k=BASELINE_K, as_of=as_of) if answerable else []
    return Outcome(
        q.id,
        answerable,
        reply.abstained,
        not reply.abstained and holds(reply.text, q.answer),
        any(holds(c.quote, q.answer) for c in reply.citations),
        short is not None and holds(short.text, q.answer),
        any(holds(h.passage.text, q.answer) for h in top),
        seconds,
    )


def share(flags: Sequence[bool]) -> str:
    return f"{sum(flags) / len(flags):.1%}" if flags else "-"


def report(outcomes: Sequence[Outcome]) -> list[str]:
    yes = [o for o in outcomes if o.answerable]
    no = [o for o in outcomes if not o.answerable]
    times = sorted(o.seconds for o in outcomes)
    rows = [
        ("answerable questions", str(len(yes))),
        ("unanswerable questions", str(len(no))),
        ("answer accuracy (reply holds answer)", share([o.in_text for o in yes])),
        ("a citation states the answer", share([o.in_citation for o in yes])),
        ("short answer holds the answer", share([o.in_short for o in yes])),
        ("abstained, answerable", share([o.abstained for o in yes])),
        ("abstained, unanswerable", share([o.abstained for o in no])),
        (f"baseline: top-{BASELINE_K} passages hold answer", share([o.in_top4 for o in yes])),
        (
            "ask p50 / p95",
            f"{statistics.median(times) * 1000:.0f} / "
            f"{times[int(0.95 * (len(times) - 1))] * 1000:.0f} ms",
        ),
    ]
    return [f"{name:<42}{value:>12}" for name, value in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=news_data.SPLITS, default="even")
    parser.add_argument("--weeks", type=int, default=None, help="index only the first N weeks")
    parser.add_argument("--index", type=Path, default=None, help="where to keep the index")
    parser.add_argument("--json", type=Path, default=None, help="also write per-question results")
    parser.add_argument(
        "--undated",
        action="store_true",
        help="ask without a date (by default each question is asked as of its quiz date)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="ask only every k-th question so that about N of each kind are asked "
        "(for slow modes, e.g. a language model on a CPU)",
    )
    args = parser.parse_args(argv)
    split = news_data.split(args.split, args.weeks)
    suffix = f"-w{args.weeks}" if args.weeks else ""
    index_dir = args.index or ROOT / "build" / f"news-{args.split}{suffix}"
    print(
        f"RealTime QA 2023, {args.split} weeks: {len(split.article_ids)} articles, "
        f"{len(split.answerable)} answerable and {len(split.unanswerable)} unanswerable questions"
    )
    bot = open_index(split, index_dir)
    answerable, unanswerable = split.answerable, split.unanswerable
    if args.limit:
        answerable = answerable[:: max(1, len(answerable) // args.limit)][: args.limit]
        unanswerable = unanswerable[:: max(1, len(unanswerable) // args.limit)][: args.limit]
    mode = bot.settings.llm_base_url
    print(f"mode: {f'generated ({mode}, {bot.settings.llm_model})' if mode else 'extractive'}")
    asked = [(q, True) for q in answerable] + [(q, False) for q in unanswerable]
    print("asked " + ("without a date" if args.undated else "as of each quiz date"))
    outcomes = [
        ask(bot, q, answerable, not args.undated) for q, answerable in tqdm(asked, desc="ask")
    ]
    print("\n".join(report(outcomes)))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
