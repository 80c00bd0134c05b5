"""The public entry point: ``Assistant`` (ingest, ask, articles, remove) and ``answer()``."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from threading import Lock
from typing import Any

from langchain_core.runnables import (
    Runnable,
    RunnableGenerator,
    RunnableLambda,
    RunnablePassthrough,
)

from assistant import answerer as answering
from assistant import dates, parts, preference, process, short, speakers, timeline, verify, wire
from assistant.chunking import chunk
from assistant.config import Settings, load_settings
from assistant.embedding import CachedEmbedder, Embedder, for_ingest, make_embedder
from assistant.errors import ArticleNotFoundError, IndexMissingError, InputError
from assistant.generate import ModelError, Writer, pick_sources
from assistant.index import Index, Manifest
from assistant.ingest import Parsed, collect, parse, read_file
from assistant.matcher import default_matcher
from assistant.reader import Scorer, default_reader
from assistant.records import (
    Answer,
    Article,
    ArticleInfo,
    Citation,
    Event,
    FileResult,
    FileStatus,
    Hit,
    IndexCheck,
    IndexStats,
    IngestReport,
    Passage,
)
from assistant.retrieve import HybridRetriever, contextualise, reading

History = Sequence[Mapping[str, str]]
Progress = Callable[[int, int], None]
FLUSH_PASSAGES = 1024
"""Ingest embeds and writes the waiting passages once this many wait: Chroma writes 1,024
rows a call about a fifth faster a row than 256 (0.40 against 0.50 ms at 20,000 passages),
and the batch holds a few MB."""


def _file_of(key: str) -> str:
    """The file part of a source key (``path`` or ``path#record``)."""
    return key.split("#", 1)[0]


@dataclass
class _Run:
    """The state of one ingest call: what is stored, what waits, what was read."""

    sources: dict[str, list[str]]
    pending: list[tuple[Article, list[Passage], list[str]]] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    keys: dict[str, set[str]] = field(default_factory=dict)
    duplicates: int = 0

    @property
    def pending_passages(self) -> int:
        return sum(len(p) for _, p, _ in self.pending)

    def stale(self, article_id: str) -> list[str]:
        """Keys of this article that a file read in this run no longer gives."""
        read = {_file_of(k) for k in self.seen}
        return [
            k
            for k in self.sources[article_id]
            if _file_of(k) in read
            and k not in self.skipped
            and article_id not in self.seen.get(k, set())
        ]


class Assistant:
    """Question answering over an index of news articles, every claim cited.

    Args:
        index_dir: where the on-disk index lives (default ``ASSISTANT_INDEX_DIR`` or ``index``).
        settings: all other knobs; ``index_dir`` wins over ``settings.index_dir``.
        embedder: the sentence embedder (default: the packaged all-MiniLM-L6-v2, loaded lazily).
        create: create the index when missing; with ``False`` a missing index raises
            ``IndexMissingError``.
        calibration: the sentence model and abstention threshold (default: the fitted
            ``assistant/calibration.json``).
        reader: scores how likely a sentence answers the question (default: the trained
            answer reader, ``assistant/reader/``, loaded lazily).
        matcher: scores how close a sentence's meaning is to the question's (default: the
            sentence matcher, ``assistant/matcher.py``, loaded lazily).
        preload: start loading the embedder, the reader and the matcher now, in a thread
            beside the opening of the index, for a process that is about to ask.
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        create: bool = True,
        calibration: answering.Calibration | None = None,
        reader: Scorer | None = None,
        matcher: Scorer | None = None,
        preload: bool = False,
    ) -> None:
        base = settings or load_settings()
        self.settings = (
            base.model_copy(update={"index_dir": Path(index_dir)}) if index_dir else base
        )
        process.limit_arenas(self.settings.malloc_arenas)
        process.limit_blas(self.settings.blas_threads)
        self.embedder = embedder or make_embedder(
            self.settings.embedding_backend, self.settings.embed_batch_size
        )
        self._ingester: Embedder | None = None
        self._sentences = CachedEmbedder(self.embedder)
        self._parts = parts.Cache(lambda ids: self.index.parts(ids), self.embedder)
        self.calibration = calibration or answering.default_calibration()
        self.reader = reader or default_reader(self.settings.embedding_backend)
        self.matcher = matcher or default_matcher(
            True if self.settings.embedding_backend == "onnx-int8" else None
        )
        if preload:
            _load_beside(self.embedder, self.reader, self.matcher)
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
            lock_timeout=self.settings.lock_timeout,
        )
        self.retriever = HybridRetriever(
            index=self.index,
            embedder=self._sentences,  # the answerer embeds the same query: once is enough
            k=self.settings.top_k,
            candidates=self.settings.candidates,
        )
        self._write_lock = Lock()
        self._writer: Writer | None = None
        self._chain = self._build_chain()

    # ingesting -------------------------------------------------------------------------

    @property
    def ingester(self) -> Embedder:
        """The embedder ingest uses: ``embedder``, or the same model on a GPU that only torch
        can use (``embedding.for_ingest``; decided on first use)."""
        if self._ingester is None:
            self._ingester = for_ingest(self.embedder)
        return self._ingester

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
        with self._write_lock, self.index.writing():
            run = _Run(self.index.sources())
            results: list[FileResult] = []
            for done, batch in enumerate(batches, 1):
                for item in batch:  # a JSON Lines file may hold thousands of articles
                    results.append(self._plan(item, run))
                    if run.pending_passages >= FLUSH_PASSAGES:
                        self._flush(run)
                if progress:
                    progress(done, total)
            self._flush(run)
            self._drop_stale(run)
        return IngestReport(tuple(results), run.duplicates)

    def _plan(self, item: Parsed, run: _Run) -> FileResult:
        if item.article is None:
            run.skipped.add(item.key)
            return FileResult(item.label, "skipped", reason=item.reason)
        article = item.article
        run.seen.setdefault(item.key, set()).add(article.id)
        if article.id in run.sources:
            keys = run.sources[article.id]
            if item.key not in keys:
                keys.append(item.key)  # a pending article shares this list
                self.index.set_sources(article, keys)
            return FileResult(item.label, "unchanged", article.id, article.title)
        replaced = any(item.key in keys for keys in run.sources.values())
        keys = [item.key]
        run.sources[article.id] = keys
        passages = chunk(article, self.settings.passage_chars, self.index.manifest.splitter)
        run.pending.append((article, passages, keys))
        status: FileStatus = "updated" if replaced else "added"
        return FileResult(item.label, status, article.id, article.title)

    def _flush(self, run: _Run) -> None:
        """Embed the waiting articles' passages in one batch and write them."""
        if not run.pending:
            return
        self._count_copies(run)
        every = [p for _, passages, _ in run.pending for p in passages]
        vectors, pooled = parts.encode(every, self.ingester)
        stored = []
        offset = 0
        for article, passages, keys in run.pending:
            stored.append((article, passages, vectors[offset : offset + len(passages)], keys))
            offset += len(passages)
        self.index.upsert_many(
            stored, {p.id: found.to_bytes() for p, found in zip(every, pooled, strict=True)}
        )
        run.pending.clear()

    def _count_copies(self, run: _Run) -> None:
        """Count the waiting passages that copy a passage of another article."""
        keyed = [
            (article.id, wire.key([article.text[s.start : s.end] for s in p.sentences]))
            for article, passages, _ in run.pending
            for p in passages
        ]
        stored = self.index.copies([k for _, k in keyed if k not in run.keys])
        for key, holders in stored.items():
            run.keys.setdefault(key, set()).update(holders)
        for article_id, key in keyed:
            holders = run.keys.setdefault(key, set()) if key else set()
            run.duplicates += bool(holders - {article_id})
            if key:
                holders.add(article_id)

    def _drop_stale(self, run: _Run) -> None:
        """Forget what re-read files gave before; delete articles no file holds any more."""
        for article_id in list(run.sources):
            stale = run.stale(article_id)
            if not stale:
                continue
            remaining = [k for k in run.sources[article_id] if k not in stale]
            article = self.index.article(article_id)
            if remaining and article:
                self.index.set_sources(article, remaining)
            elif not remaining:
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

    def catalog(self) -> list[ArticleInfo]:
        """Every article's metadata and passage count, without its text, newest first
        (undated last). Kept between calls until the index changes, so a page may ask on
        every redraw."""
        return self.index.catalog()

    def remove(self, article_id: str) -> None:
        """Delete an article and all its passages.

        Raises:
            ArticleNotFoundError: no such article in the index.
        """
        with self._write_lock, self.index.writing():
            self.article(article_id)
            self.index.delete(article_id)

    def stats(self) -> IndexStats:
        """How many articles and passages the index holds, and its size on disk."""
        return self.index.stats()

    def check(self, repair: bool = False) -> IndexCheck:
        """Look for inconsistencies between the passages, the articles and the manifest
        (left by a crash or a disk failure) and, with ``repair``, fix them.

        Raises:
            ReadOnlyError: ``repair`` on an index this user cannot write.
            IndexBusyError: another process kept writing past the timeout.
        """
        with self._write_lock:
            if self.index.read_only:
                if repair:
                    self.index.store.require_writable()
                return self.index.check()
            with self.index.writing(clean=False):
                found = self.index.check()
                if repair and not found.ok:
                    return self.index.repair(found, self.embedder.embed)
                return found

    @property
    def read_only(self) -> bool:
        """Whether the index may only be read by this user (ask and list work)."""
        return self.index.read_only

    # asking ----------------------------------------------------------------------------

    def retrieve(
        self,
        question: str,
        history: History | None = None,
        k: int | None = None,
        as_of: dates.AsOf = None,
    ) -> list[Hit]:
        """The passages ranked for ``question`` (after ``history``), best first, as ``ask``
        ranks them (newer articles first among equals); with ``as_of``, only those of
        articles published by that day (or undated)."""
        cutoff = dates.as_of(as_of)
        self._check(question, history)
        return self.retriever.search(
            contextualise(question, history), k or self.settings.top_k, cutoff
        )

    def ask(
        self, question: str, history: History | None = None, as_of: dates.AsOf = None
    ) -> Answer:
        """Answer ``question`` from the articles, citing the sentences it comes from.

        ``history`` is the conversation so far, ``[{"role": "user"|"assistant",
        "content": str}, ...]``; follow-up questions are read in its light. ``as_of`` (a
        ``datetime.date`` or an ISO date string) answers from the articles published by that
        day only (undated articles always count). Questions about the current state
        ("latest", "so far") get the newest answering article, and where a newer article
        gives another figure the reply gives the newest and says as of when. With a language
        model configured (``ASSISTANT_LLM_BASE_URL``) the model writes the answer and every
        sentence of it is verified against what it cites; see :meth:`stream`.

        Raises:
            InputError: the question, history or ``as_of`` is not usable.
            IndexMissingError: the index holds no articles.
        """
        return deque(self.stream(question, history, as_of), maxlen=1)[0]

    def stream(
        self, question: str, history: History | None = None, as_of: dates.AsOf = None
    ) -> Iterator[Answer]:
        """Answer ``question`` as it is written: ``Answer`` snapshots whose ``text`` grows as
        the language model's tokens arrive (``final`` false, no citations yet), then the
        verified answer (``final`` true). Without a model, or when it fails, one final
        extractive answer (with a ``notice`` saying why, when the model failed).

        Raises:
            InputError: the question or history is not usable.
            IndexMissingError: the index holds no articles.
        """
        started = time.monotonic()
        cutoff = dates.as_of(as_of)
        self._check(question, history)
        yield from self._chain.stream(
            {
                "question": question.strip(),
                "history": list(history or []),
                "started": started,
                "as_of": cutoff,
            }
        )

    def timeline(self, query: str, k: int = 20, as_of: dates.AsOf = None) -> list[Event]:
        """Dated events about ``query``, oldest first: at most ``k``, one per distinct
        development (the same news told by several articles is one event, with the others
        in ``also_in``). Each quote is verified like a citation; undated articles give none.

        Raises:
            InputError: the query or ``as_of`` is not usable.
            IndexMissingError: the index holds no articles.
        """
        cutoff = dates.as_of(as_of)
        self._check(query, None)
        if k < 1:
            raise InputError(f"A timeline needs at least one event, not k={k} - raise k.")
        hits = self.retriever.search(query, max(k * 2, self.settings.top_k), cutoff, recent=False)
        articles = _Articles(self.index)
        return timeline.events(query, hits, self._sentences, articles.get, k)

    def warm_up(self) -> None:
        """Load the embedding model, the entity tagger and the lexical index now, so that the
        first question is quick; the language model, if any, is not called. Does nothing on
        an empty index."""
        self._model()  # imports the client; sends nothing
        if self.index.count() == 0:
            return
        state: dict[str, Any] = {"question": "warm up", "history": []}
        state["query"] = state["question"]
        state["hits"] = self.retriever.search(state["query"], self.settings.top_k)
        state["as_of"] = None
        self._extract(state)

    def _check(self, question: str, history: History | None) -> None:
        if not isinstance(question, str) or not question.strip():
            raise InputError("The question is empty - type a question about the articles.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(
                f"The question is {len(question):,} characters long; the limit is {limit:,} - "
                "shorten it."
            )
        if history is not None and (
            isinstance(history, str | bytes) or not isinstance(history, Sequence)
        ):
            raise InputError(
                'The history must be a list of {"role": ..., "content": ...} turns - fix it.'
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
        if self.index.count() == 0:
            raise IndexMissingError(
                f"The index at {self.index.location} holds no articles - run "
                "`assistant ingest articles/` first."
            )

    def _build_chain(self) -> Runnable[dict[str, Any], Answer]:
        def search(state: dict[str, Any]) -> list[Hit]:
            return self.retriever.search(state["query"], self.settings.top_k, state.get("as_of"))

        return (
            RunnablePassthrough.assign(query=lambda s: contextualise(s["question"], s["history"]))
            | RunnablePassthrough.assign(hits=RunnableLambda(search))
            | RunnableLambda(self._extract)
            | RunnableGenerator(self._respond)
        )

    def _extract(self, state: dict[str, Any]) -> _Drafted:
        """The extractive answer, and the scored sentences a language model would be given."""
        hits: list[Hit] = state["hits"]
        found = answering.candidates(
            state["question"],
            reading(state["question"], state["history"]),
            hits,
            self._sentences,
            self.reader,
            self.calibration,
            self._parts,
            self.retriever.ages(state.get("as_of")),
            self.matcher,
        )
        scored = list(zip(found, answering.score(found, self.calibration), strict=True))
        articles = _Articles(self.index)
        days = self.retriever.days()

        def lead(
            ranked: list[tuple[answering.Candidate, float]], answers: list[bool]
        ) -> preference.Lead:
            return preference.choose(
                state["question"],
                ranked,
                answers,
                lambda a: days.get(a, dates.UNDATED),
                articles.date,
                articles.speakers_of,
            )

        reply = answering.compose(
            state["question"], scored, self.calibration, articles.text, related=hits, lead=lead
        )
        if not reply.abstained:
            reply = replace(
                reply, citations=self._annotate(reply.citations, articles, state.get("as_of"))
            )
        if reply.status == "answered":  # a tentative reply gets no short-answer headline
            reply = replace(
                reply, short=short.find(state["question"], reply.citations, articles.text)
            )
        started = state.get("started", time.monotonic())
        return _Drafted(
            state["question"],
            state["history"],
            reply,
            scored,
            articles,
            started,
            state.get("as_of"),
        )

    def _annotate(
        self, citations: Sequence[Citation], articles: _Articles, as_of: int | None
    ) -> tuple[Citation, ...]:
        """Citations with their article's date, their speaker and their wire copies."""
        return tuple(
            replace(
                c,
                published=articles.date(c.article_id),
                speaker=articles.speaker(c.article_id, c.start, c.end),
                also_in=tuple(sorted(self.index.containing(c.quote, as_of) - {c.article_id})),
            )
            for c in citations
        )

    def _respond(self, drafts: Iterator[_Drafted]) -> Iterator[Answer]:
        for draft in drafts:
            writer = self._model()
            if writer is None:
                yield draft.extractive
            else:
                yield from self._generate(draft, writer)

    def _model(self) -> Writer | None:
        """The language model's client, made on first use; ``None`` when none is configured."""
        if self._writer is None and self.settings.llm_base_url:
            self._writer = Writer(self.settings)
        return self._writer

    def _generate(self, draft: _Drafted, writer: Writer) -> Iterator[Answer]:
        """The model's answer, streamed, then verified; the extractive one when it fails."""
        question, fallback = draft.question, draft.extractive
        if fallback.status == "refused":  # the articles are not about it: nothing to write from
            yield fallback
            return
        articles = draft.articles
        sources = pick_sources(
            draft.scored,
            lambda c: answering.verified(c, articles.text),
            articles.date,
            articles.text,
        )
        if not sources:
            yield fallback
            return
        text = ""
        try:
            for delta in writer.stream(question, draft.history, sources, draft.started):
                text += delta
                yield Answer(question, text, False, mode="generated", final=False)
        except ModelError as exc:
            yield replace(fallback, notice=f"{exc} - this is the answer without it.")
            return
        checked = verify.check(text, sources, self._sentences.embed, verify.support_floor())
        if checked.declined:
            yield replace(
                fallback,
                notice="The language model found no answer in the sources; this is the answer "
                "without it.",
            )
            return
        if not checked.citations:
            yield replace(
                fallback,
                notice="The language model's answer was not supported by the sources it cited; "
                "this is the answer without it.",
                unsupported=checked.unsupported,
            )
            return
        dropped = len(checked.unsupported)
        sure = fallback.status == "answered"
        reply = Answer(
            question,
            checked.text if sure else f"{answering.TENTATIVE_TEXT} {checked.text}",
            False,
            self._annotate(checked.citations, draft.articles, draft.as_of),
            confidence=fallback.confidence,
            mode="generated",
            notice=(
                f"Removed {dropped} sentence{'s' if dropped > 1 else ''} of the language "
                "model's answer that the sources do not support."
                if dropped
                else None
            ),
            unsupported=checked.unsupported,
            status=fallback.status,
        )
        if sure:
            reply = replace(reply, short=short.find(question, reply.citations, draft.articles.text))
        yield reply


class _Articles:
    """Stored articles looked up once per question (to verify quotes, date sources)."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._found: dict[str, Article | None] = {}

    def get(self, article_id: str) -> Article | None:
        if article_id not in self._found:
            self._found[article_id] = self._index.article(article_id)
        return self._found[article_id]

    def text(self, article_id: str) -> str | None:
        found = self.get(article_id)
        return found.text if found else None

    def date(self, article_id: str) -> str | None:
        found = self.get(article_id)
        return found.published if found else None

    def speaker(self, article_id: str, start: int, end: int) -> str | None:
        text = self.text(article_id)
        return None if text is None else speakers.speaker(text, start, end)

    def speakers_of(self, found: Sequence[answering.Candidate]) -> list[str | None]:
        return [self.speaker(c.hit.passage.article_id, c.span.start, c.span.end) for c in found]


@dataclass(frozen=True)
class _Drafted:
    """What the chain knows before any language model is asked."""

    question: str
    history: list[dict[str, str]]
    extractive: Answer
    scored: list[tuple[answering.Candidate, float]]
    articles: _Articles
    started: float
    as_of: int | None = None


def _load_beside(*models: object) -> None:
    """Load each of ``models`` that has a ``load`` method, in a thread of its own. ONNX
    Runtime builds a session without holding Python's lock, so this costs a cold ask little
    beside opening the index (about 0.2 s saved). A model that fails to load here fails
    again, with its error, when it is first used."""

    def load() -> None:
        for model in models:
            with contextlib.suppress(Exception):
                getattr(model, "load", lambda: None)()

    # Not a daemon: one stopped at exit inside ONNX Runtime could bring the process down.
    threading.Thread(target=load, name="assistant-load").start()


_SHARED: dict[str, Assistant] = {}
_SHARED_LOCK = Lock()


def answer(
    question: str,
    index_dir: str | Path | None = None,
    history: History | None = None,
    as_of: dates.AsOf = None,
) -> Answer:
    """Answer one question from an existing index; the model loads once per process.

    Raises:
        IndexMissingError: there is no index at ``index_dir``.
    """
    settings = load_settings(index_dir=index_dir)
    key = f"{settings.index_dir.resolve()}|{settings.chroma_url}"
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Assistant(settings=settings, create=False, preload=True)
    return _SHARED[key].ask(question, history, as_of)
