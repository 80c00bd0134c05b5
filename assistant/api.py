"""The public entry point: ``Assistant`` (ingest, ask, articles, remove) and ``answer()``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from assistant import answerer as answering
from assistant.chunking import chunk
from assistant.config import Settings, load_settings
from assistant.embedding import Embedder, SentenceTransformerEmbedder
from assistant.errors import ArticleNotFoundError, IndexMissingError, InputError
from assistant.index import Index, Manifest
from assistant.ingest import Parsed, collect, parse, read_file
from assistant.records import Answer, Article, FileResult, Hit, IndexStats, IngestReport, Passage
from assistant.retrieve import HybridRetriever, contextualise

History = Sequence[Mapping[str, str]]
Progress = Callable[[int, int], None]
FLUSH_PASSAGES = 256


@dataclass
class _Pending:
    """New articles waiting to be embedded and written together."""

    items: list[tuple[Article, list[Passage], list[str]]] = field(default_factory=list)

    @property
    def passages(self) -> int:
        return sum(len(p) for _, p, _ in self.items)


class Assistant:
    """Question answering over an index of news articles, every claim cited.

    Args:
        index_dir: where the on-disk index lives (default ``ASSISTANT_INDEX_DIR`` or ``index``).
        settings: all other knobs; ``index_dir`` wins over ``settings.index_dir``.
        embedder: the sentence embedder (default: the packaged all-MiniLM-L6-v2, loaded lazily).
        create: create the index when missing; with ``False`` a missing index raises
            ``IndexMissingError``.
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        create: bool = True,
        calibration: answering.Calibration | None = None,
    ) -> None:
        base = settings or load_settings()
        self.settings = (
            base.model_copy(update={"index_dir": Path(index_dir)}) if index_dir else base
        )
        self.embedder = embedder or SentenceTransformerEmbedder(
            batch_size=self.settings.embed_batch_size
        )
        self.calibration = calibration or answering.default_calibration()
        manifest = Manifest(
            model=self.embedder.name,
            dimension=self.embedder.dimension,
            passage_chars=self.settings.passage_chars,
        )
        self.index = Index(
            self.settings.index_dir,
            manifest,
            name=self.settings.collection,
            chroma_url=self.settings.chroma_url,
            create=create,
        )
        self.retriever = HybridRetriever(
            index=self.index,
            embedder=self.embedder,
            k=self.settings.top_k,
            candidates=self.settings.candidates,
        )
        self._write_lock = Lock()
        self._chain = self._build_chain()

    # ingesting -------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | Path], progress: Progress | None = None) -> IngestReport:
        """Add files and folders (.txt .md .html .json .jsonl) to the index.

        Unchanged articles are left alone, an edited file replaces what it gave before, and
        a file that cannot be used is reported as skipped with the reason.

        Raises:
            InputError: a path does not exist (then nothing is ingested).
        """
        files = collect(paths)
        return self._ingest_parsed((read_file(f) for f in files), len(files), progress)

    def ingest_data(self, name: str, data: bytes) -> IngestReport:
        """Add one uploaded file. ``name`` gives only its label and type, never a path."""
        label = Path(name).name or "upload"
        key = f"upload:{label}"
        if len(data) > self.settings.max_upload_bytes:
            limit = self.settings.max_upload_bytes // 1_000_000
            parsed = [Parsed(label, key, reason=f"the file is larger than {limit} MB")]
        else:
            parsed = parse(label, key, data)
        return self._ingest_parsed([parsed], 1, None)

    def _ingest_parsed(
        self, batches: Iterable[list[Parsed]], total: int, progress: Progress | None
    ) -> IngestReport:
        with self._write_lock:
            sources = self.index.sources()
            results: list[FileResult] = []
            pending = _Pending()
            seen_keys: dict[str, set[str]] = {}
            for done, batch in enumerate(batches, 1):
                for item in batch:
                    results.append(self._plan(item, sources, pending, seen_keys))
                if pending.passages >= FLUSH_PASSAGES:
                    self._flush(pending)
                if progress:
                    progress(done, total)
            self._flush(pending)
            self._drop_stale(sources, seen_keys)
        return IngestReport(tuple(results))

    def _plan(
        self,
        item: Parsed,
        sources: dict[str, list[str]],
        pending: _Pending,
        seen_keys: dict[str, set[str]],
    ) -> FileResult:
        if item.article is None:
            return FileResult(item.label, "skipped", reason=item.reason)
        article = item.article
        seen_keys.setdefault(item.key, set()).add(article.id)
        title = article.title
        if article.id in sources:
            if item.key not in sources[article.id]:
                sources[article.id].append(item.key)
                self.index.set_sources(article, sources[article.id])
            return FileResult(item.label, "unchanged", article.id, title)
        replaced = any(item.key in keys for keys in sources.values())
        sources[article.id] = [item.key]
        passages = chunk(article, self.settings.passage_chars)
        pending.items.append((article, passages, [item.key]))
        return FileResult(item.label, "updated" if replaced else "added", article.id, title)

    def _flush(self, pending: _Pending) -> None:
        if not pending.items:
            return
        texts = [p.text for _, passages, _ in pending.items for p in passages]
        vectors = self.embedder.embed(texts)
        offset = 0
        for article, passages, keys in pending.items:
            self.index.upsert(article, passages, vectors[offset : offset + len(passages)], keys)
            offset += len(passages)
        pending.items.clear()

    def _drop_stale(self, sources: dict[str, list[str]], seen: dict[str, set[str]]) -> None:
        """Forget what re-read keys gave before; delete articles no key holds any more."""
        for article_id, keys in list(sources.items()):
            stale = [k for k in keys if k in seen and article_id not in seen[k]]
            if not stale:
                continue
            remaining = [k for k in keys if k not in stale]
            if remaining:
                article = self.index.article(article_id)
                if article:
                    self.index.set_sources(article, remaining)
            else:
                self.index.delete(article_id)

    # reading ---------------------------------------------------------------------------

    def article(self, article_id: str) -> Article:
        """The article with this id.

        Raises:
            ArticleNotFoundError: no such article in the index.
        """
        found = self.index.article(article_id)
        if found is None:
            raise ArticleNotFoundError(
                f"No article with id {article_id!r} - run `assistant articles` to list the ids."
            )
        return found

    def articles(self) -> list[Article]:
        """Every article in the index, sorted by title."""
        return self.index.articles()

    def remove(self, article_id: str) -> None:
        """Delete an article and all its passages.

        Raises:
            ArticleNotFoundError: no such article in the index.
        """
        with self._write_lock:
            self.article(article_id)
            self.index.delete(article_id)

    def stats(self) -> IndexStats:
        """How many articles and passages the index holds, and its size on disk."""
        return self.index.stats()

    # asking ----------------------------------------------------------------------------

    def retrieve(
        self, question: str, history: History | None = None, k: int | None = None
    ) -> list[Hit]:
        """The passages ranked for ``question`` (after ``history``), best first."""
        self._check(question, history)
        return self.retriever.search(contextualise(question, history), k or self.settings.top_k)

    def ask(self, question: str, history: History | None = None) -> Answer:
        """Answer ``question`` from the articles, citing the sentences it comes from.

        ``history`` is the conversation so far, ``[{"role": "user"|"assistant",
        "content": str}, ...]``; follow-up questions are read in its light.

        Raises:
            InputError: the question or history is not usable.
            IndexMissingError: the index holds no articles.
        """
        self._check(question, history)
        result: Answer = self._chain.invoke(
            {"question": question.strip(), "history": list(history or [])}
        )
        return result

    def _check(self, question: str, history: History | None) -> None:
        if not isinstance(question, str) or not question.strip():
            raise InputError("The question is empty - type a question about the articles.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(
                f"The question is {len(question):,} characters long; the limit is {limit:,} - "
                "shorten it."
            )
        for turn in history or []:
            if (
                not isinstance(turn, Mapping)
                or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)
            ):
                raise InputError(
                    'Each history turn must be {"role": "user" or "assistant", '
                    '"content": text} - fix the history.'
                )
        if self.index.stats().passages == 0:
            raise IndexMissingError(
                f"The index at {self.index.location} holds no articles - run "
                "`assistant ingest articles/` first."
            )

    def _build_chain(self) -> Runnable[dict[str, Any], Answer]:
        def search(state: dict[str, Any]) -> list[Hit]:
            return self.retriever.search(state["query"], self.settings.top_k)

        return (
            RunnablePassthrough.assign(query=lambda s: contextualise(s["question"], s["history"]))
            | RunnablePassthrough.assign(hits=RunnableLambda(search))
            | RunnableLambda(self._answer)
        )

    def _answer(self, state: dict[str, Any]) -> Answer:
        hits: list[Hit] = state["hits"]
        found = answering.candidates(state["question"], state["query"], hits, self.embedder)
        probabilities = answering.score(found, self.calibration)
        texts: dict[str, str | None] = {}

        def article_text(article_id: str) -> str | None:
            if article_id not in texts:
                article = self.index.article(article_id)
                texts[article_id] = article.text if article else None
            return texts[article_id]

        return answering.compose(
            state["question"],
            list(zip(found, probabilities, strict=True)),
            self.calibration,
            article_text,
            related=hits,
        )


_SHARED: dict[str, Assistant] = {}
_SHARED_LOCK = Lock()


def answer(
    question: str, index_dir: str | Path | None = None, history: History | None = None
) -> Answer:
    """Answer one question from an existing index; the model loads once per process.

    Raises:
        IndexMissingError: there is no index at ``index_dir``.
    """
    settings = load_settings(index_dir=index_dir)
    key = f"{settings.index_dir.resolve()}|{settings.chroma_url}"
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Assistant(settings=settings, create=False)
    return _SHARED[key].ask(question, history)
