"""Answer quality on real news: RealTime QA quiz questions over their search results.

One year (``--year 2023`` or ``2024``) and split (``--split odd`` to tune, ``even`` to
report; see ``news_data.py``): the search results of every question of the split's indexed
weeks go into one index (``--weeks N``: the first N indexed weeks only). Each question is
asked as of its quiz date (``as_of``: the index as a reader knew it that day, and the day the
answerer counts an article's age from); ``--undated`` asks without one.

- answerable questions: whether a cited sentence holds the answer (answered or tentative),
  whether the reply is answered and cites it (coverage), the share of each outcome, and the
  answer string in the reply text or the short answer;
- unanswerable questions (a held-back week's, its answer in no indexed article): the share
  not answered, and refused; the off-subject ones among them (naming nothing any indexed
  article names): the share refused;
- answered precision: the share of answered replies, of every kind, that cite the answer;
- cited sentences that ask a question, and cited page furniture (both should be 0);
- the plain retrieval baseline: the top-4 passages of the same index hold the answer
  string (the ceiling for an answerer that reads those passages).

Matching folds case and punctuation (``assistant.goldset.normalize``), whole words only.
The index is kept in ``--index`` (default ``build/news-SPLIT`` for 2023,
``build/news-YEAR-SPLIT`` otherwise, ``-wN`` added for ``--weeks``) and reused once it holds
the split's articles (``ingested.txt`` in it lists them).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/news.py [--year 2024] [--split even]
        [--weeks N] [--json F] [--undated]
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

from assistant import Answer, Assistant, patterns
from assistant.answerer import Calibration
from assistant.goldset import normalize

ROOT = Path(__file__).resolve().parents[1]
BASELINE_K = 4


@dataclass(frozen=True)
class Outcome:
    """What the assistant did with one question. ``kind``: "answerable", "unanswerable"
    (on the index's subjects, not answered by it) or "off-subject" (see ``news_data``)."""

    id: str
    answerable: bool
    abstained: bool
    in_text: bool
    in_citation: bool
    in_short: bool
    in_top4: bool
    seconds: float
    kind: str = "answerable"
    status: str = "answered"
    short_shown: bool = False
    asks: bool = False
    furniture: bool = False


def default_index(year: str, split: str, weeks: int | None = None) -> Path:
    """Where a split's index is kept: ``build/news-SPLIT`` (2023) or ``build/news-YEAR-SPLIT``,
    with ``-wN`` when only the first N weeks are indexed."""
    name = f"news-{split}" if year == "2023" else f"news-{year}-{split}"
    return ROOT / "build" / (name + (f"-w{weeks}" if weeks else ""))


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


def ask(bot: Assistant, q: news_data.Question, kind: str, dated: bool = True) -> Outcome:
    """Ask ``q`` on its quiz date (``as_of``: what a reader knew that day; ``dated``
    false: with no date, the index's newest article being "now")."""
    as_of = q.date if dated else None
    started = time.perf_counter()
    reply: Answer = bot.ask(q.question, as_of=as_of)
    seconds = time.perf_counter() - started
    short = reply.short
    answerable = kind == "answerable"
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
        kind,
        reply.status,
        short is not None,
        any(patterns.asks(c.quote) for c in reply.citations),
        any(patterns.is_furniture(c.quote) for c in reply.citations),
    )


def share(flags: Sequence[bool]) -> str:
    return f"{sum(flags) / len(flags):.1%}" if flags else "-"


def report(outcomes: Sequence[Outcome]) -> list[str]:
    yes = [o for o in outcomes if o.answerable]
    no = [o for o in outcomes if o.kind == "unanswerable"]
    off = [o for o in outcomes if o.kind == "off-subject"]
    answered = [o for o in outcomes if o.status == "answered"]
    shown = [o for o in yes if o.short_shown]
    times = sorted(o.seconds for o in outcomes)
    rows = [
        ("answerable questions", str(len(yes))),
        ("unanswerable (on-subject) questions", str(len(no))),
        ("off-subject questions", str(len(off))),
        ("answerable: reply cites the answer", share([o.in_citation for o in yes])),
        (
            "answerable: answered and cites it",
            share([o.in_citation and o.status == "answered" for o in yes]),
        ),
        ("answerable: answered", share([o.status == "answered" for o in yes])),
        ("answerable: tentative", share([o.status == "tentative" for o in yes])),
        ("answerable: refused", share([o.status == "refused" for o in yes])),
        (
            "answered precision (cites the answer)",
            share([o.answerable and o.in_citation for o in answered]),
        ),
        ("unanswerable: not answered", share([o.status != "answered" for o in no])),
        ("unanswerable: refused", share([o.status == "refused" for o in no])),
        ("off-subject: refused", share([o.status == "refused" for o in off])),
        ("answer accuracy (reply text holds answer)", share([o.in_text for o in yes])),
        ("short answers shown (answerable)", f"{len(shown)}"),
        ("short answer right when shown", share([o.in_short for o in shown])),
        ("cited sentences that ask (want 0)", str(sum(o.asks for o in outcomes))),
        ("cited page furniture (want 0)", str(sum(o.furniture for o in outcomes))),
        (f"baseline: top-{BASELINE_K} passages hold answer", share([o.in_top4 for o in yes])),
        (
            "ask p50 / p95",
            f"{statistics.median(times) * 1000:.0f} / "
            f"{times[int(0.95 * (len(times) - 1))] * 1000:.0f} ms",
        ),
    ]
    return [f"{name:<44}{value:>10}" for name, value in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=news_data.SPLITS, default="even")
    parser.add_argument("--year", choices=news_data.YEARS, default="2023")
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
    news_data.select(args.year)
    split = news_data.split(args.split, args.weeks)
    index_dir = args.index or default_index(args.year, args.split, args.weeks)
    print(
        f"RealTime QA {args.year}, {args.split} weeks: {len(split.article_ids)} articles, "
        f"{len(split.answerable)} answerable, {len(split.unanswerable)} unanswerable questions "
        f"({len(split.off_subject)} of them off-subject)"
    )
    bot = open_index(split, index_dir)
    answerable, unanswerable = split.answerable, split.unanswerable
    if args.limit:
        answerable = answerable[:: max(1, len(answerable) // args.limit)][: args.limit]
        unanswerable = unanswerable[:: max(1, len(unanswerable) // args.limit)][: args.limit]
    off = set(split.off_subject)
    mode = bot.settings.llm_base_url
    print(f"mode: {f'generated ({mode}, {bot.settings.llm_model})' if mode else 'extractive'}")
    asked = [(q, "answerable") for q in answerable] + [
        (q, "off-subject" if q in off else "unanswerable") for q in unanswerable
    ]
    print("asked " + ("without a date" if args.undated else "as of each quiz date"))
    outcomes = [ask(bot, q, kind, not args.undated) for q, kind in tqdm(asked, desc="ask")]
    print("\n".join(report(outcomes)))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
