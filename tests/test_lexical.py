"""The lexical store: persisted with the index, updated per article, in step after failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import HashingEmbedder, OverlapReader

from assistant import Assistant
from assistant.lexical import FILE, LexicalStore, terms

STORIES = {
    "bridge.txt": (
        "Council approves the river bridge\n"
        "The city council approved the new river bridge on Monday after a long debate. "
        "Construction will start next spring and should take two years."
    ),
    "library.txt": (
        "Library opens late on Fridays\n"
        "The central library will stay open until ten on Fridays. Readers asked for longer "
        "hours, and the change starts next month."
    ),
    "ferry.json": (
        '{"title": "Ferry to Skarn resumes", "published": "2024-03-14", "text": "The ferry '
        "service to Skarn island resumed on Thursday after repairs. Crossings run every two "
        'hours."}'
    ),
}


def open_bot(index: Path) -> Assistant:
    return Assistant(index_dir=index, embedder=HashingEmbedder(), reader=OverlapReader())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in STORIES.items():
        (folder / name).write_text(text)
    return folder


def stored_ids(index: Path) -> set[str]:
    with sqlite3.connect(index / FILE) as db:
        return {row[0] for row in db.execute("SELECT id FROM passages")}


def passage_ids(bot: Assistant) -> set[str]:
    return {p.id for p in bot.index.passages()}


def test_store_ranks_by_bm25_and_filters(tmp_path: Path) -> None:
    store = LexicalStore(tmp_path)
    texts = ["the river bridge opened", "a bridge and a bridge again", "library hours"]
    store.add(
        (f"a{n}:0", f"a{n}", day, words)
        for n, (day, words) in enumerate(zip([20240101, 20240301, 0], terms(texts), strict=True))
    )
    found = store.search(terms(["bridge"])[0], 5)
    assert [i for i, _ in found] == ["a1:0", "a0:0"]  # more mentions, shorter: ranks first
    assert found[0][1] > found[1][1] > 0
    assert [i for i, _ in store.search(terms(["bridge"])[0], 5, as_of=20240201)] == ["a0:0"]
    assert [i for i, _ in store.search(terms(["bridge"])[0], 5, only={"a0"})] == ["a0:0"]
    assert store.search([], 5) == [] and store.search(["nothing"], 5) == []
    store.add([("a0:0", "a0", 20240101, terms(["library"])[0])])  # replaces, not duplicates
    assert store.count() == 3
    assert [i for i, _ in store.search(terms(["library"])[0], 5)] == ["a0:0", "a2:0"]


def test_ingest_writes_the_store_and_a_new_process_searches_it(
    tmp_path: Path, corpus: Path
) -> None:
    index = tmp_path / "index"
    bot = open_bot(index)
    bot.ingest([corpus])
    assert stored_ids(index) == passage_ids(bot)
    again = open_bot(index)
    hits = again.retrieve("When will construction of the bridge start?")
    assert hits[0].passage.article_id == next(a.id for a in again.articles() if "bridge" in a.title)
    assert again.retriever._lexical is None  # nothing was ranked in memory


def test_adding_and_removing_an_article_changes_only_its_rows(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    bot = open_bot(index)
    bot.ingest([corpus / "bridge.txt", corpus / "library.txt"])
    before = stored_ids(index)
    bot.ingest([corpus / "ferry.json"])
    ferry = next(a for a in bot.articles() if "Ferry" in a.title)
    added = stored_ids(index) - before
    assert added and all(i.startswith(ferry.id) for i in added)
    assert before <= stored_ids(index)
    bot.remove(ferry.id)
    assert stored_ids(index) == before


def test_an_index_without_a_store_gets_one_when_opened(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    bot = open_bot(index)
    bot.ingest([corpus])
    bot.index._lexical.close()  # type: ignore[union-attr]
    (index / FILE).unlink()
    for extra in index.glob(FILE + "-*"):
        extra.unlink()
    reopened = open_bot(index)
    assert stored_ids(index) == passage_ids(reopened)
    assert reopened.retrieve("ferry crossings")[0].passage.article_id in {
        a.id for a in reopened.articles() if "Ferry" in a.title
    }


def test_check_sees_a_store_out_of_step_and_repair_fixes_it(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    bot = open_bot(index)
    bot.ingest([corpus])
    some = sorted(stored_ids(index))[:2]
    with sqlite3.connect(index / FILE) as db:
        db.execute("INSERT INTO passages (id, article_id, day) VALUES ('ghost:0', 'ghost', 0)")
        marks = ",".join("?" * len(some))
        db.execute(f"DELETE FROM passages WHERE id IN ({marks})", some)
    found = bot.check()
    assert found.lexical and not found.ok
    fixed = bot.check(repair=True)
    assert fixed.repaired
    assert stored_ids(index) == passage_ids(bot)
    assert bot.check().ok


def test_a_read_only_index_with_a_stale_store_ranks_words_in_memory(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    bot = open_bot(index)
    bot.ingest([corpus])
    with sqlite3.connect(index / FILE) as db:
        db.execute("DELETE FROM passages")
    monkeypatch.setattr("assistant.storage._writable", lambda folder: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    reader = open_bot(index)
    assert reader.read_only
    hits = reader.retrieve("ferry crossings")
    assert any("ferry" in h.passage.text.lower() for h in hits)
    assert reader.retriever._lexical is not None  # built in memory instead


def test_phrase_finds_passages_holding_the_words_in_order(tmp_path: Path) -> None:
    store = LexicalStore(tmp_path)
    texts = ["The bank raised its rate on Monday.", "On Monday its rate, the bank raised."]
    store.add((f"a{n}:0", f"a{n}", 0, w) for n, w in enumerate(terms(texts)))
    assert store.phrase(terms(["The bank raised its rate"])[0], 10) == ["a0:0"]
    assert sorted(store.phrase(terms(["bank"])[0], 10)) == ["a0:0", "a1:0"]
    assert store.phrase([], 10) == []
