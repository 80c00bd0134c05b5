"""The command line: thin commands over the library (parse, call, print)."""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from tqdm import tqdm

from assistant.api import Assistant
from assistant.config import load_settings
from assistant.embedding import backend_of, device
from assistant.errors import AssistantError
from assistant.evaluate import (
    diff_baseline,
    evaluate,
    format_diff,
    format_table,
    load_baseline,
    summary_line,
    write_report,
)
from assistant.goldset import load_gold
from assistant.records import Answer

app = typer.Typer(
    help="Ask questions about news articles; every answer cites its sentences.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder (default: ASSISTANT_INDEX_DIR or index/)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Use only articles published by this day (YYYY-MM-DD); undated count."
    ),
]
F = TypeVar("F", bound=Callable[..., Any])


def friendly(command: F) -> F:
    """Turn an ``AssistantError`` into a one-line message and exit status 1."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AssistantError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None

    return run  # type: ignore[return-value]


def open_assistant(index: Path | None, create: bool = False, preload: bool = False) -> Assistant:
    return Assistant(settings=load_settings(index_dir=index), create=create, preload=preload)


@app.command()
@friendly
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add.")],
    index: IndexOption = None,
) -> None:
    """Add .txt, .md, .html, .json and .jsonl articles to the index."""
    bot = open_assistant(index, create=True)
    ingester = bot.ingester
    typer.echo(f"Embedding with {backend_of(ingester)} on the {device(ingester)}.", err=True)
    with tqdm(total=0, unit="file", disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = bot.ingest(paths, progress=progress)
    for r in report.results:
        detail = r.reason if r.status == "skipped" else f"{r.article_id}  {r.title}"
        typer.echo(f"{r.status:<9}  {r.path}  {detail}")
    typer.echo(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped} skipped."
    )
    typer.echo(f"Wire copies: {report.duplicates} of the new passages repeat another article's.")
    if report.skipped:
        raise typer.Exit(1)


@app.command()
@friendly
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    as_of: AsOfOption = None,
) -> None:
    """Answer a question from the indexed articles, with citations."""
    bot = open_assistant(index, preload=True)
    if as_json:
        whole = bot.ask(question, as_of=as_of)
        typer.echo(json.dumps(whole.to_dict(), ensure_ascii=False, indent=2))
        return
    reply, shown = None, ""
    live = sys.stdout.isatty()
    for reply in bot.stream(question, as_of=as_of):
        if not reply.final and live:  # the model's draft as it is written, dimmed
            typer.echo(typer.style(reply.text[len(shown) :], dim=True), nl=False)
            shown = reply.text
    assert reply is not None
    if shown:
        typer.echo("\n")
    print_answer(reply)


def print_answer(reply: Answer) -> None:
    """The verified answer: its notice, short answer, text, removed sentences, citations."""
    if reply.notice:
        typer.echo(f"Note: {reply.notice}", err=True)
    short = reply.short
    if short:
        typer.echo(f"Short answer: {short.text} [{short.marker}]\n")
    if reply.status == "tentative":
        typer.echo(f"Tentative (confidence {reply.confidence:.0%}): ", nl=False)
    typer.echo(reply.text)
    for sentence in reply.unsupported:
        typer.echo(f"  (removed, not supported by the sources: {sentence})")
    for c in reply.citations:
        quote = c.quote
        if short and short.marker == c.marker:
            a, b = short.start - c.start, short.end - c.start
            quote = quote[:a] + typer.style(quote[a:b], bold=True, underline=True) + quote[b:]
        typer.echo(f"\n[{c.marker}] {c.title} ({c.published or 'undated'})\n    “{quote}”")
        if c.speaker:
            typer.echo(f"    said by {c.speaker}")
        if c.also_in:
            typer.echo(f"    also in {plural(len(c.also_in), 'other source')}")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@app.command()
@friendly
def timeline(
    query: Annotated[str, typer.Argument(help="What the timeline is about, in quotes.")],
    index: IndexOption = None,
    k: Annotated[int, typer.Option("-k", min=1, help="At most this many events.")] = 20,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON.")] = False,
) -> None:
    """Dated events about a subject, oldest first, each quoting its article."""
    events = open_assistant(index).timeline(query, k=k, as_of=as_of)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in events], ensure_ascii=False, indent=2))
        return
    if not events:
        typer.echo("No dated article tells of this.")
    for e in events:
        more = f"  (also in {plural(len(e.also_in), 'other source')})" if e.also_in else ""
        typer.echo(f"{e.date}  {e.title}{more}\n    “{e.quote}”")


@app.command()
@friendly
def articles(index: IndexOption = None) -> None:
    """List the indexed articles: id, passages, date and title."""
    bot = open_assistant(index)
    for a in sorted(bot.catalog(), key=lambda a: (a.title.lower(), a.id)):
        typer.echo(f"{a.id}  {a.passages:>4} passages  {a.published or '-':<10}  {a.title}")


@app.command()
@friendly
def remove(
    article_id: Annotated[str, typer.Argument(help="The article id (see `assistant articles`).")],
    index: IndexOption = None,
) -> None:
    """Delete an article and all its passages from the index."""
    bot = open_assistant(index)
    title = bot.article(article_id).title
    bot.remove(article_id)
    typer.echo(f"Removed {article_id}  {title}")


@app.command()
@friendly
def check(
    index: IndexOption = None,
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found.")] = False,
) -> None:
    """Look for inconsistencies a crash or a full disk left in the index; --repair fixes them."""
    found = open_assistant(index).check(repair=repair)
    typer.echo(f"{found.articles} articles, {found.passages} passages.")
    problems = {
        "passages belong to no listed article": len(found.orphans),
        "articles miss some of their passages": len(found.incomplete),
        "passages have a vector that cannot be read": len(found.unreadable),
        "manifest.json is missing or out of date": int(found.manifest),
        "write was interrupted and not cleaned up": int(found.interrupted),
        "lexical search index is out of step with the passages": int(found.lexical),
    }
    for what, n in problems.items():
        if n:
            typer.echo(f"  {n} {what}")
    if found.repaired:
        typer.echo("Repaired.")
        for path in found.reingest:
            typer.echo(f"  ingest again: {path}")
    elif not found.ok:
        typer.echo("Run `assistant check --repair` to fix them.")
        raise typer.Exit(1)
    else:
        typer.echo("No problems found.")


@app.command("eval")
@friendly
def eval_command(
    gold: Annotated[list[Path], typer.Argument(help="Gold-set files (.jsonl, .yaml) or folders.")],
    index: IndexOption = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write per-case results and metrics as JSON.")
    ] = None,
    pass_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Exit 1 when fewer cases pass than this share.")
    ] = 1.0,
    baseline: Annotated[
        Path | None, typer.Option(help="Compare with a saved run; exit 1 if a case newly fails.")
    ] = None,
    save_baseline: Annotated[
        Path | None, typer.Option(help="Store this run's per-case results as a baseline.")
    ] = None,
) -> None:
    """Run a gold set: pass or fail per case and why, then the metrics."""
    cases = load_gold(gold)
    before = load_baseline(baseline) if baseline else None
    report = evaluate(cases, open_assistant(index), progress=True)
    for path in (json_file, save_baseline):
        if path:
            write_report(report, path)
    typer.echo(format_table(report))
    diff = diff_baseline(report, before) if before is not None else None
    if diff:
        typer.echo(format_diff(diff))
    typer.echo(summary_line(report, pass_rate))
    if not report.meets(pass_rate) or (diff and diff.regressed):
        raise typer.Exit(1)


def main() -> None:
    """The ``assistant`` console script."""
    # The imports made about a million objects that live as long as the process: leave them out
    # of garbage collection, which would otherwise rescan them (about 0.6 s of a cold ask).
    gc.freeze()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("assistant").addHandler(handler)
    logging.getLogger("assistant").setLevel(logging.WARNING)
    app()
