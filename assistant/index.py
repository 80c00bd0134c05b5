"""The Chroma index: passages with their embeddings, articles with their text, a manifest.

Chroma's column-shaped results are turned into records here and nowhere else.

On disk, texts are kept in row metadata (``text``), not as Chroma documents: Chroma indexes
every document for full-text search, which this project does not use there (the lexical store
searches words), and that index cost a third of the time of writing a passage. A passage's
text is in its own row; an article's is in a third collection, ``<name>-texts``, so that
listing the articles' titles and days does not read every article's text. An index on a Chroma
server keeps documents, which ``containing`` searches there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant import chunking, dates, wire
from assistant.embedding import Vectors
from assistant.errors import IndexMismatchError, IndexMissingError
from assistant.lexical import LexicalStore, terms
from assistant.records import Article, ArticleInfo, Hit, IndexCheck, IndexStats, Passage, Span
from assistant.storage import Store, guarded, log, retrying

MANIFEST_FILE = "manifest.json"
Stored = tuple[Article, Sequence[Passage], Vectors, Sequence[str]]
_PREFIX = "manifest_"


@dataclass(frozen=True)
class Manifest:
    """How an index was built; an index opened with another recipe is refused, except that
    an index cut by another known sentence splitter keeps its own (``chunking.SPLITTERS``)."""

    model: str
    dimension: int
    passage_chars: int
    splitter: str = chunking.SPLITTER
    format: int = 3

    def to_metadata(self) -> dict[str, str | int]:
        return {_PREFIX + k: v for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any] | None) -> Manifest | None:
        fields = {k[len(_PREFIX) :]: v for k, v in (meta or {}).items() if k.startswith(_PREFIX)}
        try:
            return cls(**fields)
        except TypeError:
            return None


FORMAT_UPGRADES = {1: 3, 2: 3}
"""Index formats upgraded in place on open: format 1 passages lack ``day`` and ``key``; format 2
keeps texts as Chroma documents, which format 3 still reads (only rows written since hold
their text in their metadata), so recording the new format is its whole upgrade."""
READABLE = {2}
"""Older formats read as they are where they cannot be upgraded (a read-only index)."""
TEXT = "text"
"""The metadata key of a row's text on an on-disk index (see the module's docstring)."""
WIDEN = 5
MIN_WIDE = 100
"""A search cut off at a day looks at ``max(k * WIDEN, MIN_WIDE)`` nearest passages
unfiltered before it asks Chroma to filter (see ``Index.query``)."""


class Index:
    """Chroma collections ``<name>-passages`` (cosine) and ``<name>-articles``, and for an
    on-disk index ``<name>-texts`` (the articles' texts) and the lexical store
    (``assistant.lexical``) written with the passages.

    Every public method notices when another process wrote the index and reopens it first,
    and turns a store failure into a one-line ``StoreError`` (see ``assistant.storage``).
    """

    def __init__(
        self,
        index_dir: Path,
        manifest: Manifest,
        *,
        name: str = "articles",
        chroma_url: str | None = None,
        create: bool = True,
        lock_timeout: float = 60.0,
    ) -> None:
        self.store = Store(index_dir, chroma_url, lock_timeout)
        self.location = self.store.location
        self.manifest = manifest
        self.stale = False
        self._names = (f"{name}-passages", f"{name}-articles", f"{name}-texts")
        if not create and not self.store.exists():
            raise IndexMissingError(
                f"No index at {index_dir}/ - run `assistant ingest articles/` first."
            )
        self._create = create
        self._lexical: LexicalStore | None = None
        self._revision: tuple[str, tuple[int, int, int]] | None = None
        self._counted: tuple[str, int] | None = None
        self._catalog: tuple[str, list[ArticleInfo]] | None = None
        self._open(reopen=False)

    @property
    def read_only(self) -> bool:
        """Whether this user may only read the index (writes raise ``ReadOnlyError``)."""
        return self.store.read_only

    def _open(self, reopen: bool) -> None:
        retrying(lambda: self._connect(reopen or self.stale), self.store, self._mark_stale)
        self.stale = False

    def _mark_stale(self) -> None:
        self.stale = True

    def _connect(self, reopen: bool) -> None:
        client = self.store.client(reopen=reopen)
        self._counted = None
        self._max_batch = int(client.get_max_batch_size())
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        passages_name, articles_name, texts_name = self._names
        if passages_name not in existing and (not self._create or self.read_only):
            raise IndexMissingError(
                f"No index at {self.location} - run `assistant ingest articles/` first."
            )
        if passages_name in existing:
            self._passages = client.get_collection(passages_name, embedding_function=None)
        else:
            self._passages = client.create_collection(
                passages_name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata=self.manifest.to_metadata(),
                embedding_function=None,
            )
        if articles_name in existing or self.read_only:
            self._articles = client.get_collection(articles_name, embedding_function=None)
        else:
            self._articles = client.get_or_create_collection(articles_name, embedding_function=None)
        self._texts_of: Any = None
        if texts_name in existing:
            self._texts_of = client.get_collection(texts_name, embedding_function=None)
        elif self.store.folder is not None and not self.read_only:
            self._texts_of = client.create_collection(texts_name, embedding_function=None)
        self._check_manifest()
        self._open_lexical()

    def _open_lexical(self) -> None:
        """Open the lexical store of an on-disk index and bring it in step with the passages
        (built once for an index that has none). A read-only index whose store is missing or
        out of step has none: the retriever then ranks words in memory."""
        opened = self.store.opened
        if opened is None:
            return
        if self._lexical is None or self._lexical.path.parent != opened:
            if self._lexical is not None:
                self._lexical.close()
            self._lexical = LexicalStore(opened)
        if self._lexical.count() == self._count():
            return
        if self.read_only:
            self._lexical.close()
            self._lexical = None
            return
        with self.store.writing(clean=False):
            self._reconcile()

    def refresh(self) -> None:
        """Reopen the store when another process wrote it, or after a failure."""
        if self.stale or self.store.changed():
            self._open(reopen=self.stale)

    def _check_manifest(self) -> None:
        found = Manifest.from_metadata(self._passages.metadata)
        if found is not None and found.splitter in chunking.SPLITTERS:
            # an index keeps the splitter it was built with: its articles are all cut alike
            self.manifest = replace(self.manifest, splitter=found.splitter)
        if (
            found is not None
            and found != self.manifest
            and replace(found, format=self.manifest.format) == self.manifest
        ):
            if FORMAT_UPGRADES.get(found.format) == self.manifest.format and not self.read_only:
                self._upgrade(found.format)
                found = self.manifest
            elif found.format in READABLE:
                found = self.manifest
        if found != self.manifest:
            built = _describe(found) if found else "another recipe"
            raise IndexMismatchError(
                f"The index at {self.location} was built with {built}, but this assistant uses "
                f"{_describe(self.manifest)} - delete it and run `assistant ingest` to rebuild."
            )
        folder = self.store.folder
        text = self._manifest_text()
        if folder is not None and not self.read_only and self._manifest_file() != text:
            (folder / MANIFEST_FILE).write_text(text)

    def _upgrade(self, found: int) -> None:
        """Give every passage of a format-1 index its ``day`` and ``key`` (no re-embedding),
        then record the new format; an interrupted upgrade is redone on the next open."""
        log.warning("Upgrading the index at %s to format %d.", self.location, self.manifest.format)
        with self.store.writing(clean=False):
            if found == 1:
                self._add_days_and_keys()
            self._passages.modify(metadata=self.manifest.to_metadata())
            self.store.wrote()

    def _add_days_and_keys(self) -> None:
        published = {
            i: m.get("published")
            for i, m in zip(*_columns(self._articles, ["metadatas"]), strict=True)
        }
        got = _get_all(self._passages, ["documents", "metadatas"])
        ids, metas = [], []
        for passage, meta in _passages_of(got):
            day = dates.day(_opt(published.get(passage.article_id)))
            ids.append(passage.id)
            metas.append({**meta, "day": day, "key": _key(passage, passage.start)})
        for lo in range(0, len(ids), self._max_batch):
            self._passages.update(
                ids=ids[lo : lo + self._max_batch], metadatas=metas[lo : lo + self._max_batch]
            )

    def _reconcile(self) -> None:
        """Make the lexical store hold exactly the passages Chroma holds."""
        if self._lexical is None:
            return
        held = set(_get_all(self._passages, [])["ids"])
        stored = self._lexical.ids()
        self._lexical.delete(stored - held)
        missing = sorted(held - stored)
        if len(missing) > 1000:
            log.warning("Indexing %d passages for lexical search (once).", len(missing))
        for lo in range(0, len(missing), PAGE):
            got = self._passages.get(
                ids=missing[lo : lo + PAGE], include=["documents", "metadatas"]
            )
            self._lexical.add(_lexical_rows(got))

    def _manifest_text(self) -> str:
        return json.dumps(asdict(self.manifest), indent=2)

    def _manifest_file(self) -> str | None:
        folder = self.store.folder
        try:
            return None if folder is None else (folder / MANIFEST_FILE).read_text()
        except OSError:
            return None

    @contextmanager
    def writing(self, clean: bool = True) -> Iterator[None]:
        """Hold the index for writing (other processes wait), up to date with every earlier
        write; with ``clean``, the leftovers of an interrupted write are removed first.

        Raises:
            ReadOnlyError: the index cannot be written by this user.
            IndexBusyError: another process kept writing past the timeout.
        """
        with self.store.writing(clean) as interrupted:
            self.refresh()
            if interrupted and clean:
                retrying(self._sweep, self.store, self._mark_stale)
            yield

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

    @guarded
    def upsert_many(
        self, items: Sequence[Stored], parts: Mapping[str, bytes] | None = None
    ) -> None:
        """Store several articles: all passages first, in batches, then the articles.
        ``parts`` holds the answerer's pooled vectors of passages by id (``assistant.parts``).

        An article is only listed once every passage of it is written.
        """
        with self.writing():
            self._upsert(items, parts)
            self.store.wrote()

    def _upsert(self, items: Sequence[Stored], parts: Mapping[str, bytes] | None = None) -> None:
        rows = [
            (p, vec, article)
            for article, passages, vectors, _ in items
            for p, vec in zip(passages, vectors, strict=True)
        ]
        self.store.ensure_space(len(rows))
        for lo in range(0, len(rows), self._max_batch):
            batch = rows[lo : lo + self._max_batch]
            self._passages.upsert(
                ids=[p.id for p, _, _ in batch],
                embeddings=np.stack([vec for _, vec, _ in batch]),
                **self._texts(
                    [p.text for p, _, _ in batch], [_passage_meta(p, a) for p, _, a in batch]
                ),
            )
        if self._lexical is not None:
            words = terms([p.text for p, _, _ in rows])
            self._lexical.add(
                (
                    (p.id, p.article_id, dates.day(a.published), w)
                    for (p, _, a), w in zip(rows, words, strict=True)
                ),
                parts,
            )
        for lo in range(0, len(items), self._max_batch):
            chunk = items[lo : lo + self._max_batch]
            ids = [a.id for a, _, _, _ in chunk]
            metas = [_article_meta(a, src, len(ps)) for a, ps, _, src in chunk]
            texts = [a.text for a, _, _, _ in chunk]
            ones = [[1.0]] * len(chunk)
            if self._texts_of is not None:  # the text first: an article is listed last
                self._texts_of.upsert(
                    ids=ids, embeddings=ones, metadatas=[{TEXT: t} for t in texts]
                )
            documents = texts if self._texts_of is None else None
            self._articles.upsert(ids=ids, embeddings=ones, documents=documents, metadatas=metas)

    def _texts(self, texts: list[str], metas: list[dict[str, str | int]]) -> dict[str, list[Any]]:
        """Chroma's ``documents`` and ``metadatas`` for rows of these texts: on disk the text
        goes in the metadata, on a server it is the document (see the module's docstring)."""
        if self.store.folder is None:
            return {"documents": texts, "metadatas": metas}
        return {"metadatas": [{**m, TEXT: t} for m, t in zip(metas, texts, strict=True)]}

    @guarded
    def count(self) -> int:
        """How many passages the index holds."""
        return self._count()

    def _count(self) -> int:
        """The passage count, read from Chroma only when the store's revision stamp changed
        since the last read (a count costs 12 ms at a year of news, and an ask needs two);
        during a write of this process, and on a Chroma server (no stamp), every time."""
        stamp = self.store.stamp
        if stamp is None or self.store.in_write:
            return int(self._passages.count())
        if self._counted is None or self._counted[0] != stamp:
            self._counted = (stamp, int(self._passages.count()))
        return self._counted[1]

    @guarded
    def set_sources(self, article: Article, sources: Sequence[str]) -> None:
        """Record which files (or records) hold this article."""
        with self.writing():
            self.store.ensure_space(0)
            found = self._articles.get(ids=[article.id], include=[])
            if found["ids"]:  # Chroma merges the given keys into the row's metadata
                sources_meta = {"sources": json.dumps(sorted(set(sources)))}
                self._articles.update(ids=[article.id], metadatas=[sources_meta])
                self.store.wrote()

    @guarded
    def delete(self, article_id: str) -> None:
        """Remove an article and all its passages; a missing id is a no-op."""
        with self.writing():
            self.store.ensure_space(0)
            self._drop_article(article_id)
            if self._lexical is not None:
                self._lexical.delete_article(article_id)
            self.store.wrote()

    def _drop_article(self, article_id: str) -> None:
        """Delete an article's row, its passages and its text from Chroma."""
        self._articles.delete(ids=[article_id])
        self._passages.delete(where={"article_id": article_id})
        if self._texts_of is not None:
            self._texts_of.delete(ids=[article_id])

    # checking --------------------------------------------------------------------------

    @guarded
    def check(self) -> IndexCheck:
        """Compare the two collections and the manifest file; change nothing."""
        recorded = self._recorded_passages()
        owner = self._passage_owners()
        held: dict[str, int] = {}
        for article_id in owner.values():
            held[article_id] = held.get(article_id, 0) + 1
        folder = self.store.folder
        return IndexCheck(
            articles=len(recorded),
            passages=len(owner),
            orphans=tuple(sorted(p for p, a in owner.items() if a not in recorded)),
            incomplete=tuple(sorted(a for a, n in recorded.items() if held.get(a, 0) < n)),
            unreadable=tuple(self._unreadable(list(owner))),
            manifest=folder is not None and self._manifest_file() != self._manifest_text(),
            lexical=self._lexical is not None and self._lexical.ids() != set(owner),
            interrupted=self.store.interrupted(),
        )

    @guarded
    def repair(self, found: IndexCheck, embed: Callable[[list[str]], Vectors]) -> IndexCheck:
        """Fix what ``check`` found: orphan passages and incomplete articles are deleted (their
        files can then be ingested again), unreadable vectors are embedded again with
        ``embed``, the manifest file is rewritten. Returns ``found`` marked repaired."""
        with self.writing():
            sources = self._sources() if found.incomplete else {}
            if found.orphans:
                self._delete_passages(list(found.orphans))
            for article_id in found.incomplete:
                self._drop_article(article_id)
            for lo in range(0, len(found.unreadable), self._max_batch):
                ids = list(found.unreadable[lo : lo + self._max_batch])
                got = self._passages.get(ids=ids, include=["documents", "metadatas"])
                kept = [(p.id, p.text, m) for p, m in _passages_of(got)]
                self._passages.delete(ids=ids)
                if kept:
                    self._passages.upsert(
                        ids=[i for i, _, _ in kept],
                        embeddings=embed([t for _, t, _ in kept]),
                        **self._texts([t for _, t, _ in kept], [dict(m) for _, _, m in kept]),
                    )
            if self.store.folder is not None:
                (self.store.folder / MANIFEST_FILE).write_text(self._manifest_text())
            self._reconcile()
            self.store.wrote()
            self.store.settled()
        files = sorted({k.split("#", 1)[0] for a in found.incomplete for k in sources.get(a, [])})
        return replace(found, repaired=True, reingest=tuple(files))

    def _sweep(self) -> None:
        """After an interrupted write: drop passages whose article was never listed."""
        self.store.ensure_space(0)
        owner = self._passage_owners()
        recorded = self._recorded_passages()
        orphans = [p for p, a in owner.items() if a not in recorded]
        if orphans:
            log.warning("Removing %d passages an interrupted write left behind.", len(orphans))
            self._delete_passages(orphans)
            self.store.wrote()
        if self._texts_of is not None:
            unlisted = sorted(set(_get_all(self._texts_of, [])["ids"]) - set(recorded))
            for lo in range(0, len(unlisted), self._max_batch):
                self._texts_of.delete(ids=unlisted[lo : lo + self._max_batch])
        self._reconcile()

    def _delete_passages(self, ids: list[str]) -> None:
        for lo in range(0, len(ids), self._max_batch):
            self._passages.delete(ids=ids[lo : lo + self._max_batch])

    def _recorded_passages(self) -> dict[str, int]:
        got = _get_all(self._articles, ["metadatas"])
        return {
            i: int(m.get("passages", 0)) for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def _passage_owners(self) -> dict[str, str]:
        got = _get_all(self._passages, ["metadatas"])
        return {
            i: str(m.get("article_id", ""))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def _sources(self) -> dict[str, list[str]]:
        got = _get_all(self._articles, ["metadatas"])
        return {
            i: json.loads(str(m.get("sources", "[]")))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def _unreadable(self, ids: list[str]) -> list[str]:
        """Passage ids whose vector Chroma cannot give back."""
        bad: list[str] = []
        for lo in range(0, len(ids), PAGE):
            page = ids[lo : lo + PAGE]
            try:
                got = self._passages.get(ids=page, include=["embeddings"])
            except Exception:
                bad.extend(i for i in page if not self._readable(i))
                continue
            seen = {i for i, e in zip(got["ids"], got["embeddings"], strict=True) if len(e)}
            bad.extend(i for i in page if i not in seen)
        return bad

    def _readable(self, passage_id: str) -> bool:
        try:
            got = self._passages.get(ids=[passage_id], include=["embeddings"])
        except Exception:
            return False
        return bool(got["ids"]) and len(got["embeddings"][0]) > 0

    # reading ---------------------------------------------------------------------------

    @guarded
    def article(self, article_id: str) -> Article | None:
        got = self._articles.get(ids=[article_id], include=["documents", "metadatas"])
        return next(_articles_of(got, self._article_texts([article_id])), None)

    @guarded
    def catalog(self) -> list[ArticleInfo]:
        """Every article's metadata and passage count, newest first (undated last).

        Read from Chroma only when the store's revision stamp changed since the last read
        (as ``_count``); during a write of this process, and on a Chroma server, every time.
        """
        stamp = self.store.stamp
        if self._catalog is not None and self._catalog[0] == stamp and not self.store.in_write:
            return self._catalog[1]
        got = _get_all(self._articles, ["metadatas"])
        found = [_to_info(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True) if m]
        found.sort(key=lambda a: (a.title.lower(), a.id))
        found.sort(key=lambda a: a.published or "", reverse=True)
        if stamp is not None and not self.store.in_write:
            self._catalog = (stamp, found)
        return found

    @guarded
    def articles(self) -> list[Article]:
        got = _get_all(self._articles, ["documents", "metadatas"])
        found = _articles_of(got, self._article_texts(got["ids"]))
        return sorted(found, key=lambda a: (a.title.lower(), a.id))

    def _article_texts(self, ids: Sequence[str]) -> dict[str, str]:
        """The texts of those articles kept in the texts collection (on disk, format 3)."""
        found: dict[str, str] = {}
        if self._texts_of is None:
            return found
        for lo in range(0, len(ids), PAGE):
            got = self._texts_of.get(ids=list(ids[lo : lo + PAGE]), include=["metadatas"])
            for i, m in zip(got["ids"], got["metadatas"], strict=True):
                text = _text(None, m)
                if text is not None:
                    found[i] = text
        return found

    @guarded
    def sources(self) -> dict[str, list[str]]:
        """Article id -> the file keys it was read from."""
        return self._sources()

    def titles(self) -> dict[str, str]:
        """Article id -> title."""
        return self.titles_and_days()[0]

    @guarded
    def titles_and_days(self) -> tuple[dict[str, str], dict[str, int]]:
        """Article id -> title, and article id -> publication day (see ``days``), from one
        read of the articles (the retriever wants both whenever the index changes)."""
        ids, metas = _columns(self._articles, ["metadatas"])
        titles = {i: str(m.get("title", "")) for i, m in zip(ids, metas, strict=True)}
        days = {i: dates.day(_opt(m.get("published"))) for i, m in zip(ids, metas, strict=True)}
        return titles, days

    @guarded
    def passages(self) -> list[Passage]:
        """Every passage, in a stable order (for lexical search)."""
        found = [p for p, _ in _passages_of(_get_all(self._passages, ["documents", "metadatas"]))]
        return sorted(found, key=lambda p: (p.article_id, p.index))

    @guarded
    def parts(self, passage_ids: Sequence[str]) -> dict[str, bytes]:
        """The stored pooled vectors (``assistant.parts``) of those passages that have them:
        none with a Chroma server, or on an index written before they were stored."""
        return self._lexical.parts(passage_ids) if self._lexical is not None else {}

    @guarded
    def vectors(self, passage_ids: Sequence[str]) -> dict[str, Vectors]:
        if not passage_ids:
            return {}
        got = self._passages.get(ids=list(passage_ids), include=["embeddings"])
        return {
            i: np.asarray(e, dtype=np.float32)
            for i, e in zip(got["ids"], got["embeddings"], strict=True)
        }

    @guarded
    def query(
        self,
        vector: Vectors,
        k: int,
        as_of: int | None = None,
        only: Collection[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` passages nearest to ``vector``, closest first; with ``as_of``
        (``YYYYMMDD``) only passages of articles published by then, or undated; with
        ``only``, only passages of those articles."""
        count = self._count()
        if count == 0:
            return []
        if as_of is not None and only is None:
            # Chroma's filtered search first lists every passage the filter lets through
            # (0.3 s at 50,000 passages, against 9 ms unfiltered), and a day cut-off usually
            # lets most through: search wider unfiltered and cut here, falling back to the
            # filter when too few pass.
            wide = min(count, max(k * WIDEN, MIN_WIDE))
            kept = [h for h, day in self._nearest(vector, wide, None) if day <= as_of]
            if len(kept) >= k or wide == count:
                return kept[:k]
        return [h for h, _ in self._nearest(vector, min(k, count), _where(as_of, only))]

    def _nearest(
        self, vector: Vectors, n: int, where: dict[str, Any] | None
    ) -> list[tuple[Hit, int]]:
        """The ``n`` nearest passages Chroma finds (with ``where``), each with its day."""
        got = self._passages.query(
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        rows = {name: got[name][0] for name in ("ids", "documents", "metadatas")}
        distance = dict(zip(got["ids"][0], got["distances"][0], strict=True))
        return [
            (
                Hit(
                    passage=p,
                    similarity=1.0 - float(distance[p.id]),
                    score=1.0 - float(distance[p.id]),
                    title=str(m.get("title", "")),
                ),
                int(m.get("day", 0)),
            )
            for p, m in _passages_of(rows)  # without a passage deleted while the query ran
        ]

    @guarded
    def lexical_search(
        self,
        words: Sequence[str],
        k: int,
        as_of: int | None = None,
        only: Collection[str] | None = None,
    ) -> list[tuple[Passage, float]] | None:
        """The ``k`` passages that rank best for the stemmed ``words`` by BM25, best first
        (filtered like ``query``); ``None`` when this index has no lexical store (a Chroma
        server, or a read-only index without one)."""
        if self._lexical is None:
            return None
        found = self._lexical.search(words, k, as_of, only)
        if not found:
            return []
        got = self._passages.get(ids=[i for i, _ in found], include=["documents", "metadatas"])
        passages = {p.id: p for p, _ in _passages_of(got)}
        return [(passages[i], score) for i, score in found if i in passages]

    def days(self) -> dict[str, int]:
        """Article id -> its publication day, ``YYYYMMDD`` (``dates.UNDATED`` when undated)."""
        return self.titles_and_days()[1]

    @guarded
    def copies(self, keys: Sequence[str]) -> dict[str, set[str]]:
        """Passage key -> the articles holding a passage with that key (see ``wire.key``)."""
        wanted = sorted({k for k in keys if k})
        found: dict[str, set[str]] = {}
        for lo in range(0, len(wanted), KEYS):
            got = self._passages.get(
                where={"key": {"$in": wanted[lo : lo + KEYS]}}, include=["metadatas"]
            )
            for meta in got["metadatas"]:
                if meta is not None:
                    found.setdefault(str(meta["key"]), set()).add(str(meta["article_id"]))
        return found

    @guarded
    def copied(self) -> int:
        """How many passages share their fingerprint (``wire.key``) with a passage of another
        article: the index's wire copies."""
        _, metas = _columns(self._passages, ["metadatas"])
        holders: dict[str, set[str]] = {}
        for meta in metas:
            if meta is not None and meta.get("key"):
                holders.setdefault(str(meta["key"]), set()).add(str(meta["article_id"]))
        return sum(
            1
            for meta in metas
            if meta is not None and len(holders.get(str(meta.get("key") or ""), ())) > 1
        )

    @guarded
    def containing(self, text: str, as_of: int | None = None) -> set[str]:
        """The articles with a passage that contains ``text`` word for word (within
        ``as_of``, when given)."""
        if not text.strip():
            return set()
        if self._lexical is not None:
            ids = self._lexical.phrase(terms([text])[0], MAX_COPIES, as_of)
            if not ids:
                return set()
            found = self._passages.get(ids=ids, include=["documents", "metadatas"])
            return {p.article_id for p, _ in _passages_of(found) if text in p.text}
        if self.store.folder is not None:
            # read without its lexical store (see ``_open_lexical``): Chroma cannot search
            # texts kept in metadata, so they are read a page at a time
            return {
                p.article_id
                for page in _pages(self._passages, ["documents", "metadatas"], _until(as_of))
                for p, _ in _passages_of(page)
                if text in p.text
            }
        got = self._passages.get(
            where=_until(as_of),
            where_document={"$contains": text},
            include=["metadatas"],
            limit=MAX_COPIES,
        )
        return {str(m["article_id"]) for m in got["metadatas"] if m is not None}

    @guarded
    def revision(self) -> tuple[int, int, int]:
        """Changes whenever articles or passages are added or removed.

        It is read from Chroma (every article id, and the passage count: 60 ms at a year of
        news, and the retriever asks twice a question) only when the store's revision stamp
        has changed since the last read, which every write does; a Chroma server has no stamp,
        so there it is read every time.
        """
        stamp = self.store.stamp
        if stamp is not None and self._revision is not None and self._revision[0] == stamp:
            return self._revision[1]
        ids = _get_all(self._articles, [])["ids"]
        found = (len(ids), hash(tuple(sorted(ids))), self._count())
        if stamp is not None:
            self._revision = (stamp, found)
        return found

    @guarded
    def stats(self) -> IndexStats:
        per_article = {a.id: a.passages for a in self.catalog()}
        size = None
        if self.store.folder is not None:
            size = sum(p.stat().st_size for p in self.store.folder.rglob("*") if p.is_file())
        return IndexStats(
            articles=len(per_article),
            passages=self._passages.count(),
            bytes=size,
            passages_per_article=per_article,
        )


MAX_COPIES = 500
"""At most this many passages are read for one sentence's copies (a boilerplate line may be
in thousands)."""
PAGE = 1000
"""Rows read from Chroma per call: one unpaged read of a large collection exceeds SQLite's
limit on query variables, and Chroma keeps memory in proportion to its largest read. Reading
the titles of a year of news (7,445 articles) grew the process by 164 MB in pages of 5,000
and by 60 MB in pages of 1,000, in half the time."""
KEYS = 500
"""Fingerprints looked up per Chroma query (``copies``)."""


def _get_all(collection: Any, include: list[str]) -> dict[str, list[Any]]:
    """Every row of ``collection`` (ids and ``include`` columns), read a page at a time."""
    columns: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
    for got in _pages(collection, include):
        for name in columns:
            columns[name].extend(got[name] or [])
    return columns


def _pages(
    collection: Any, include: list[str], where: dict[str, Any] | None = None
) -> Iterator[dict[str, list[Any]]]:
    """The rows of ``collection`` (with ``where``), ``PAGE`` at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, where=where, limit=PAGE, offset=offset)
        yield got
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def _columns(collection: Any, include: list[str]) -> tuple[list[str], list[Any]]:
    """Every id of ``collection`` and the one column ``include`` names."""
    got = _get_all(collection, include)
    return got["ids"], got[include[0]]


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _until(as_of: int | None) -> dict[str, Any] | None:
    """The Chroma filter for passages of articles published by ``as_of`` (or undated)."""
    return None if as_of is None else {"day": {"$lte": as_of}}


def _where(as_of: int | None, only: Collection[str] | None) -> dict[str, Any] | None:
    """``_until(as_of)``, and with ``only`` the passages of those articles alone."""
    filters = [f for f in (_until(as_of),) if f]
    if only is not None:
        filters.append({"article_id": {"$in": sorted(only) or [""]}})
    return None if not filters else filters[0] if len(filters) == 1 else {"$and": filters}


def _lexical_rows(got: Mapping[str, list[Any]]) -> list[tuple[str, str, int, list[str]]]:
    """Rows for the lexical store from Chroma's columns (rows without text left out)."""
    kept = [(p, m) for p, m in _passages_of(got) if p.text]
    words = terms([p.text for p, _ in kept])
    return [
        (p.id, p.article_id, int(m.get("day", 0)), w) for (p, m), w in zip(kept, words, strict=True)
    ]


def _text(document: str | None, meta: Mapping[str, Any] | None) -> str | None:
    """A row's text: its metadata's ``TEXT`` (on disk, format 3), else its Chroma document."""
    kept = None if meta is None else meta.get(TEXT)
    return kept if isinstance(kept, str) else document


def _passages_of(got: Mapping[str, list[Any]]) -> Iterator[tuple[Passage, Mapping[str, Any]]]:
    """The passages of Chroma's columns (``ids``, ``documents``, ``metadatas``) with their
    metadata, less rows deleted while they were read (no metadata or text)."""
    for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        text = _text(d, m)
        if m is not None and text is not None:
            yield _to_passage(i, text, m), m


def _articles_of(got: Mapping[str, list[Any]], texts: Mapping[str, str]) -> Iterator[Article]:
    """The articles of Chroma's columns (``ids``, ``documents``, ``metadatas``), their texts
    from ``texts`` (the texts collection) or else the rows themselves."""
    for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        text = texts.get(i, _text(d, m))
        if m is not None and text is not None:
            yield _to_article(i, text, m)


def _key(passage: Passage, offset: int) -> str:
    """``wire.key`` of a passage whose text starts at ``offset`` in its article."""
    return wire.key([passage.text[s.start - offset : s.end - offset] for s in passage.sentences])


def _describe(m: Manifest) -> str:
    return (
        f"{m.model} ({m.dimension}-d vectors, {m.passage_chars}-character passages, "
        f"sentences cut by {m.splitter})"
    )


def _passage_meta(p: Passage, article: Article) -> dict[str, str | int]:
    return {
        "article_id": p.article_id,
        "index": p.index,
        "start": p.start,
        "end": p.end,
        "sentences": ",".join(f"{s.start}-{s.end}" for s in p.sentences),
        "title": article.title,
        "day": dates.day(article.published),
        "key": _key(p, p.start),
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


def _to_info(aid: str, m: Mapping[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        id=aid,
        title=str(m.get("title", "")),
        published=_opt(m.get("published")),
        source=_opt(m.get("source")),
        url=_opt(m.get("url")),
        path=_opt(m.get("path")),
        passages=int(m.get("passages", 0)),
    )


def _to_article(aid: str, text: str, m: Mapping[str, Any]) -> Article:
    return Article(
        id=aid,
        title=str(m.get("title", "")),
        text=text,
        published=_opt(m.get("published")),
        source=_opt(m.get("source")),
        url=_opt(m.get("url")),
        path=_opt(m.get("path")),
    )
