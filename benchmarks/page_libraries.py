"""Libraries of real news for the chat page's benchmark: the first N articles of RealTime QA 2023.

The articles are taken in publication order (ties by dataset id), so every size holds the
smaller ones; the whole year is 7,584 records, 7,445 articles once identical texts count once.
Each library is an index under ``build/page-N`` (built once, then reused: ingesting the whole
year takes over an hour on a two-core machine).

Usage: ``.venv/bin/python benchmarks/page_libraries.py 10 1000 7500``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import news_data

from assistant import Assistant

BUILD = Path(__file__).resolve().parents[1] / "build"


def folder(size: int) -> Path:
    """Where the library of ``size`` articles is kept."""
    return BUILD / f"page-{size}"


def ordered_ids() -> list[str]:
    """Every 2023 article id, oldest first."""
    news_data.select("2023")
    rows = news_data.articles()
    return sorted(rows, key=lambda i: (str(rows[i]["published"] or ""), i))


def build(size: int) -> Path:
    """The index of the first ``size`` articles, built unless it is already there."""
    target = folder(size)
    if (target / "chroma.sqlite3").exists():
        return target
    news_data.select("2023")
    ids = ordered_ids()[:size]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        corpus = news_data.write_corpus(ids, Path(work))
        partial = target.with_name(target.name + ".partial")
        report = Assistant(index_dir=partial).ingest([corpus])
        partial.rename(target)
    minutes = (time.perf_counter() - started) / 60
    print(
        f"built {target}: {report.added} articles from {len(ids)} records in {minutes:.1f} min",
        file=sys.stderr,
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+", help="articles per library")
    for size in parser.parse_args().sizes:
        print(build(size))


if __name__ == "__main__":
    main()
