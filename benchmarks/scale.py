"""Scale on real news: the assistant at growing corpus sizes of RealTime QA 2023 articles.

For each of ``--sizes`` (passages, or ``all`` for the whole year; which articles make a size
is ``news_sizes.py``'s deterministic choice: the accuracy questions' search results first,
so the sizes nest) the articles go into a fresh index (a temporary folder, or
``--keep DIR``), or ``--index-for SIZE=DIR`` reuses a built one, and it reports:

- ingest: ``Assistant.ingest`` of the size's articles (parse, chunk, embed, Chroma and
  lexical writes) in passages per second, beside the same ``embedder.embed`` alone on the
  very passage texts stored (in calls of 4,096 texts), and the ratio (``--no-embed-alone``
  skips it); "reused" for a reused index;
- asking: the first ``ask`` of a fresh process (models load), then warm ``ask`` p50 / p95
  over the accuracy questions (after three warm-up questions) beside the floor, one query
  embedding plus one Chroma query of ``candidates`` passages (``measure.floor``, as in
  ``core.py``) for the same questions on the same index;
- peak RSS per phase: ingest and asking each run in a fresh subprocess of this script, which
  reports its own ``ru_maxrss``; the ingest phase reads it right after ``ingest`` returns,
  before the raw embedding, so each figure covers one phase (with its imports and models);
- the index's size on disk (``Assistant.stats``);
- cold CLI ask: wall time of ``assistant ask QUESTION --index DIR`` (the first accuracy
  question) in a fresh process, median of 3 (``--cli-runs``), run after the asking phase (so
  the index files are in the OS page cache: a fresh process, not a cold disk);
- answers: ``news.py``'s scoring (``news.ask``) of the accuracy questions whose search
  results are all in the smallest size (and, for a reused index, all in that index): the
  reply holds the answer string, a citation states it, abstained, and the top-4 passages
  hold it. The same questions at every size (``--questions N`` keeps every k-th, N at most),
  so the rows show quality against size. Accuracy questions are the ``--split`` weeks'
  (``even``, the report weeks; the answerer was fitted on ``odd``).

Before the first size, a throwaway process ingests the bundled article and asks once, so
that one-time work (the ONNX backends export the models into the user's cache on first use)
is charged to no size.

Settings (embedding backend, batch size, passage size, ...) come from ``ASSISTANT_*`` and
``assistant.toml`` as for the CLI, and are printed first. The full run takes hours
(the whole year took over two hours to ingest on a two-core machine):

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/scale.py --sizes 10000,50000,all \
        [--questions N] [--keep DIR] [--index-for all=build/news-all] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news
import news_data
import news_sizes
from measure import floor, load, p50_p95, rss_peak, timed

from assistant import Assistant
from assistant.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = (
    "What happened this week?",
    "Who won the election?",
    "How many people were affected?",
)
RAW_CALL = 4096
PER_FILE = 50
STARTED = [time.time()]
"""When the run started (a phase's process is told its parent's)."""


def say(message: str) -> None:
    """A progress line on stderr, with the minutes since the run started."""
    elapsed = time.time() - STARTED[0]
    print(f"[{elapsed / 60:6.1f} min] {message}", file=sys.stderr, flush=True)


def describe(bot: Assistant) -> str:
    torch = sys.modules.get("torch")
    threads = f", torch {torch.get_num_threads()} threads" if torch else ""
    e = bot.embedder
    return f"{type(e).__name__} {e.name} ({e.dimension}-d{threads})"


@dataclass
class Ingested:
    """What the ingest phase measured (in its own process)."""

    articles: int
    passages: int
    seconds: float
    raw_seconds: float
    peak_rss: int
    copies: int
    skipped: int
    embedder: str


@dataclass
class Asked:
    """What the asking phase measured (in its own process)."""

    articles: int
    passages: int
    bytes: int
    first_ask: float
    floors: list[float]
    outcomes: list[news.Outcome]
    peak_rss: int
    embedder: str


@dataclass(frozen=True)
class Plan:
    """What the run measures: the sizes, the questions (id -> the index ids of its search
    results) and the question the CLI asks, with the dataset's rows."""

    sizes: list[news_sizes.Size]
    needs: dict[str, list[str]]
    cli_question: str
    rows: dict[str, news_sizes.Row]


@dataclass
class Result:
    """One size: its phases' figures and the cold CLI asks."""

    size: str
    index: str
    reused: bool
    ingested: Ingested | None = None
    asked: Asked | None = None
    cli: list[float] = field(default_factory=list)


# the phases, each run in a fresh process -----------------------------------------------


@dataclass
class Prepared:
    """How long the one-time preparation took, and with which embedder."""

    seconds: float
    embedder: str


def prepare_phase(job: dict[str, Any]) -> Prepared:
    """Ingest the bundled article and ask once, so that one-time work (such as a backend's
    model export into the user's cache) is done before anything is measured."""
    started = time.perf_counter()
    bot = Assistant(index_dir=job["index"])
    bot.ingest([ROOT / "articles"])
    bot.ask(WARM_UP[0])
    return Prepared(time.perf_counter() - started, describe(bot))


def ingest_phase(job: dict[str, Any]) -> Ingested:
    bot = Assistant(index_dir=job["index"])
    files = sorted(Path(job["corpus"]).glob("*.jsonl"))
    say(f"ingest: embedder {describe(bot)}; model load + first embedding ...")
    say(f"ingest: model ready in {timed(partial(bot.embedder.embed, ['warm up'])):.1f} s")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        took = time.perf_counter() - started
        eta = took / done * (total - done)
        say(f"ingest: {done}/{total} files, {took:.0f} s, about {eta:.0f} s to go")

    report = bot.ingest(files, progress=progress)
    seconds = time.perf_counter() - started
    peak = rss_peak()
    stats = bot.stats()
    say(f"ingest: {stats.passages:,} passages in {seconds:.0f} s ({report.skipped} files skipped)")
    texts = [p.text for p in bot.index.passages()] if job.get("embed_alone", True) else []
    raw = 0.0
    for lo in range(0, len(texts), RAW_CALL):
        raw += timed(partial(bot.embedder.embed, texts[lo : lo + RAW_CALL]))
        say(f"embed alone: {min(lo + RAW_CALL, len(texts)):,}/{len(texts):,}, {raw:.0f} s")
    return Ingested(
        stats.articles,
        stats.passages,
        seconds,
        raw,
        peak,
        report.duplicates,
        report.skipped,
        describe(bot),
    )


def ask_phase(job: dict[str, Any]) -> Asked:
    # Opened as the command line and the chat page open it: the networks load beside the index.
    bot = Assistant(index_dir=job["index"], create=False, preload=True)
    stats = bot.stats()
    indexed = set(bot.index.sources())
    by_id = {q.id: q for q in news_data.questions()}
    questions = [by_id[i] for i, needs in job["questions"].items() if set(needs) <= indexed]
    say(f"ask: {len(questions)} of {len(job['questions'])} questions have all results here")
    first = timed(partial(bot.ask, WARM_UP[0]))
    for question in WARM_UP:
        bot.ask(question)
    outcomes = []
    for n, q in enumerate(questions, 1):
        outcomes.append(news.ask(bot, q, True))
        if n % 10 == 0 or n == len(questions):
            right = sum(o.in_text for o in outcomes)
            say(f"ask: {n}/{len(questions)} asked, {right} answered right")
    k = bot.settings.candidates
    floors = [timed(partial(floor, bot, q.question, k)) for q in questions]
    return Asked(
        stats.articles,
        stats.passages,
        stats.bytes or 0,
        first,
        floors,
        outcomes,
        rss_peak(),
        describe(bot),
    )


def run_phase(phase: str, job: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run ``phase`` in a fresh process of this script; its figures as a dict."""
    job_file, result_file = work / f"{phase}-job.json", work / f"{phase}-result.json"
    job_file.write_text(json.dumps({**job, "result": str(result_file), "started": STARTED[0]}))
    command = [sys.executable, __file__, "--phase", phase, "--job", str(job_file)]
    if subprocess.run(command, check=False).returncode != 0:
        raise RuntimeError(f"the {phase} phase failed (see above)")
    found: dict[str, Any] = json.loads(result_file.read_text())
    return found


def child(phase: str, job_file: Path) -> int:
    job = json.loads(job_file.read_text())
    STARTED[0] = job["started"]
    result = PHASES[phase](job)
    Path(job["result"]).write_text(json.dumps(asdict(result)))
    return 0


PHASES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "prepare": prepare_phase,
    "ingest": ingest_phase,
    "ask": ask_phase,
}


# one size, from the parent ------------------------------------------------------------


def cli_asks(index: Path, question: str, runs: int) -> list[float]:
    """Wall seconds of ``assistant ask`` in a fresh process, ``runs`` times."""
    say(f"cli: asking {question!r}")
    command = [str(Path(sys.executable).with_name("assistant")), "ask", question]
    seconds = []
    for n in range(1, runs + 1):
        started = time.perf_counter()
        done = subprocess.run([*command, "--index", str(index)], capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            say(f"cli: exit {done.returncode}: {done.stderr.strip()[-500:]}")
            return []
        say(f"cli: ask {n}/{runs} took {seconds[-1]:.1f} s")
    return seconds


def measure(
    size: news_sizes.Size,
    plan: Plan,
    index: Path,
    reused: bool,
    work: Path,
    cli_runs: int,
    embed_alone: bool = True,
) -> Result:
    """Ingest (unless reused), ask and run the CLI on one size's index; ``embed_alone``:
    time the embedder alone on the stored passages too."""
    result = Result(size.label, str(index), reused)
    if not reused:
        corpus = work / "corpus"
        news_sizes.write(size.article_ids, plan.rows, corpus, PER_FILE)
        say(f"size {size.label}: ingesting {len(size.article_ids):,} articles into {index}")
        job = {"index": str(index), "corpus": str(corpus), "embed_alone": embed_alone}
        got = run_phase("ingest", job, work)
        result.ingested = Ingested(**got)
        shutil.rmtree(corpus)
    say(f"size {size.label}: asking in a fresh process")
    got = run_phase("ask", {"index": str(index), "questions": plan.needs}, work)
    got["outcomes"] = [news.Outcome(**o) for o in got["outcomes"]]
    result.asked = Asked(**got)
    result.cli = cli_asks(index, plan.cli_question, cli_runs)
    return result


# the report -----------------------------------------------------------------------------


def ms(seconds: Sequence[float]) -> str:
    if not seconds:
        return "-"
    p50, p95 = p50_p95(seconds)
    return f"{p50:,.0f} / {p95:,.0f} ms"


def rows_of(r: Result) -> dict[str, str]:
    """The table's cells for one size."""
    a, i = r.asked, r.ingested
    cells: dict[str, str] = {}
    if a is not None:
        cells["articles / passages"] = f"{a.articles:,} / {a.passages:,}"
        cells["index on disk"] = f"{a.bytes / 1e6:,.0f} MB"
    if i is None:
        for row in ("ingest, passages/s", "embed alone, passages/s", "ingest / embed"):
            cells[row] = "reused"
        cells["peak RSS, ingest"] = "reused"
    else:
        ingest, raw = i.passages / i.seconds, i.passages / max(i.raw_seconds, 1e-9)
        cells["ingest, passages/s"] = f"{ingest:,.1f} ({i.seconds:,.0f} s)"
        measured = i.raw_seconds > 0
        cells["embed alone, passages/s"] = (
            f"{raw:,.1f} ({i.raw_seconds:,.0f} s)" if measured else "not measured"
        )
        cells["ingest / embed"] = f"{ingest / raw:.2f}" if measured else "-"
        cells["peak RSS, ingest"] = f"{i.peak_rss / 1e6:,.0f} MB"
    if a is not None:
        asks = [o.seconds for o in a.outcomes]
        cells["first ask, fresh process"] = f"{a.first_ask * 1000:,.0f} ms"
        cells["ask p50 / p95, warm"] = ms(asks)
        cells["floor p50 / p95"] = ms(a.floors)
        if asks:
            ratio = statistics.median(asks) / statistics.median(a.floors)
            cells["ask p50 / floor p50"] = f"{ratio:,.1f}"
        cells["peak RSS, asking"] = f"{a.peak_rss / 1e6:,.0f} MB"
    cells[f"CLI ask, cold (median of {len(r.cli)})"] = (
        f"{statistics.median(r.cli):.1f} s" if r.cli else "-"
    )
    if a is not None:
        yes = a.outcomes
        cells["questions asked"] = str(len(yes))
        cells["answer accuracy (reply holds it)"] = news.share([o.in_text for o in yes])
        cells["a citation states the answer"] = news.share([o.in_citation for o in yes])
        cells["abstained"] = news.share([o.abstained for o in yes])
        cells[f"top-{news.BASELINE_K} passages hold the answer"] = news.share(
            [o.in_top4 for o in yes]
        )
    return cells


def table(results: Sequence[Result]) -> str:
    """Sizes across, figures down."""
    if not results:
        return "(no size was measured)"
    columns = [rows_of(r) for r in results]
    names = list(dict.fromkeys(name for c in columns for name in c))
    width = max(len(n) for n in names)
    cell = max(12, *(len(v) for c in columns for v in c.values()))
    head = "".join(f"{r.size:>{cell + 2}}" for r in results)
    lines = [f"{'passages asked for':<{width}}{head}"]
    for name in names:
        values = "".join(f"{c.get(name, '-'):>{cell + 2}}" for c in columns)
        lines.append(f"{name:<{width}}{values}")
    return "\n".join(lines)


def embedders(results: Sequence[Result]) -> str:
    """The embedders the phases reported (one, unless the settings changed mid-run)."""
    found = {p.embedder for r in results for p in (r.ingested, r.asked) if p is not None}
    return "; ".join(sorted(found)) or "-"


def header(settings: Settings) -> list[str]:
    versions = ", ".join(
        f"{p} {metadata.version(p)}" for p in ("torch", "sentence-transformers", "chromadb")
    )
    shown = settings.model_dump(mode="json", exclude={"llm_api_key"})
    env = sorted(k for k in os.environ if k.startswith("ASSISTANT_"))
    backend = getattr(settings, "embedding_backend", "(no such setting in this version)")
    return [
        f"command:   HF_HUB_OFFLINE={os.environ['HF_HUB_OFFLINE']} {sys.executable} "
        + " ".join(shlex.quote(a) for a in sys.argv),
        f"machine:   {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; "
        + versions,
        f"embedding_backend: {backend}",
        "settings:  " + ", ".join(f"{k}={v}" for k, v in shown.items()),
        "ASSISTANT_* set: "
        + (", ".join(k if "KEY" in k else f"{k}={os.environ[k]}" for k in env) or "none"),
        f"load avg at start: {load()}  (the machine is shared; other work slows these numbers)",
    ]


# the command ----------------------------------------------------------------------------


def size_arg(text: str) -> list[int | None]:
    try:
        return [None if s.strip() == "all" else int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "sizes are passage counts or 'all', e.g. 10000,all"
        ) from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", type=size_arg, default=[10_000, 50_000, None], help="e.g. 10000,50000,all"
    )
    parser.add_argument("--split", choices=news_data.SPLITS, default="even")
    parser.add_argument("--questions", type=int, default=None, help="ask about N questions")
    parser.add_argument("--cli-runs", type=int, default=3, help="cold CLI asks per size")
    parser.add_argument("--keep", type=Path, default=None, help="build indexes in DIR/scale-SIZE")
    parser.add_argument(
        "--index-for",
        action="append",
        default=[],
        metavar="SIZE=DIR",
        help="reuse the index in DIR for SIZE instead of ingesting (repeatable)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--no-embed-alone",
        dest="embed_alone",
        action="store_false",
        help="skip timing the embedder alone on the ingested passages (it doubles a size's "
        "ingest time)",
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def index_dirs(args: argparse.Namespace) -> tuple[dict[str, Path | None], set[str]]:
    """Where each size's index goes (None: a temporary folder), and which sizes reuse a
    built one (``--index-for``); checked before anything runs."""
    labels = [news_sizes.label(t) for t in args.sizes]
    reused: dict[str, Path] = {}
    for item in args.index_for:
        label, sep, folder = item.partition("=")
        if not sep or label not in labels:
            raise SystemExit(f"--index-for {item}: give SIZE=DIR with SIZE one of --sizes")
        if not Path(folder).is_dir():
            raise SystemExit(f"--index-for {item}: no index at {folder}")
        reused[label] = Path(folder)
    dirs: dict[str, Path | None] = {}
    for label in labels:
        dirs[label] = reused.get(label) or (args.keep / f"scale-{label}" if args.keep else None)
        built = dirs[label]
        if label not in reused and built is not None and built.exists():
            raise SystemExit(f"{built} exists - remove it, or reuse it with --index-for")
    return dirs, set(reused)


def plan(args: argparse.Namespace, settings: Settings) -> Plan:
    """Choose each size's articles and the questions asked at every size."""
    say("reading RealTime QA 2023 and choosing the articles of each size")
    rows = news_data.articles()
    pool = news_sizes.accuracy_questions(args.split)
    order = news_sizes.article_order(pool, rows)
    chosen = news_sizes.sizes(args.sizes, order, rows, settings.passage_chars)
    smallest = min(chosen, key=lambda s: len(s.article_ids))
    asked = news_sizes.held(pool, smallest)
    if args.questions:
        asked = asked[:: max(1, len(asked) // args.questions)][: args.questions]
    for s in chosen:
        counted = f", {s.passages:,} passages" if s.passages is not None else ""
        say(f"size {s.label}: {len(s.article_ids):,} articles{counted}")
    say(f"questions of the {args.split} weeks asked at every size: {len(asked)}")
    return Plan(
        chosen,
        {q.id: news_sizes.content_ids(q, rows) for q in asked},
        asked[0].question if asked else WARM_UP[0],
        rows,
    )


def run(
    args: argparse.Namespace, chosen: Plan, dirs: dict[str, Path | None], reused: set[str]
) -> list[Result]:
    """Measure every size in turn; stop at a phase that fails."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="assistant-scale-") as tmp:
        say("preparing: the bundled article ingested and asked once, in a fresh process")
        got = run_phase("prepare", {"index": str(Path(tmp) / "prepare")}, Path(tmp))
        say(f"prepared in {got['seconds']:.0f} s with {got['embedder']}")
        for s in chosen.sizes:
            index = dirs[s.label] or Path(tmp) / f"scale-{s.label}"
            try:
                reuse = s.label in reused
                results.append(
                    measure(s, chosen, index, reuse, Path(tmp), args.cli_runs, args.embed_alone)
                )
            except RuntimeError as exc:
                print(f"size {s.label}: {exc}", file=sys.stderr)
                break
            finally:
                if dirs[s.label] is None:
                    shutil.rmtree(index, ignore_errors=True)
            print(table(results), file=sys.stderr, flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        return child(args.phase, args.job)
    settings = load_settings()
    if settings.chroma_url:
        raise SystemExit("unset ASSISTANT_CHROMA_URL: this benchmark measures on-disk indexes")
    dirs, reused = index_dirs(args)
    lines = header(settings)
    print("\n".join(lines), file=sys.stderr, flush=True)
    chosen = plan(args, settings)
    try:
        results = run(args, chosen, dirs, reused)
    except RuntimeError as exc:  # the preparation failed: nothing was measured
        raise SystemExit(str(exc)) from None
    print("\n".join(lines))
    print()
    print(table(results))
    print()
    print(f"embedder: {embedders(results)}")
    print(f"CLI question: {chosen.cli_question!r}")
    print(f"load avg at end: {load()}")
    print(f"total time: {(time.time() - STARTED[0]) / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return 0 if len(results) == len(chosen.sizes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
