"""Dates on real news: a whole year of RealTime QA 2023 in one index, asked with and without
``as_of``.

Every article of the year (7,584, the search results of all 1,429 questions) goes into one
index; ingest reports how many passages copy another article's (wire copies). Then each
answerable question of the report weeks (``--split even``; see ``news_data.py``) is asked
three ways:

- **all weeks**: the whole year, no date: later articles may answer with later news;
- **all weeks, as_of**: the whole year, ``as_of`` = the question's quiz date;
- **own results only**: only the question's own ten search results are searched (the
  setting of ``news.py``, one question at a time), the figure ``as_of`` should come close to.

For each: answer accuracy (the reply holds the answer string), a citation states it,
abstained, citations of articles published after the quiz date, citations with wire copies
(``also_in``), and ask p50. The index is kept in ``--index`` (default ``build/news-all``).

With ``--scope split`` the index is ``news.py``'s instead (``build/news-SPLIT``: the search
results of every other week of the split, 13 weeks together) and the questions are that
index's answerable ones, the same that ``news.py`` asks.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/news_dates.py [--split even] [--scope split]
        [--limit N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news_data
from news import holds, open_index

from assistant import Answer, Assistant, dates
from assistant.ingest import article_id, normalise

ROOT = Path(__file__).resolve().parents[1]
MODES = ("all weeks", "all weeks, as_of", "own results only")


@dataclass(frozen=True)
class Outcome:
    in_text: bool
    in_citation: bool
    abstained: bool
    later: int
    cited: int
    copied: int
    seconds: float


def open_all(index_dir: Path) -> Assistant:
    """The index of every article of the year, ingested unless it already holds them."""
    ids = sorted({a for q in news_data.questions() for a in q.search_result_ids})
    bot = Assistant(index_dir=index_dir)
    done = index_dir / "ingested.txt"
    if done.exists() and done.read_text().split() == ids:
        return bot
    with tempfile.TemporaryDirectory() as tmp:
        corpus = news_data.write_corpus(ids, Path(tmp))
        started = time.perf_counter()
        with tqdm(total=1, desc="ingest", unit="file") as bar:
            report = bot.ingest([corpus], progress=lambda d, t: bar.update(d - bar.n))
        took = time.perf_counter() - started
    stats = bot.stats()
    print(
        f"ingested {stats.articles} articles, {stats.passages} passages in {took:.0f} s; "
        f"{report.duplicates} passages ({report.duplicates / max(stats.passages, 1):.1%}) "
        "copy another article's (wire copies)"
    )
    done.write_text("\n".join(ids) + "\n")
    return bot


def ask(
    bot: Assistant, q: news_data.Question, as_of: str | None, only: Sequence[str] | None
) -> Outcome:
    bot.retriever.only = frozenset(only) if only is not None else None
    started = time.perf_counter()
    reply: Answer = bot.ask(q.question, as_of=as_of)
    seconds = time.perf_counter() - started
    quiz = dates.day(q.date)
    return Outcome(
        not reply.abstained and holds(reply.text, q.answer),
        any(holds(c.quote, q.answer) for c in reply.citations),
        reply.abstained,
        sum(dates.day(c.published) > quiz for c in reply.citations),
        len(reply.citations),
        sum(bool(c.also_in) for c in reply.citations),
        seconds,
    )


def share(flags: Sequence[bool]) -> str:
    return f"{sum(flags) / len(flags):.1%}" if flags else "-"


def report(name: str, outcomes: Sequence[Outcome]) -> str:
    times = sorted(o.seconds for o in outcomes)
    cited = sum(o.cited for o in outcomes)
    return (
        f"{name:<22}{share([o.in_text for o in outcomes]):>10}"
        f"{share([o.in_citation for o in outcomes]):>10}"
        f"{share([o.abstained for o in outcomes]):>11}"
        f"{sum(o.later for o in outcomes) / max(cited, 1):>10.1%}"
        f"{sum(o.copied for o in outcomes) / max(cited, 1):>10.1%}"
        f"{statistics.median(times) * 1000:>9.0f} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=news_data.SPLITS, default="even")
    parser.add_argument("--scope", choices=("year", "split"), default="year")
    parser.add_argument("--index", type=Path, default=None, help="where to keep the index")
    parser.add_argument("--limit", type=int, default=None, help="ask about N questions")
    parser.add_argument(
        "--mode", action="append", choices=MODES, help="run only this way of asking (repeatable)"
    )
    args = parser.parse_args(argv)
    if args.scope == "split":
        split = news_data.split(args.split)
        asked = list(split.answerable)
        bot = open_index(split, args.index or ROOT / "build" / f"news-{args.split}")
    else:
        weeks = sorted({q.week for q in news_data.questions()})
        mine = {w for n, w in enumerate(weeks, 1) if (n % 2 == 1) == (args.split == "odd")}
        asked = [q for q in news_data.questions() if q.week in mine and q.answer_in_results]
        bot = open_all(args.index or ROOT / "build" / "news-all")
    if args.limit:
        asked = asked[:: max(1, len(asked) // args.limit)][: args.limit]
    stats = bot.stats()
    print(
        f"RealTime QA 2023: {stats.articles} articles, {stats.passages} passages indexed; "
        f"{len(asked)} answerable questions of the {args.split} weeks ({args.scope})"
    )
    copied = bot.index.copied()
    print(
        f"wire copies: {copied} passages ({copied / max(stats.passages, 1):.1%}) share their "
        "fingerprint with another article's passage"
    )
    rows = news_data.articles({a for q in asked for a in q.search_result_ids})
    stored = {i: article_id(normalise(str(r["text"]))) for i, r in rows.items()}
    modes: dict[str, Callable[[news_data.Question], Outcome]] = {
        "all weeks": lambda q: ask(bot, q, None, None),
        "all weeks, as_of": lambda q: ask(bot, q, q.date, None),
        "own results only": lambda q: ask(
            bot, q, None, [stored[a] for a in q.search_result_ids if a in stored]
        ),
    }
    print(
        f"{'':<22}{'accuracy':>10}{'cited':>10}{'abstained':>11}{'later':>10}"
        f"{'copies':>10}{'p50':>12}"
    )
    for name, run in modes.items():
        if args.mode and name not in args.mode:
            continue
        outcomes = [run(q) for q in tqdm(asked, desc=name, leave=False)]
        print(report(name, outcomes), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
