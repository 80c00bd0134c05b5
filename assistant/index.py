"""The Chroma index: passages with their embeddings, articles with their text, a manifest.

Chroma's column-shaped results are turned into records here and nowhere else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.embedding import Vectors
from assistant.errors import AssistantError, IndexMismatchError, IndexMissingError
from assistant.records import Article, Hit, IndexStats, Passage, Span

MANIFEST_FILE = "manifest.json"
Stored = tuple[Article, Sequence[Passage], Vectors, Sequence[str]]
_PREFIX = "manifest_"


@dataclass(frozen=True)
class Manifest:
    """How an index was built; an index opened with another recipe is refused."""

    model: str
    dimension: int
    passage_chars: int
    splitter: str = "pysbd"
    format: int = 1

    def to_metadata(self) -> dict[str, str | int]:
        return {_PREFIX + k: v for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any] | None) -> Manifest | None:
        fields = {k[len(_PREFIX) :]: v for k, v in (meta or {}).items() if k.startswith(_PREFIX)}
        try:
            return cls(**fields)
        except TypeError:
            return None


def _client(index_dir: Path, chroma_url: str | None, create: bool) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=settings,
            )
        except Exception as exc:
            raise AssistantError(
                f"Cannot reach the Chroma server at {chroma_url} ({type(exc).__name__}) - "
                "start it with `chroma run` or unset ASSISTANT_CHROMA_URL."
            ) from None
    if not create and not (index_dir / "chroma.sqlite3").exists():
        raise IndexMissingError(
            f"No index at {index_dir}/ - run `assistant ingest articles/` first."
        )
    if index_dir.exists() and not index_dir.is_dir():
        raise AssistantError(f"{index_dir} is a file, not an index folder - choose another path.")
    try:
        return chromadb.PersistentClient(path=str(index_dir), settings=settings)
    except Exception as exc:
        raise AssistantError(
            f"Cannot open the index at {index_dir}/ ({exc}) - check that it is a writable folder."
        ) from None


class Index:
    """Two Chroma collections: ``<name>-passages`` (cosine) and ``<name>-articles``."""

    def __init__(
        self,
        index_dir: Path,
        manifest: Manifest,
        *,
        name: str = "articles",
        chroma_url: str | None = None,
        create: bool = True,
    ) -> None:
        self.location = chroma_url or f"{index_dir}/"
        self.manifest = manifest
        self._dir = None if chroma_url else index_dir
        client = _client(index_dir, chroma_url, create)
        self._max_batch = int(client.get_max_batch_size())
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        passages_name, articles_name = f"{name}-passages", f"{name}-articles"
        if not create and passages_name not in existing:
            raise IndexMissingError(
                f"No index at {self.location} - run `assistant ingest articles/` first."
            )
        if passages_name in existing:
            self._passages = client.get_collection(passages_name, embedding_function=None)
        else:
            self._passages = client.create_collection(
                passages_name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata=manifest.to_metadata(),
                embedding_function=None,
            )
        self._articles = client.get_or_create_collection(articles_name, embedding_function=None)
        self._check_manifest()

    def _check_manifest(self) -> None:
        found = Manifest.from_metadata(self._passages.metadata)
        if found != self.manifest:
            built = _describe(found) if found else "another recipe"
            raise IndexMismatchError(
                f"The index at {self.location} was built with {built}, but this assistant uses "
                f"{_describe(self.manifest)} - delete it and run `assistant ingest` to rebuild."
            )
        if self._dir is not None:
            (self._dir / MANIFEST_FILE).write_text(json.dumps(asdict(self.manifest), indent=2))

    # writing ---------------------------------------------------------------------------

    def upsert(
        self,
        article: Article,
        passages: Sequence[Passage],
        vectors: Vectors,
        sources: Sequence[str],
    ) -> None:
        """Store one article's passages (with their vectors), then the article itself."""
        self.upsert_many([(article, passages, vectors, sources)])

    def upsert_many(self, items: Sequence[Stored]) -> None:
        """Store several articles: all passages first, in batches, then the articles.

        An article is only listed once every passage of it is written.
        """
        rows = [
            (p, vec, article)
            for article, passages, vectors, _ in items
            for p, vec in zip(passages, vectors, strict=True)
        ]
        for lo in range(0, len(rows), self._max_batch):
            batch = rows[lo : lo + self._max_batch]
            self._passages.upsert(
                ids=[p.id for p, _, _ in batch],
                embeddings=np.stack([vec for _, vec, _ in batch]),
                documents=[p.text for p, _, _ in batch],
                metadatas=[_passage_meta(p, a) for p, _, a in batch],
            )
        for lo in range(0, len(items), self._max_batch):
            chunk = items[lo : lo + self._max_batch]
            self._articles.upsert(
                ids=[a.id for a, _, _, _ in chunk],
                embeddings=[[1.0]] * len(chunk),
                documents=[a.text for a, _, _, _ in chunk],
                metadatas=[_article_meta(a, src, len(ps)) for a, ps, _, src in chunk],
            )

    def count(self) -> int:
        """How many passages the index holds."""
        return int(self._passages.count())

    def set_sources(self, article: Article, sources: Sequence[str]) -> None:
        """Record which files (or records) hold this article."""
        found = self._articles.get(ids=[article.id], include=["metadatas"])
        if found["ids"]:
            meta = dict(found["metadatas"][0])
            meta["sources"] = json.dumps(sorted(set(sources)))
            self._articles.update(ids=[article.id], metadatas=[meta])

    def delete(self, article_id: str) -> None:
        """Remove an article and all its passages; a missing id is a no-op."""
        self._articles.delete(ids=[article_id])
        self._passages.delete(where={"article_id": article_id})

    # reading ---------------------------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        got = self._articles.get(ids=[article_id], include=["documents", "metadatas"])
        return (
            _to_article(got["ids"][0], got["documents"][0], got["metadatas"][0])
            if got["ids"]
            else None
        )

    def articles(self) -> list[Article]:
        got = _get_all(self._articles, ["documents", "metadatas"])
        found = [
            _to_article(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(found, key=lambda a: (a.title.lower(), a.id))

    def sources(self) -> dict[str, list[str]]:
        """Article id -> the file keys it was read from."""
        got = _get_all(self._articles, ["metadatas"])
        return {
            i: json.loads(str(m.get("sources", "[]")))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def titles(self) -> dict[str, str]:
        """Article id -> title."""
        got = _get_all(self._articles, ["metadatas"])
        return {
            i: str(m.get("title", "")) for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def passages(self) -> list[Passage]:
        """Every passage, in a stable order (for lexical search)."""
        got = _get_all(self._passages, ["documents", "metadatas"])
        found = [
            _to_passage(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(found, key=lambda p: (p.article_id, p.index))

    def vectors(self, passage_ids: Sequence[str]) -> dict[str, Vectors]:
        if not passage_ids:
            return {}
        got = self._passages.get(ids=list(passage_ids), include=["embeddings"])
        return {
            i: np.asarray(e, dtype=np.float32)
            for i, e in zip(got["ids"], got["embeddings"], strict=True)
        }

    def query(self, vector: Vectors, k: int) -> list[Hit]:
        """The ``k`` passages nearest to ``vector``, closest first."""
        count = self._passages.count()
        if count == 0:
            return []
        got = self._passages.query(
            query_embeddings=[vector],
            n_results=min(k, count),
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(
                passage=_to_passage(i, d, m),
                similarity=1.0 - float(dist),
                score=1.0 - float(dist),
                title=str(m.get("title", "")),
            )
            for i, d, m, dist in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]

    def revision(self) -> tuple[int, int, int]:
        """Changes whenever articles or passages are added or removed."""
        ids = _get_all(self._articles, [])["ids"]
        return (len(ids), hash(tuple(sorted(ids))), self._passages.count())

    def stats(self) -> IndexStats:
        got = _get_all(self._articles, ["metadatas"])
        per_article = {
            i: int(m.get("passages", 0)) for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
        size = None
        if self._dir is not None:
            size = sum(p.stat().st_size for p in self._dir.rglob("*") if p.is_file())
        return IndexStats(
            articles=len(per_article),
            passages=self._passages.count(),
            bytes=size,
            passages_per_article=per_article,
        )


PAGE = 5000
"""Rows read from Chroma per call: one unpaged read of a large collection exceeds SQLite's
limit on query variables."""


def _get_all(collection: Any, include: list[str]) -> dict[str, list[Any]]:
    """Every row of ``collection`` (ids and ``include`` columns), read a page at a time."""
    columns: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset)
        for name in columns:
            columns[name].extend(got[name] or [])
        if len(got["ids"]) < PAGE:
            return columns
        offset += PAGE


def _describe(m: Manifest) -> str:
    return f"{m.model} ({m.dimension}-d vectors, {m.passage_chars}-character passages)"


def _passage_meta(p: Passage, article: Article) -> dict[str, str | int]:
    return {
        "article_id": p.article_id,
        "index": p.index,
        "start": p.start,
        "end": p.end,
        "sentences": ",".join(f"{s.start}-{s.end}" for s in p.sentences),
        "title": article.title,
    }


def _to_passage(pid: str, text: str, m: Mapping[str, Any]) -> Passage:
    spans = tuple(
        Span(int(a), int(b)) for a, b in (s.split("-") for s in str(m["sentences"]).split(","))
    )
    return Passage(
        id=pid,
        article_id=str(m["article_id"]),
        index=int(m["index"]),
        start=int(m["start"]),
        end=int(m["end"]),
        text=text,
        sentences=spans,
    )


def _article_meta(a: Article, sources: Sequence[str], passages: int) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "title": a.title,
        "sources": json.dumps(sorted(set(sources))),
        "passages": passages,
    }
    for name in ("published", "source", "url", "path"):
        value = getattr(a, name)
        if value is not None:
            meta[name] = value
    return meta


def _to_article(aid: str, text: str, m: Mapping[str, Any]) -> Article:
    def opt(name: str) -> str | None:
        value = m.get(name)
        return None if value is None else str(value)

    return Article(
        id=aid,
        title=str(m.get("title", "")),
        text=text,
        published=opt("published"),
        source=opt("source"),
        url=opt("url"),
        path=opt("path"),
    )
