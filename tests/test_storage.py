"""Several processes on one on-disk index, writes killed at any point, read-only indexes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import HashingEmbedder

from assistant import Assistant, IndexBusyError, ReadOnlyError, Settings
from assistant.embedding import Embedder, make_embedder
from assistant.storage import PENDING_FILE

TESTS = Path(__file__).resolve().parent
ASSISTANT = str(Path(sys.prefix) / "bin" / "assistant")
PLACES = ["Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi", "Quito", "Accra", "Riga", "Dhaka", "Tunis"]
THINGS = ["bridge", "library", "harbour", "railway", "hospital", "stadium", "museum", "tunnel"]


def write_articles(folder: Path, count: int, first: int = 0, version: str = "") -> list[Path]:
    """``count`` small distinct news articles as .txt files (about three passages each)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(first, first + count):
        place, thing = PLACES[n % len(PLACES)], THINGS[n % len(THINGS)]
        lines = [f"Report {n}{version}: {place} opens a new {thing}"]
        lines += [
            f"Officials in {place} said on day {d} that the {thing} number {n} cost "
            f"{n * 7 + d} million and would serve {n * 100 + d} people every week{version}."
            for d in range(1, 13)
        ]
        path = folder / f"report-{n:03d}.txt"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def fake(folder: Path, lock_timeout: float = 60.0) -> Assistant:
    settings = Settings(index_dir=folder, lock_timeout=lock_timeout)
    return Assistant(settings=settings, embedder=HashingEmbedder())


def snapshot(bot: Assistant) -> tuple[int, int, list[tuple[str, int]]]:
    stats = bot.stats()
    assert not bot.check().lexical  # the lexical store holds exactly the passages
    return stats.articles, stats.passages, sorted(stats.passages_per_article.items())


def assert_citations_verify(bot: Assistant, questions: list[str]) -> None:
    for question in questions:
        reply = bot.ask(question)
        for c in reply.citations:
            assert bot.article(c.article_id).text[c.start : c.end] == c.quote


# A writer that dies (SIGKILL, as a crash or an out-of-memory kill would) at a chosen point.
WORKER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from conftest import HashingEmbedder
    from chromadb.api.models.Collection import Collection
    from assistant import Assistant, api, lexical, storage

    api.FLUSH_PASSAGES = 128  # the test corpus (425 passages) is written in several flushes
    point, index_dir, command, *args = sys.argv[1:]
    calls = {{}}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def counted(name, original):
        def run(self, *a, **k):
            kind = name + ":" + getattr(self, "name", "x-lexical").rsplit("-", 1)[1]
            calls[kind] = calls.get(kind, 0) + 1
            if point == kind + "#" + str(calls[kind]):
                die()
            result = original(self, *a, **k)
            if point == "after-" + kind + "#" + str(calls[kind]):
                die()
            return result
        return run

    Collection.upsert = counted("upsert", Collection.upsert)
    Collection.delete = counted("delete", Collection.delete)
    lexical.LexicalStore.add = counted("add", lexical.LexicalStore.add)
    if point == "before-stamp":
        storage.Store.wrote = lambda self: die()
    bot = Assistant(index_dir=index_dir, embedder=HashingEmbedder())
    if command == "ingest":
        bot.ingest(args)
    else:
        bot.remove(args[0])
    print("finished")
    """
)

KILL_POINTS = [
    "upsert:passages#1",  # before anything is written
    "after-upsert:passages#1",  # passages written, their words and articles not
    "after-add:lexical#1",  # passages and their words written, their articles not
    "after-upsert:articles#1",  # the first flush written, the rest not
    "upsert:passages#2",  # between two flushes
    "before-stamp",  # everything written, readers not told
]


def run_worker(tmp_path: Path, point: str, index: Path, command: str, *args: str) -> int:
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=str(TESTS)))
    done = subprocess.run(
        [sys.executable, str(script), point, str(index), command, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_articles(folder, 120)
    return folder


@pytest.fixture(scope="module")
def clean_build(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, ...]:
    bot = fake(tmp_path_factory.mktemp("clean") / "index")
    bot.ingest([corpus])
    return snapshot(bot)


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_an_ingest_killed_anywhere_is_repaired_by_the_next_one(
    point: str, corpus: Path, clean_build: tuple[object, ...], tmp_path: Path
) -> None:
    index = tmp_path / "index"
    assert run_worker(tmp_path, point, index, "ingest", str(corpus)) == -signal.SIGKILL
    bot = fake(index)
    bot.ingest([corpus])
    assert snapshot(bot) == clean_build
    found = bot.check()
    assert found.ok and found.orphans == () and found.incomplete == ()
    assert not (index / PENDING_FILE).exists()
    assert_citations_verify(bot, ["What did the Lisbon bridge cost?", "How many people in Oslo?"])


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_an_ingest_killed_at_a_random_moment_is_repaired(
    delay: float, corpus: Path, clean_build: tuple[object, ...], tmp_path: Path
) -> None:
    index = tmp_path / "index"
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=str(TESTS)))
    proc = subprocess.Popen(
        [sys.executable, str(script), "none", str(index), "ingest", str(corpus)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.kill()
    proc.wait()
    bot = fake(index)
    bot.ingest([corpus])
    assert snapshot(bot) == clean_build
    assert bot.check().ok


@pytest.mark.slow
def test_orphans_of_a_file_edited_after_a_crash_are_removed(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_articles(folder, 30)
    fake(index).ingest([folder])
    write_articles(folder, 30, version=" (updated)")
    assert run_worker(tmp_path, "after-upsert:passages#1", index, "ingest", str(folder)) < 0
    found = fake(index).check()
    assert found.orphans and found.interrupted and not found.ok
    write_articles(folder, 30, version=" (corrected)")
    bot = fake(index)
    bot.ingest([folder])
    clean = fake(tmp_path / "clean")
    clean.ingest([folder])
    assert snapshot(bot) == snapshot(clean)
    assert bot.check().ok


@pytest.mark.slow
def test_a_removal_killed_half_way_leaves_no_orphans_after_check_repair(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_articles(folder, 10)
    bot = fake(index)
    bot.ingest([folder])
    victim = bot.articles()[0]
    per_article = bot.stats().passages_per_article
    assert run_worker(tmp_path, "delete:passages#1", index, "remove", victim.id) < 0
    found = fake(index).check()
    assert len(found.orphans) == per_article[victim.id]
    assert found.interrupted
    repaired = fake(index).check(repair=True)
    assert repaired.repaired
    after = fake(index)
    assert after.check().ok
    assert victim.id not in {a.id for a in after.articles()}
    assert after.stats().passages == sum(n for a, n in per_article.items() if a != victim.id)


def test_check_repair_mends_incomplete_articles_and_a_stale_manifest(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_articles(folder, 5)
    bot = fake(index)
    bot.ingest([folder])
    victim = bot.articles()[0]
    bot.index._passages.delete(ids=[f"{victim.id}:0"])  # a passage lost behind our back
    (index / "manifest.json").unlink()
    found = bot.check()
    assert found.incomplete == (victim.id,) and found.manifest and not found.ok
    repaired = bot.check(repair=True)
    assert repaired.repaired and repaired.reingest == (str(folder / "report-000.txt"),)
    assert bot.check().ok and (index / "manifest.json").exists()
    bot.ingest([folder])  # the file named for re-ingesting brings the article back whole
    assert bot.article(victim.id).id == victim.id and bot.check().ok


def test_a_second_writer_waits_and_then_gives_up_with_the_writers_pid(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_articles(folder, 3)
    holder = fake(index)
    holder.ingest([folder])
    other = fake(index, lock_timeout=0.5)
    with holder.index.writing():
        started = time.monotonic()
        with pytest.raises(IndexBusyError, match=f"being written by process {os.getpid()}"):
            other.ingest(write_articles(folder, 1, first=3))
        assert time.monotonic() - started >= 0.5
    report = other.ingest([folder])  # the lock is free again
    assert report.added == 1 and holder.stats().articles == 4


@pytest.mark.slow
def test_the_cli_says_which_process_writes_and_waits_for_it(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_articles(folder, 3)
    holder = Assistant(index_dir=index, embedder=make_embedder())
    holder.ingest([folder])
    env = {**os.environ, "ASSISTANT_LOCK_TIMEOUT": "1"}
    with holder.index.writing():
        done = subprocess.run(
            [ASSISTANT, "ingest", str(folder), "--index", str(index)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"process {os.getpid()}" in errors[0]
    assert "wait for it to finish" in errors[0]


@pytest.mark.slow
def test_a_long_lived_reader_follows_a_writer_process_without_errors(
    tmp_path: Path, real_embedder: Embedder, bundled_article: Path
) -> None:
    index, more = tmp_path / "index", tmp_path / "more"
    write_articles(more, 60)
    reader = Assistant(index_dir=index, embedder=real_embedder)
    reader.ingest([bundled_article])
    errors: list[str] = []
    seen: dict[str, float] = {}
    stop = threading.Event()

    def ask_forever() -> None:
        questions = ["Where were the talks held?", "What did the Lisbon bridge cost?"]
        n = 0
        while not stop.is_set():
            try:
                reader.ask(questions[n % 2])
                count = len(reader.articles())
                seen.setdefault(str(count), time.monotonic())
            except Exception as exc:  # any error at all is a failure
                errors.append(f"{type(exc).__name__}: {exc}")
            n += 1

    thread = threading.Thread(target=ask_forever)
    thread.start()
    try:
        writer = subprocess.run(
            [ASSISTANT, "ingest", str(more), "--index", str(index)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        finished = time.monotonic()
        assert writer.returncode == 0, writer.stderr
        deadline = finished + 5
        while time.monotonic() < deadline and "61" not in seen:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert "61" in seen and seen["61"] - finished <= 5
    reply = reader.ask("What did the bridge in Lisbon cost?")
    assert not reply.abstained and "Lisbon" in reply.text


# read-only indexes --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_read_only_index_answers_and_lists_but_refuses_writes(
    read_only_index: Path, real_embedder: Embedder, tmp_path: Path
) -> None:
    def files() -> dict[str, tuple[int, int]]:
        found = (p for p in read_only_index.rglob("*") if p.is_file())
        return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in found}

    before = files()
    bot = Assistant(index_dir=read_only_index, embedder=real_embedder, create=False)
    assert bot.read_only
    assert len(bot.articles()) == 1
    reply = bot.ask("What did Russia propose on ceasefire length?")
    assert not reply.abstained and "two to three days" in reply.text
    assert bot.check().ok
    with pytest.raises(ReadOnlyError, match="read-only"):
        bot.ingest(write_articles(tmp_path / "new", 1, first=50))
    with pytest.raises(ReadOnlyError, match="read-only"):
        bot.remove(bot.articles()[0].id)
    assert len(bot.articles()) == 1
    assert files() == before
    assert list((tmp_path / "cache" / "assistant" / "read-only").glob("*/*/chroma.sqlite3"))


@pytest.mark.slow
def test_the_cli_on_a_read_only_index(read_only_index: Path, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ASSISTANT, *args, "--index", str(read_only_index)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = cli("articles")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1
    asked = cli("ask", "What did Russia propose on ceasefire length?")
    assert asked.returncode == 0 and "two to three days" in asked.stdout
    added = cli("ingest", str(write_articles(tmp_path / "new", 1, first=50)[0]))
    assert added.returncode == 1 and "Traceback" not in added.stderr
    assert added.stderr.strip().splitlines()[-1].startswith("Error: The index at")
    assert "read-only" in added.stderr
