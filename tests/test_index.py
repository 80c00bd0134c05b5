"""The index contract, in the spirit of LangChain's ``VectorStoreIntegrationTests``.

A real Chroma in ``tmp_path``, vectors from the fake embedder: it starts empty, upserting the
same ids twice changes nothing, deleting a missing id is a no-op, inputs are not mutated,
queries return a similarity (higher is closer) sorted best first, and the manifest refuses an
index built with another recipe.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
from chromadb.api.models.Collection import Collection

from assistant import index as index_module
from assistant import storage
from assistant.chunking import SPLITTER, chunk
from assistant.embedding import Embedder
from assistant.errors import IndexMismatchError, IndexMissingError
from assistant.index import MANIFEST_FILE, Index, Manifest
from assistant.ingest import article_id, normalise
from assistant.records import Article, ArticleInfo, Passage

TEXTS = {
    "bridge": (
        "Council approves the river bridge\n"
        "The city council approved the new river bridge on Monday after a long debate. "
        "Construction will start next spring. The bridge should take two years to build."
    ),
    "library": (
        "Library opens late on Fridays\n"
        "The central library will stay open until ten on Fridays. Readers asked for longer "
        "hours. The change starts next month."
    ),
}
PASSAGE_CHARS = 100


def make_article(key: str) -> Article:
    text = normalise(TEXTS[key])
    return Article(id=article_id(text), title=text.split("\n")[0], text=text, source="Gazette")


def manifest_for(
    embedder: Embedder, passage_chars: int = PASSAGE_CHARS, splitter: str = SPLITTER
) -> Manifest:
    return Manifest(embedder.name, embedder.dimension, passage_chars, splitter)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def index(index_dir: Path, fake_embedder: Embedder) -> Index:
    return Index(index_dir, manifest_for(fake_embedder))


def add(index: Index, embedder: Embedder, key: str) -> tuple[Article, list[Passage]]:
    article = make_article(key)
    passages = chunk(article, PASSAGE_CHARS)
    index.upsert(article, passages, embedder.embed([p.text for p in passages]), [f"{key}.txt"])
    return article, passages


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The collections read in full from now on (``index._get_all``), one entry a read."""
    reads: list[object] = []
    real = index_module._get_all

    def counted(collection: object, include: list[str]) -> dict[str, list[object]]:
        reads.append(collection)
        return real(collection, include)

    monkeypatch.setattr(index_module, "_get_all", counted)
    return reads


def test_starts_empty(index: Index, fake_embedder: Embedder) -> None:
    stats = index.stats()
    assert (stats.articles, stats.passages, stats.passages_per_article) == (0, 0, {})
    assert index.articles() == []
    assert index.passages() == []
    assert index.query(fake_embedder.embed(["bridge"])[0], 5) == []
    assert index.article("missing") is None


def test_upsert_stores_articles_and_passages_as_given(
    index: Index, fake_embedder: Embedder
) -> None:
    article, passages = add(index, fake_embedder, "bridge")
    assert len(passages) > 1
    assert index.article(article.id) == article
    assert index.passages() == passages
    assert index.sources() == {article.id: ["bridge.txt"]}
    assert index.titles() == {article.id: article.title}
    stats = index.stats()
    assert (stats.articles, stats.passages) == (1, len(passages))
    assert stats.passages_per_article == {article.id: len(passages)}
    assert stats.bytes is not None and stats.bytes > 0


def test_upserting_the_same_ids_twice_is_idempotent(index: Index, fake_embedder: Embedder) -> None:
    _, passages = add(index, fake_embedder, "bridge")
    before = (index.stats(), index.passages(), index.articles(), index.revision())
    add(index, fake_embedder, "bridge")
    after = (index.stats(), index.passages(), index.articles(), index.revision())
    assert after[0].articles == before[0].articles == 1
    assert after[0].passages == before[0].passages == len(passages)
    assert after[1:] == before[1:]


def test_upsert_does_not_mutate_its_inputs(index: Index, fake_embedder: Embedder) -> None:
    article = make_article("bridge")
    passages = chunk(article, PASSAGE_CHARS)
    vectors = fake_embedder.embed([p.text for p in passages])
    sources = ["b.txt", "a.txt", "a.txt"]
    copies = (copy.deepcopy(article), copy.deepcopy(passages), vectors.copy(), list(sources))
    index.upsert(article, passages, vectors, sources)
    assert (article, passages, sources) == (copies[0], copies[1], copies[3])
    assert np.array_equal(vectors, copies[2])
    assert index.sources()[article.id] == ["a.txt", "b.txt"]


def test_delete_removes_the_article_and_all_its_passages(
    index: Index, fake_embedder: Embedder
) -> None:
    gone, _ = add(index, fake_embedder, "bridge")
    kept, kept_passages = add(index, fake_embedder, "library")
    index.delete(gone.id)
    assert index.article(gone.id) is None
    assert [a.id for a in index.articles()] == [kept.id]
    assert index.passages() == kept_passages
    hits = index.query(fake_embedder.embed(["river bridge council"])[0], 10)
    assert {h.passage.article_id for h in hits} == {kept.id}


def test_deleting_a_missing_id_is_a_no_op(index: Index, fake_embedder: Embedder) -> None:
    add(index, fake_embedder, "bridge")
    before = (index.stats(), index.passages(), index.articles())
    index.delete("0000000000000000")
    assert (index.stats(), index.passages(), index.articles()) == before


def test_query_returns_similarity_sorted_best_first(index: Index, fake_embedder: Embedder) -> None:
    _, bridge = add(index, fake_embedder, "bridge")
    add(index, fake_embedder, "library")
    target = bridge[1]
    hits = index.query(fake_embedder.embed([target.text])[0], 4)
    assert len(hits) == 4
    assert hits[0].passage == target
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
    similarities = [h.similarity for h in hits]
    assert similarities == sorted(similarities, reverse=True)
    assert all(-1.0 - 1e-6 <= s <= 1.0 + 1e-6 for s in similarities)
    assert hits[0].title == "Council approves the river bridge"


def test_query_never_returns_more_than_it_holds(index: Index, fake_embedder: Embedder) -> None:
    _, passages = add(index, fake_embedder, "library")
    hits = index.query(fake_embedder.embed(["library"])[0], 50)
    assert len(hits) == len(passages)
    assert len({h.passage.id for h in hits}) == len(hits)


def test_similarity_is_the_cosine_of_the_vectors(index: Index, fake_embedder: Embedder) -> None:
    _, passages = add(index, fake_embedder, "bridge")
    query = fake_embedder.embed(["council approved bridge spring"])[0]
    stored = index.vectors([p.id for p in passages])
    for hit in index.query(query, 10):
        assert hit.similarity == pytest.approx(float(stored[hit.passage.id] @ query), abs=1e-4)


def test_vectors_of_no_ids_is_empty(index: Index) -> None:
    assert index.vectors([]) == {}


def test_revision_changes_with_the_contents(index: Index, fake_embedder: Embedder) -> None:
    empty = index.revision()
    article, _ = add(index, fake_embedder, "bridge")
    added = index.revision()
    assert added != empty
    index.delete(article.id)
    assert index.revision() == empty


def test_revision_is_read_again_only_after_a_write(
    index: Index, index_dir: Path, fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(index, fake_embedder, "library")  # the first write stamps the index
    first = index.revision()
    reads = count_reads(monkeypatch)
    assert index.revision() == first
    assert reads == []  # nothing was written: the stamp says so
    other = Index(index_dir, manifest_for(fake_embedder))  # another process's view
    add(other, fake_embedder, "bridge")
    assert index.revision() != first
    assert len(reads) == 1
    assert index.revision() == other.revision()


def test_the_passage_count_is_read_again_only_after_a_write(
    index: Index, index_dir: Path, fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, passages = add(index, fake_embedder, "library")
    assert index.count() == len(passages)
    reads: list[str] = []
    real = Collection.count

    def counted(collection: Collection) -> int:
        reads.append(collection.name)
        return real(collection)

    monkeypatch.setattr(Collection, "count", counted)
    assert index.count() == len(passages)
    assert index.query(fake_embedder.embed(["library"])[0], 2)
    assert reads == []  # nothing was written since: the stamp says so
    other = Index(index_dir, manifest_for(fake_embedder))  # another process's view
    _, more = add(other, fake_embedder, "bridge")
    reads.clear()
    assert index.count() == len(passages) + len(more)
    assert index.count() == len(passages) + len(more)
    assert len(reads) == 1


def test_the_catalog_lists_metadata_newest_first_and_is_read_again_only_after_a_write(
    index: Index, index_dir: Path, fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge, bridge_passages = add(index, fake_embedder, "bridge")  # undated
    dated = replace(make_article("library"), published="2024-05-02", path="library.txt")
    dated_passages = chunk(dated, PASSAGE_CHARS)
    index.upsert(dated, dated_passages, fake_embedder.embed([p.text for p in dated_passages]), [])

    listed = index.catalog()

    assert [a.id for a in listed] == [dated.id, bridge.id]  # newest first, undated last
    assert listed[0] == ArticleInfo(
        dated.id, dated.title, "2024-05-02", "Gazette", None, "library.txt", len(dated_passages)
    )
    assert listed[1].passages == len(bridge_passages)
    assert index.stats().passages_per_article == {a.id: a.passages for a in listed}
    reads = count_reads(monkeypatch)
    assert index.catalog() == listed
    assert reads == []  # nothing was written: the stamp says so
    Index(index_dir, manifest_for(fake_embedder)).delete(dated.id)  # another process's write
    assert [a.id for a in index.catalog()] == [bridge.id]
    assert len(reads) == 1


def test_set_sources_replaces_the_list(index: Index, fake_embedder: Embedder) -> None:
    article, _ = add(index, fake_embedder, "bridge")
    index.set_sources(article, ["z.txt", "bridge.txt", "z.txt"])
    assert index.sources() == {article.id: ["bridge.txt", "z.txt"]}


def test_data_survives_reopening(index_dir: Path, fake_embedder: Embedder) -> None:
    first = Index(index_dir, manifest_for(fake_embedder))
    article, passages = add(first, fake_embedder, "bridge")
    again = Index(index_dir, manifest_for(fake_embedder), create=False)
    assert again.article(article.id) == article
    assert again.passages() == passages


# the manifest ---------------------------------------------------------------------------


def test_manifest_file_describes_the_index(
    index: Index, index_dir: Path, fake_embedder: Embedder
) -> None:
    written = json.loads((index_dir / MANIFEST_FILE).read_text())
    assert written == asdict(manifest_for(fake_embedder))
    assert written["model"] == fake_embedder.name
    assert written["dimension"] == fake_embedder.dimension
    assert written["passage_chars"] == PASSAGE_CHARS


@pytest.mark.parametrize(
    "change",
    [
        {"model": "another/model"},
        {"dimension": 128},
        {"passage_chars": 300},
    ],
)
def test_opening_with_another_recipe_raises_mismatch_that_says_rebuild(
    index: Index, index_dir: Path, fake_embedder: Embedder, change: dict[str, object]
) -> None:
    add(index, fake_embedder, "bridge")
    other = Manifest(**{**asdict(manifest_for(fake_embedder)), **change})
    with pytest.raises(IndexMismatchError) as caught:
        Index(index_dir, other)
    message = str(caught.value)
    assert "rebuild" in message
    assert "assistant ingest" in message
    assert "\n" not in message
    assert Index(index_dir, manifest_for(fake_embedder)).stats().passages > 0


def test_an_index_keeps_the_known_splitter_it_was_cut_with(
    index_dir: Path, fake_embedder: Embedder
) -> None:
    add(Index(index_dir, manifest_for(fake_embedder, splitter="pysbd")), fake_embedder, "bridge")
    reopened = Index(index_dir, manifest_for(fake_embedder), create=False)
    assert reopened.manifest.splitter == "pysbd" != manifest_for(fake_embedder).splitter
    assert json.loads((index_dir / MANIFEST_FILE).read_text())["splitter"] == "pysbd"


def test_an_index_cut_by_an_unknown_splitter_is_refused(
    index_dir: Path, fake_embedder: Embedder
) -> None:
    add(Index(index_dir, manifest_for(fake_embedder, splitter="regex")), fake_embedder, "bridge")
    with pytest.raises(IndexMismatchError, match=r"sentences cut by regex.*rebuild"):
        Index(index_dir, manifest_for(fake_embedder), create=False)


def test_mismatch_does_not_rewrite_the_manifest(
    index: Index, index_dir: Path, fake_embedder: Embedder
) -> None:
    before = (index_dir / MANIFEST_FILE).read_text()
    with pytest.raises(IndexMismatchError):
        Index(index_dir, manifest_for(fake_embedder, passage_chars=999))
    assert (index_dir / MANIFEST_FILE).read_text() == before


def test_missing_index_without_create_raises_and_creates_nothing(
    tmp_path: Path, fake_embedder: Embedder
) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(IndexMissingError) as caught:
        Index(missing, manifest_for(fake_embedder), create=False)
    assert "assistant ingest" in str(caught.value)
    assert not missing.exists()


def test_other_collection_without_create_is_missing(
    index: Index, index_dir: Path, fake_embedder: Embedder
) -> None:
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Index(index_dir, manifest_for(fake_embedder), name="other", create=False)


def test_collections_with_different_names_are_separate(
    index: Index, index_dir: Path, fake_embedder: Embedder
) -> None:
    add(index, fake_embedder, "bridge")
    other = Index(index_dir, manifest_for(fake_embedder), name="other")
    assert other.stats().passages == 0
    assert index.stats().passages > 0


def test_manifest_round_trips_through_metadata() -> None:
    manifest = Manifest(model="m", dimension=8, passage_chars=200)
    assert Manifest.from_metadata(manifest.to_metadata()) == manifest
    assert Manifest.from_metadata({"hnsw:space": "cosine"}) is None
    assert Manifest.from_metadata(None) is None
    assert Manifest.from_metadata({"manifest_model": "m"}) is None


# upgrading an older index -------------------------------------------------------------------


def test_a_format_1_index_is_upgraded_in_place(index_dir: Path, fake_embedder: Embedder) -> None:
    old = Index(index_dir, replace(manifest_for(fake_embedder), format=1))
    _, passages = add(old, fake_embedder, "bridge")
    ids = [p.id for p in passages]
    old._passages.update(ids=ids, metadatas=[{"day": None, "key": None}] * len(ids))
    assert "day" not in old._passages.get(ids=ids[:1], include=["metadatas"])["metadatas"][0]

    upgraded = Index(index_dir, manifest_for(fake_embedder), create=False)
    metas = upgraded._passages.get(ids=ids, include=["metadatas"])["metadatas"]
    assert [m["day"] for m in metas] == [0] * len(ids)  # the article is undated
    assert all("key" in m for m in metas)
    assert upgraded.passages() == passages
    assert json.loads((index_dir / MANIFEST_FILE).read_text())["format"] == Manifest.format
    vector = fake_embedder.embed([passages[0].text])[0]
    assert upgraded.query(vector, 1, as_of=20240101)[0].passage == passages[0]


def as_documents(
    self: Index, texts: list[str], metas: list[dict[str, str | int]]
) -> dict[str, list[object]]:
    """How format 2 wrote texts: as Chroma documents."""
    return {"documents": list(texts), "metadatas": metas}


@pytest.fixture
def format_2_index(
    index_dir: Path, fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> tuple[Article, list[Passage]]:
    """An index written the way format 2 wrote it, with the bridge article."""
    with monkeypatch.context() as patched:
        patched.setattr(Index, "_texts", as_documents)
        old = Index(index_dir, replace(manifest_for(fake_embedder), format=2))
        written = add(old, fake_embedder, "bridge")
    assert all(old._passages.get(include=["documents"])["documents"])
    return written


def test_on_disk_texts_are_kept_in_metadata_not_chroma_documents(
    index: Index, fake_embedder: Embedder
) -> None:
    """Chroma indexes every document for full-text search; an on-disk index keeps none."""
    article, passages = add(index, fake_embedder, "bridge")
    for collection in (index._passages, index._texts_of):
        got = collection.get(include=["documents", "metadatas"])
        assert got["ids"] and got["documents"] == [None] * len(got["ids"])
        assert all(m[index_module.TEXT] for m in got["metadatas"])
    listed = index._articles.get(include=["documents", "metadatas"])
    assert listed["documents"] == [None]  # titles and days are read without the texts
    assert index_module.TEXT not in listed["metadatas"][0]
    assert index.article(article.id) == article
    assert index.articles() == [article]
    assert index.passages() == passages
    vector = fake_embedder.embed([passages[0].text])[0]
    assert index.query(vector, 1)[0].passage == passages[0]


def test_a_text_whose_article_was_never_listed_is_swept(
    index: Index, fake_embedder: Embedder
) -> None:
    """A write that died between an article's text and its listing leaves the text alone."""
    article, _ = add(index, fake_embedder, "bridge")
    index._texts_of.upsert(ids=["unlisted"], embeddings=[[1.0]], metadatas=[{"text": "x"}])
    index._sweep()
    assert index._texts_of.get()["ids"] == [article.id]
    index.delete(article.id)
    assert index._texts_of.get()["ids"] == []


def test_a_format_2_index_reads_its_documents_and_takes_new_articles(
    format_2_index: tuple[Article, list[Passage]], index_dir: Path, fake_embedder: Embedder
) -> None:
    old_article, old_passages = format_2_index
    index = Index(index_dir, manifest_for(fake_embedder), create=False)
    assert json.loads((index_dir / MANIFEST_FILE).read_text())["format"] == Manifest.format
    new_article, new_passages = add(index, fake_embedder, "library")
    assert index.article(old_article.id) == old_article
    assert index.article(new_article.id) == new_article
    assert index.passages() == sorted(
        old_passages + new_passages, key=lambda p: (p.article_id, p.index)
    )
    assert index.containing("Construction will start next spring.") == {old_article.id}
    assert index.containing("The change starts next month.") == {new_article.id}
    words = ["bridg"]  # the lexical store's stemmed words
    assert {p.article_id for p, _ in index.lexical_search(words, 5) or []} == {old_article.id}


def test_a_format_2_index_that_cannot_be_upgraded_is_read_as_it_is(
    format_2_index: tuple[Article, list[Passage]],
    index_dir: Path,
    fake_embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Read-only (a mounted folder), it is read from a copy and never upgraded."""
    article, passages = format_2_index
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(storage, "_writable", lambda folder: False)
    index = Index(index_dir, manifest_for(fake_embedder), create=False)
    assert index.read_only
    assert index.article(article.id) == article
    assert index.passages() == passages
    assert json.loads((index_dir / MANIFEST_FILE).read_text())["format"] == 2


def test_as_of_leaves_out_later_articles_and_keeps_undated(
    index: Index, fake_embedder: Embedder
) -> None:
    dated = replace(make_article("library"), published="2024-05-02")
    passages = chunk(dated, PASSAGE_CHARS)
    index.upsert(dated, passages, fake_embedder.embed([p.text for p in passages]), ["l.txt"])
    add(index, fake_embedder, "bridge")  # undated
    vector = fake_embedder.embed(["library hours"])[0]
    before = {h.passage.article_id for h in index.query(vector, 20, as_of=20240501)}
    after = {h.passage.article_id for h in index.query(vector, 20, as_of=20240502)}
    assert before == {make_article("bridge").id}
    assert after == {dated.id, make_article("bridge").id}
    assert index.days() == {dated.id: 20240502, make_article("bridge").id: 0}


@pytest.mark.parametrize(("widen", "least"), [(5, 100), (1, 1)])
def test_as_of_cuts_a_wider_search_or_lets_chroma_filter(
    index: Index, fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch, widen: int, least: int
) -> None:
    """Wide enough, the nearest passages are searched unfiltered and cut at the day; too
    narrow to find ``k`` that pass, Chroma filters. Both give Chroma's filtered ranking."""
    later = replace(make_article("library"), published="2024-05-02")
    earlier = replace(make_article("bridge"), published="2024-04-01")
    for article in (later, earlier):
        passages = chunk(article, PASSAGE_CHARS)
        index.upsert(article, passages, fake_embedder.embed([p.text for p in passages]), ["x"])
    monkeypatch.setattr(index_module, "WIDEN", widen)
    monkeypatch.setattr(index_module, "MIN_WIDE", least)
    vector = fake_embedder.embed(["library hours"])[0]
    filtered = [h for h, _ in index._nearest(vector, 2, {"day": {"$lte": 20240501}})]
    found = index.query(vector, 2, as_of=20240501)
    # Equal similarities may come in either order, so the ranking is compared by similarity.
    assert [h.similarity for h in found] == pytest.approx([h.similarity for h in filtered])
    assert {h.passage.article_id for h in found} == {earlier.id}


def test_copies_and_containing_find_the_same_text_elsewhere(
    index: Index, fake_embedder: Embedder
) -> None:
    first, _ = add(index, fake_embedder, "bridge")
    copy_text = first.text.replace("Council approves", "Councillors approve")
    twin = Article(id="twin", title="Twin", text=copy_text)
    twin_passages = chunk(twin, PASSAGE_CHARS)
    vectors = fake_embedder.embed([p.text for p in twin_passages])
    index.upsert(twin, twin_passages, vectors, ["twin.txt"])
    sentence = "Construction will start next spring."
    assert index.containing(sentence) == {first.id, "twin"}
    assert index.containing("Nothing like this is written anywhere.") == set()
    index._lexical = None  # read without its lexical store: texts are read from metadata
    assert index.containing(sentence) == {first.id, "twin"}
    assert index.containing(sentence, as_of=20000101) == {first.id, "twin"}  # both undated
    assert index.containing("Nothing like this is written anywhere.") == set()
    keys = [m["key"] for m in index._passages.get(include=["metadatas"])["metadatas"]]
    found = index.copies([k for k in keys if k])
    assert any(holders == {first.id, "twin"} for holders in found.values())


def test_copied_counts_the_passages_another_article_shares(
    index: Index, fake_embedder: Embedder
) -> None:
    first, _ = add(index, fake_embedder, "bridge")
    add(index, fake_embedder, "library")
    assert index.copied() == 0
    twin = Article(id="twin", title="Twin", text=first.text.replace("Council", "Councillors"))
    twin_passages = chunk(twin, PASSAGE_CHARS)
    index.upsert(twin, twin_passages, fake_embedder.embed([p.text for p in twin_passages]), [])
    metas = index._passages.get(include=["metadatas"])["metadatas"]
    keys = {a: [m["key"] for m in metas if m["article_id"] == a] for a in (first.id, "twin")}
    shared = set(keys[first.id]) & set(keys["twin"]) - {""}
    assert shared
    expected = sum(k in shared for a in keys for k in keys[a])
    assert index.copied() == expected >= 2
