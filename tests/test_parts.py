"""Sentence and clause vectors pooled from the passage's own encoding, stored at ingest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, parts
from assistant.chunking import chunk
from assistant.embedding import Embedder
from assistant.ingest import article_id
from assistant.records import Article

TEXT = (
    "Talks resume\n"
    "The delegations met in Geneva on Friday, after a pause of six weeks, to discuss a truce. "
    "Officials said the talks would continue next month (if both sides agree). "
    "No date was set."
)
ARTICLE = Article(article_id(TEXT), "Talks resume", TEXT)
PASSAGE = chunk(ARTICLE, 4000)[0]


def test_layout_splits_sentences_into_clauses() -> None:
    spans = parts.layout(PASSAGE)
    texts = [(n, PASSAGE.text[a:b]) for n, a, b in spans]
    assert texts[0] == (0, "Talks resume")
    assert (1, "The delegations met in Geneva on Friday,") in texts
    assert (1, "after a pause of six weeks,") in texts
    assert (2, "(if both sides agree).") in texts
    assert texts[-1] == (3, "No date was set.")


def test_parts_survive_their_bytes() -> None:
    means = np.random.default_rng(0).normal(size=(2, 384)).astype(np.float16)
    found = parts.Parts(means, np.array([4, 7], np.int32))
    data = found.to_bytes()
    assert len(data) == 1 + 2 * (4 + 4 + 384)  # int8 levels with a scale each
    back = parts.Parts.from_bytes(data, 384)
    assert back.counts.tolist() == [4, 7]
    cosines = (back.means * means).sum(axis=1) / (
        np.linalg.norm(back.means, axis=1) * np.linalg.norm(means, axis=1)
    )
    assert cosines.min() > 0.999


def test_one_pass_gives_the_passage_vector_and_sentence_vectors(real_embedder: Embedder) -> None:
    vectors, pooled = parts.encode([PASSAGE], real_embedder)
    assert np.allclose(vectors[0], real_embedder.embed([PASSAGE.text])[0], atol=1e-5)
    assert len(pooled[0].counts) == len(parts.layout(PASSAGE))
    assert all(pooled[0].counts > 0)
    own = parts.sentence_vectors(PASSAGE, pooled[0])
    alone = real_embedder.embed(
        [TEXT[s.start : s.end] for s in PASSAGE.sentences]  # each sentence encoded by itself
    )
    cosines = [float(a @ b) for a, b in zip(own.whole, alone, strict=True)]
    assert cosines[1] > 0.85  # a long sentence reads much the same in its passage
    assert min(cosines) > 0.5  # a short one takes more of its neighbours' meaning
    assert own.windows[1].shape[0] == 2  # three clauses: two windows
    assert own.after_before[0] is None and own.after_before[1] is not None


def test_pooled_vectors_rank_the_answering_sentence_first(real_embedder: Embedder) -> None:
    _, pooled = parts.encode([PASSAGE], real_embedder)
    own = parts.sentence_vectors(PASSAGE, pooled[0])
    query = real_embedder.embed(["Where did the delegations meet?"])[0]
    scores = [float(v @ query) for v in own.whole]
    assert int(np.argmax(scores)) == 1


def test_cache_reads_stored_parts_and_computes_the_rest(real_embedder: Embedder) -> None:
    _, pooled = parts.encode([PASSAGE], real_embedder)
    other = chunk(Article("other", "Other", "Rain fell. It stopped."), 4000)[0]
    asked: list[list[str]] = []

    def stored(ids: list[str]) -> dict[str, bytes]:
        asked.append(list(ids))
        return {PASSAGE.id: pooled[0].to_bytes()}

    cache = parts.Cache(stored, real_embedder)
    first = cache([PASSAGE, other])
    assert np.allclose(first[0].means, pooled[0].means, atol=1e-2)
    assert len(first[1].counts) == len(parts.layout(other))
    cache([PASSAGE, other])
    assert asked == [[PASSAGE.id, other.id]]  # the second call is served from memory


def test_cache_recomputes_parts_that_do_not_fit_the_passage(real_embedder: Embedder) -> None:
    wrong = parts.Parts(np.zeros((1, real_embedder.dimension), np.float16), np.ones(1, np.int32))
    other_format = b"\x00" + bytes(3 * (8 + real_embedder.dimension))
    for stored in (wrong.to_bytes(), other_format, b""):
        cache = parts.Cache(lambda ids, data=stored: {PASSAGE.id: data}, real_embedder)
        assert len(cache([PASSAGE])[0].counts) == len(parts.layout(PASSAGE))
    with pytest.raises(ValueError, match="format"):
        parts.Parts.from_bytes(other_format, real_embedder.dimension)


def test_ingest_stores_parts_and_removal_deletes_them(
    tmp_path: Path, real_embedder: Embedder, bundled_article: Path
) -> None:
    bot = Assistant(index_dir=tmp_path / "index", embedder=real_embedder)
    report = bot.ingest([bundled_article])
    db = sqlite3.connect(tmp_path / "index" / "lexical.sqlite3")
    assert db.execute("SELECT count(*) FROM parts").fetchone()[0] == bot.index.count()
    passages = bot.index.passages()
    stored = bot.index.parts([p.id for p in passages])
    fresh = parts.encode(passages, real_embedder)[1]
    for p, found in zip(passages, fresh, strict=True):
        back = parts.Parts.from_bytes(stored[p.id], real_embedder.dimension)
        assert np.array_equal(back.counts, found.counts)
        assert np.allclose(back.means, found.means, atol=1e-2)
    bot.remove(report.results[0].article_id or "")
    assert db.execute("SELECT count(*) FROM parts").fetchone()[0] == 0


@pytest.mark.slow
def test_both_backends_pool_the_same_parts(real_embedder: Embedder) -> None:
    from assistant.embedding import SentenceTransformerEmbedder

    several = chunk(ARTICLE, 120)  # of mixed lengths: each backend batches longest first
    mixed = [several[1], PASSAGE, several[0]]
    vectors, pooled = parts.encode(mixed, real_embedder)
    torch_vectors, torch_pooled = SentenceTransformerEmbedder(batch_size=2).embed_parts(mixed)
    assert np.allclose(vectors, torch_vectors, atol=1e-4)
    for onnx_parts, torch_parts in zip(pooled, torch_pooled, strict=True):
        assert np.array_equal(onnx_parts.counts, torch_parts.counts)
        assert np.allclose(onnx_parts.means, torch_parts.means, atol=1e-2)
    assert len({len(p.text) for p in mixed}) == len(mixed)
