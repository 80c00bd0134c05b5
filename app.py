"""The chat page: ask the indexed news articles a question and check every claim at its source.

Start it with ``make run`` (``streamlit run app.py``). One ``Assistant`` (model and index) is
made per process and shared by every browser session; ``ASSISTANT_INDEX_DIR`` chooses the index.
Each conversation is saved on disk under the ``?chat=`` id in the page's URL
(``ConversationStore``: one folder per index, ``ASSISTANT_CONVERSATIONS_DIR``), so that URL
brings it back, sources included, even after the server restarts.

Article text is untrusted. Everything that comes from an article, including answers, which quote
articles, goes through ``html.escape`` before it reaches the page; only the markup this module
writes around it (``<mark>``, ``<sup>``, ``<div>``) is HTML.
"""

from __future__ import annotations

import contextlib
import functools
import html
import logging
import math
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, ParamSpec

import streamlit as st
from pydantic import TypeAdapter, ValidationError
from streamlit.delta_generator import DeltaGenerator

from assistant import (
    Answer,
    Article,
    ArticleInfo,
    Assistant,
    AssistantError,
    Citation,
    ConfigError,
    ConversationStore,
    Event,
    FileResult,
    Hit,
    Settings,
    Short,
)

UPLOAD_TYPES = ("txt", "md", "html", "json", "jsonl")
CONTEXT_CHARS = 280  # at most this much article text is shown either side of a quote
MIB = 1024 * 1024  # Streamlit's upload limit is in MiB
MAX_CONVERSATIONS = 1000  # kept on disk for reloads; saving one more drops the oldest
PAGE_SIZE = 20  # articles the library shows at a time, newest first
# Example prompts for the bundled article, shown on an empty chat while that article is
# indexed. They are only questions: the answers come from the assistant like any other.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "ukraine-russia-istanbul-talks": (
        "What did Russia propose on ceasefire length?",
        "Who leads the Russian negotiating team?",
        "How many soldiers' remains will be exchanged?",
    ),
}
STYLE = """<style>
.answer { line-height: 1.65; }
.answer sup.cite { font-size: .72em; font-weight: 600; color: #2563eb; margin-left: .1em; }
.abstained { border: 1px dashed rgba(128, 128, 128, .6); border-radius: .5rem;
  padding: .6rem .8rem; font-style: italic; opacity: .85; }
.tentative-label { display: inline-block; font-size: .8rem; font-weight: 600; color: #b45309;
  border: 1px solid rgba(180, 83, 9, .45); border-radius: 1rem; padding: .05rem .6rem;
  margin-bottom: .4rem; }
.answer.tentative { opacity: .8; font-style: italic; border-left: 3px dashed rgba(180, 83, 9, .5);
  padding-left: .75rem; }
.source { border-left: 3px solid #eab308; padding: .15rem 0 .15rem .75rem; margin: .35rem 0 .9rem; }
.source.related { border-left-color: rgba(128, 128, 128, .5); }
.source-head { font-size: .92rem; }
.source-head .marker { font-weight: 700; color: #2563eb; margin-right: .35em; }
.source-meta { font-size: .8rem; opacity: .7; }
.passage { white-space: pre-wrap; font-size: .92rem; margin: .3rem 0 0; opacity: .95; }
.short-answer { font-size: 1.25rem; font-weight: 700; margin-bottom: .25rem; }
.passage mark strong.short { text-decoration: underline; text-underline-offset: .15em; }
.passage mark { background: rgba(250, 204, 21, .45); color: inherit; padding: 0 .12em;
  border-radius: 3px; }
.library .article { border: 1px solid rgba(128, 128, 128, .3); border-radius: .5rem;
  padding: .45rem .65rem; margin: 0 0 .4rem; }
.article { overflow-wrap: anywhere; }
.article-meta { font-size: .8rem; opacity: .7; }
.results { list-style: none; padding: 0; margin: 0; font-size: .85rem; }
.results li { margin: .2rem 0; overflow-wrap: anywhere; }
.status { font-weight: 600; }
.status-added { color: #16a34a; } .status-updated { color: #2563eb; }
.status-unchanged { color: #6b7280; } .status-skipped { color: #dc2626; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { border-left: 3px solid #2563eb; padding: .1rem 0 .1rem .75rem; margin: 0 0 .8rem; }
.timeline .when { font-weight: 700; font-size: .9rem; }
.timeline .quote { font-size: .92rem; margin: .15rem 0 0; }
</style>"""

log = logging.getLogger("assistant.app")
P = ParamSpec("P")


@dataclass(frozen=True)
class Source:
    """A passage as shown under a reply: where it is from and the text around its quote."""

    marker: int | None
    title: str
    meta: str
    before: str
    quote: str
    after: str
    short: tuple[int, int] | None = None


@dataclass(frozen=True)
class Turn:
    """One chat message, kept in the session with the sources it showed when it was made."""

    role: Literal["user", "assistant"]
    text: str
    abstained: bool = False
    sources: tuple[Source, ...] = ()
    related: tuple[Source, ...] = ()
    error: bool = False
    seconds: float | None = None
    short: Short | None = None
    notice: str | None = None
    unsupported: tuple[str, ...] = ()
    generated: bool = False
    tentative: bool = False
    confidence: float | None = None


STORED_TURNS = TypeAdapter(list[Turn])  # a stored conversation's dicts back into turns


# ---------------------------------------------------------------------------- the assistant


class Assistants:
    """The page's assistants over one index, shared by every browser session (sessions run in
    threads). A question borrows one, so that as many are answered at once as there are
    assistants and none is used by two threads at a time; a write (an upload, a removal)
    borrows them all, so that no question reads the index in this process meanwhile. The
    others see the write on their next question, as another process would."""

    def __init__(self, made: Sequence[Assistant]) -> None:
        self._free: queue.Queue[Assistant] = queue.Queue()
        for bot in made:
            self._free.put(bot)
        self.size = len(made)
        self.read_only = made[0].read_only
        self._gathering = threading.Lock()

    @contextlib.contextmanager
    def one(self) -> Iterator[Assistant]:
        """An assistant to ask or read with, for the length of the ``with`` block."""
        bot = self._free.get()
        try:
            yield bot
        finally:
            self._free.put(bot)

    @contextlib.contextmanager
    def every(self) -> Iterator[Assistant]:
        """One assistant to write with, once every other is idle and held."""
        with self._gathering:  # two writers must not each hold some
            held = [self._free.get() for _ in range(self.size)]
        try:
            yield held[0]
        finally:
            for bot in held:
                self._free.put(bot)


@st.cache_resource(show_spinner="Loading the model and the index…")
def load_assistants(index_dir: str, count: int) -> Assistants:
    """The process-wide assistants for ``index_dir``, warmed up so the first answer is quick."""
    made = [Assistant(index_dir=index_dir, preload=True) for _ in range(count)]
    # Load the embedding model and retrieval state now, not on the first question. An empty
    # index cannot answer yet; the page says what to do then.
    for bot in made:
        with contextlib.suppress(AssistantError):
            bot.warm_up()
    return Assistants(made)


def assistants() -> Assistants:
    """The page's assistants for the configured index (``page_assistants`` of them: one per
    core, at most 4, by default); a problem with the settings or the index shows its message
    and stops the page."""
    try:
        chosen = settings()
        count = chosen.page_assistants or min(os.cpu_count() or 1, 4)
        return load_assistants(str(chosen.index_dir), count)
    except AssistantError as error:
        st.error(md_escape(str(error)), icon=":material/error:")
        st.stop()


@st.cache_resource
def conversation_store(root: str, index: str) -> ConversationStore:
    """The process-wide store of the conversations on ``index`` under ``root``; one per process,
    so that a folder that cannot be written warns once and what it could not save stays."""
    return ConversationStore(Path(root), index, keep=MAX_CONVERSATIONS)


def settings() -> Settings:
    """The current settings; an invalid value is a ``ConfigError`` with a one-line message."""
    try:
        return Settings()
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        raise ConfigError(
            f"Invalid setting {where}: {problem['msg']} - fix ASSISTANT_* or assistant.toml."
        ) from None


def conversations() -> ConversationStore:
    """The stored conversations of the current index (``ASSISTANT_CONVERSATIONS_DIR``)."""
    place = ConversationStore.for_settings(settings())  # names the folder, reads nothing
    return conversation_store(str(place.root), place.index)


# ---------------------------------------------------------------------------- pure helpers


def esc(text: str) -> str:
    """``text`` escaped for HTML: an article's markup shows as text and never runs."""
    return html.escape(text, quote=True)


def md_escape(text: str) -> str:
    """``text`` for places that render Markdown: punctuation is backslash-escaped, except inside
    `code spans`, which Markdown already shows literally (error messages use them for commands).
    """
    parts = re.split(r"(`[^`\n]+`)", text)
    return "".join(
        part if part.startswith("`") else re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$:])", r"\\\1", part)
        for part in parts
    )


_BOUNDARY = re.compile(r"(?<=[.!?…\"”’])\s+|\n\s*")


def context(text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str, str]:
    """Split ``text`` around ``[start, end)`` into (before, quote, after).

    Each side holds at most ``chars`` characters, cut at a sentence boundary where there is one
    in reach, else at a space with an ellipsis.
    """
    lo, hi = max(0, start - chars), min(len(text), end + chars)
    before, after = text[lo:start], text[end:hi]
    if lo > 0:
        cut = _BOUNDARY.search(before)
        if cut and before[cut.end() :].strip():
            before = before[cut.end() :]
        else:
            before = "…" + before[before.find(" ") + 1 :]
    if hi < len(text):
        cuts = list(_BOUNDARY.finditer(after))
        if cuts and after[: cuts[-1].start()].strip():
            after = after[: cuts[-1].start()]
        else:
            after = after[: max(after.rfind(" "), 0)] + "…"
    return before.lstrip(), text[start:end], after.rstrip()


def file_name(path: str | None) -> str:
    """The last part of a path or upload label ("" for None); nothing is opened."""
    return re.split(r"[\\/]", path or "")[-1]


def article_meta(article: Article | ArticleInfo) -> str:
    """The article's date and source (or file name, when it names no source), as one line."""
    source = article.source or file_name(article.path) or "unknown source"
    return f"{article.published or 'undated'} · {source}"


def citation_meta(article: Article, citation: Citation) -> str:
    """The source line of a citation: date and source, who said it, how many others carry it."""
    parts = [article_meta(article)]
    if citation.speaker:
        parts.append(f"said by {citation.speaker}")
    if citation.also_in:
        parts.append(f"also in {plural(len(citation.also_in), 'other source')}")
    return " · ".join(parts)


def source_of(bot: Assistant, citation: Citation, short: Short | None = None) -> Source:
    """How ``citation`` is shown: its article's title, date, source, speaker and copies and
    the text around it, with the short answer's place in the quote when it lies there."""
    article = bot.article(citation.article_id)
    if article.text[citation.start : citation.end] != citation.quote:
        before, after = "", ""  # offsets out of step with the stored text: show the quote alone
    else:
        before, _, after = context(article.text, citation.start, citation.end)
    inside = None
    if short is not None and short.marker == citation.marker:
        inside = (short.start - citation.start, short.end - citation.start)
    return Source(
        citation.marker,
        article.title,
        citation_meta(article, citation),
        before,
        citation.quote,
        after,
        inside,
    )


def related_of(hit: Hit) -> Source:
    """A nearest passage of an abstained reply: shown as related, with nothing highlighted."""
    text = hit.passage.text
    if len(text) > 2 * CONTEXT_CHARS:
        text = text[: 2 * CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    return Source(None, hit.title or "Untitled", f"similarity {hit.similarity:.2f}", text, "", "")


def reply_turn(
    pool: Assistants,
    question: str,
    history: list[dict[str, str]],
    draft: Callable[[str], None] | None = None,
    as_of: date | None = None,
) -> Turn:
    """Ask ``question`` with ``history`` (from the articles published by ``as_of``) and keep
    what the reply showed; errors become a turn.

    A language model's answer is passed to ``draft`` as it is written, before it is verified.
    """
    started = time.perf_counter()
    try:
        with pool.one() as bot:
            reply: Answer | None = None
            for reply in bot.stream(question, history=history, as_of=as_of):
                if not reply.final and draft is not None:
                    draft(reply.text)
            assert reply is not None
            sources = tuple(source_of(bot, c, reply.short) for c in reply.citations)
    except AssistantError as error:
        return Turn("assistant", str(error), error=True)
    return Turn(
        "assistant",
        reply.text,
        abstained=reply.abstained,
        sources=() if reply.abstained else sources,
        related=tuple(related_of(h) for h in reply.related) if reply.abstained else (),
        seconds=time.perf_counter() - started,
        short=reply.short,
        notice=reply.notice,
        unsupported=reply.unsupported,
        generated=reply.mode == "generated",
        tentative=reply.status == "tentative",
        confidence=reply.confidence,
    )


def history_of(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The conversation so far in the API's ``history`` shape, leaving out error messages and
    the questions that got them."""
    history: list[dict[str, str]] = []
    for turn in turns:
        if turn.error:
            if history and history[-1]["role"] == "user":
                history.pop()
            continue
        history.append({"role": turn.role, "content": turn.text})
    return history


def upload_results(pool: Assistants, name: str, data: bytes, cap: int) -> tuple[FileResult, ...]:
    """Check one upload's type and size, then add it; a problem is a skipped result."""
    label = file_name(name) or "upload"  # only ever a label, never a path
    suffix = label.rsplit(".", 1)[-1].lower() if "." in label else ""
    if suffix not in UPLOAD_TYPES:
        reason = f"not a supported type (use {', '.join('.' + t for t in UPLOAD_TYPES)})"
        return (FileResult(label, "skipped", reason=reason),)
    if len(data) > cap:
        reason = f"larger than the {cap / 1_000_000:g} MB upload limit"
        return (FileResult(label, "skipped", reason=reason),)
    try:
        with pool.every() as bot:
            return bot.ingest_data(label, data).results
    except AssistantError as error:
        return (FileResult(label, "skipped", reason=str(error)),)


def human_bytes(size: int | None) -> str:
    """``size`` in B, KB or MB, or "size unknown"."""
    if size is None:
        return "size unknown"
    if size < 1000:
        return f"{size} B"
    return f"{size / 1e3:.1f} KB" if size < 1_000_000 else f"{size / 1e6:.1f} MB"


def plural(n: int, noun: str) -> str:
    """``n`` and ``noun``, with an s unless n is 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def examples_for(articles: Sequence[ArticleInfo]) -> list[str]:
    """Example prompts for the indexed articles that have some."""
    stems = {file_name(a.path).rsplit(".", 1)[0] for a in articles}
    return [q for stem, questions in EXAMPLES.items() if stem in stems for q in questions]


# ---------------------------------------------------------------------------- HTML


def source_html(source: Source) -> str:
    """One source: its marker, title and meta line, and the passage with the quote marked."""
    marker = f'<span class="marker">[{source.marker}]</span>' if source.marker else ""
    kind = "source" if source.marker else "source related"
    quote = f"<mark>{esc(source.quote)}</mark>" if source.quote else ""
    if source.quote and source.short:
        a, b = source.short
        q = source.quote
        quote = f'<mark>{esc(q[:a])}<strong class="short">{esc(q[a:b])}</strong>{esc(q[b:])}</mark>'
    return (
        f'<div class="{kind}"><div class="source-head">{marker}<b>{esc(source.title)}</b> '
        f'<span class="source-meta">{esc(source.meta)}</span></div>'
        f'<p class="passage">{esc(source.before)}{quote}{esc(source.after)}</p></div>'
    )


def short_html(short: Short) -> str:
    """The short answer, above the cited sentences, with the marker of the quote it is in."""
    return (
        f'<div class="short-answer">{esc(short.text)}<sup class="cite">[{short.marker}]</sup></div>'
    )


def timeline_html(events: Sequence[Event]) -> str:
    """A timeline as a dated list, oldest first, each event with its quote and article."""
    items = []
    for e in events:
        more = f" · also in {plural(len(e.also_in), 'other source')}" if e.also_in else ""
        items.append(
            f'<li><div class="when">{esc(e.date)}</div>'
            f'<div class="source-meta">{esc(e.title)}{esc(more)}</div>'
            f'<p class="quote">{esc(e.quote)}</p></li>'
        )
    return f'<ul class="timeline">{"".join(items)}</ul>'


def answer_html(text: str, tentative: bool = False) -> str:
    """An answer's text, escaped, with its ``[n]`` markers set as superscripts; a tentative
    one in a quieter style."""
    marked = re.sub(r"\[(\d+)\]", r'<sup class="cite">[\1]</sup>', esc(text))
    return f'<div class="answer{" tentative" if tentative else ""}">{marked}</div>'


def tentative_html(confidence: float | None) -> str:
    """The label above a tentative reply: it may not answer the question."""
    sure = f" · confidence {confidence:.0%}" if confidence is not None else ""
    return f'<div class="tentative-label">May not answer your question{sure}</div>'


def matching(articles: Sequence[ArticleInfo], query: str) -> list[ArticleInfo]:
    """The articles whose title, source (or file name) or day holds every word of ``query``,
    ignoring case; all of them for an empty query."""
    words = query.lower().split()
    if not words:
        return list(articles)
    return [a for a in articles if all(w in f"{a.title} {article_meta(a)}".lower() for w in words)]


def library_html(articles: Sequence[ArticleInfo]) -> str:
    """One page of the library: each article's title, date, source and passage count."""
    items = "".join(
        f'<div class="article"><b>{esc(a.title or "Untitled")}</b><div class="article-meta">'
        f"{esc(article_meta(a))} · {plural(a.passages, 'passage')}</div></div>"
        for a in articles
    )
    return f'<div class="library">{items}</div>'


def results_html(results: Sequence[FileResult]) -> str:
    """The per-file outcome of an upload, one line each."""
    items = []
    for r in results:
        detail = r.reason if r.status == "skipped" else r.title
        items.append(
            f'<li><span class="status status-{esc(r.status)}">{esc(r.status)}</span> '
            f"{esc(r.path)}{' — ' + esc(detail) if detail else ''}</li>"
        )
    return f'<ul class="results">{"".join(items)}</ul>'


# ---------------------------------------------------------------------------- page parts


def shielded(draw: Callable[P, None]) -> Callable[P, None]:
    """``draw`` with an unexpected error shown as a message (the details go to the server
    log), never a traceback. Each fragment needs its own: Streamlit shows a fragment's errors
    itself. Stopping and rerunning are not errors (``BaseException``) and pass through."""

    @functools.wraps(draw)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            draw(*args, **kwargs)
        except Exception:
            log.exception("the chat page failed")
            st.error("Something went wrong on our side; the details are in the server log.")

    return run


def stored_turns(chat_id: str) -> list[Turn] | None:
    """The conversation saved under ``chat_id``; None when there is none or it is unreadable."""
    if not ConversationStore.is_chat_id(chat_id):
        return None
    saved = conversations().load(chat_id)
    if saved is None:
        return None
    try:
        return STORED_TURNS.validate_python(saved)
    except ValidationError as error:
        log.warning("Ignoring the stored conversation %s: %s", chat_id, error.errors()[0]["msg"])
        return None


def turns_data(conversation: Sequence[Turn]) -> list[dict[str, Any]]:
    """``conversation`` as the JSON-able dicts the store keeps."""
    return [asdict(turn) for turn in conversation]


def turns() -> list[Turn]:
    """This session's conversation; a reload of the page's URL brings it back."""
    if "turns" not in st.session_state:
        chat_id = str(st.query_params.get("chat", ""))
        saved = stored_turns(chat_id)
        st.session_state["chat_id"] = chat_id if saved is not None else uuid.uuid4().hex
        st.session_state["turns"] = saved if saved is not None else []
    return st.session_state["turns"]  # type: ignore[no-any-return]


def remember_conversation() -> None:
    """Save this conversation under the id in the page's URL (the oldest ones are dropped)."""
    chat_id = str(st.session_state["chat_id"])
    conversations().save(chat_id, turns_data(turns()))
    st.query_params["chat"] = chat_id


def render_turn(turn: Turn) -> None:
    """Draw one message with the sources it had when it was made."""
    if turn.role == "user":
        with st.chat_message("user"):
            st.markdown(md_escape(turn.text))
        return
    avatar = ":material/search_off:" if turn.abstained else None
    with st.chat_message("assistant", avatar=avatar):
        if turn.error:
            st.error(md_escape(turn.text), icon=":material/error:")
        elif turn.abstained:
            st.html(f'<div class="abstained">{esc(turn.text)}</div>')
            if turn.related:
                with st.expander("Related passages — not an answer"):
                    st.html("".join(source_html(s) for s in turn.related))
        else:
            if turn.notice:
                st.info(md_escape(turn.notice), icon=":material/info:")
            if turn.tentative:
                st.html(tentative_html(turn.confidence))
            elif turn.short:
                st.html(short_html(turn.short))
            st.html(answer_html(turn.text, tentative=turn.tentative))
            if turn.unsupported:
                with st.expander("Removed: not supported by the sources"):
                    st.html("".join(f"<p><s>{esc(s)}</s></p>" for s in turn.unsupported))
            if turn.sources:
                label = f"Sources ({len(turn.sources)})"
                with st.expander(label, expanded=True, icon=":material/format_quote:"):
                    st.html("".join(source_html(s) for s in turn.sources))
        if turn.seconds is not None:
            by = (
                " · written by the language model, checked against its sources"
                if turn.generated
                else ""
            )
            st.caption(f"Answered in {turn.seconds:.2f} s{by}")


def ask(question: str) -> None:
    """Callback of the example buttons: ask ``question`` on this run."""
    st.session_state["pending"] = question


def clear_conversation() -> None:
    """Callback of the clear button: empties the chat and deletes its stored copy."""
    turns().clear()
    try:
        conversations().delete(str(st.session_state["chat_id"]))
    except AssistantError as error:
        st.session_state["library_error"] = str(error)


def forget_conversations() -> None:
    """Callback of the forget button: deletes every stored conversation of this index."""
    turns().clear()
    try:
        forgotten = conversations().clear_all()
    except AssistantError as error:
        st.session_state["library_error"] = str(error)
    else:
        st.session_state["library_notice"] = f"Forgot {plural(forgotten, 'conversation')}."


def remove_article(pool: Assistants, article_id: str, title: str) -> None:
    """Callback of the library's remove button: remove the chosen article."""
    try:
        with pool.every() as bot:
            bot.remove(article_id)
    except AssistantError as error:
        st.session_state["library_error"] = str(error)
    else:
        st.session_state["library_notice"] = f"Removed “{title}”."
        st.session_state["library_changed"] = True


def turn_page(step: int) -> None:
    """Callback of the library's pager: show the next (1) or previous (-1) page."""
    st.session_state["library_page"] = max(0, st.session_state.get("library_page", 0) + step)


def first_page() -> None:
    """Callback of the library's search box: a new search starts at its first page."""
    st.session_state["library_page"] = 0


def render_upload(pool: Assistants) -> None:
    """The upload form, its progress bar and the per-file results of the last upload."""
    cap = settings().max_upload_bytes
    with st.form("upload", clear_on_submit=True, border=False):
        # No ``type=``: Streamlit would refuse other files with an exception before this
        # script runs; checking here turns them into a "skipped" result that says why.
        files = st.file_uploader(
            "Add articles",
            accept_multiple_files=True,
            max_upload_size=max(1, math.ceil(cap / MIB)),
            help="Plain text, Markdown, HTML, or JSON / JSON Lines records with a `text` field.",
        )
        kinds = ", ".join(t.upper() for t in UPLOAD_TYPES)
        st.caption(f"Accepts {kinds}")
        submitted = st.form_submit_button("Add to library", icon=":material/upload_file:")
    if submitted and files:
        bar = st.progress(0.0, text="Adding articles…")
        results: list[FileResult] = []
        for done, file in enumerate(files, start=1):
            results.extend(upload_results(pool, file.name, file.getvalue(), cap))
            bar.progress(done / len(files), text=f"Added {done} of {len(files)} files")
        st.session_state["upload_results"] = results
        if any(r.status in ("added", "updated") for r in results):
            st.rerun()  # the chat's empty state and examples depend on the articles
    if st.session_state.get("upload_results"):
        st.html(results_html(st.session_state["upload_results"]))


def render_removal(pool: Assistants, shown: Sequence[ArticleInfo]) -> None:
    """Remove one of the articles on this page: choose it, then confirm."""
    titles = {a.id: a.title or "Untitled" for a in shown}
    chosen = st.selectbox(
        "Remove an article",
        options=list(titles),
        format_func=titles.__getitem__,
        index=None,
        placeholder="Choose an article on this page…",
        key=f"remove-choice-{shown[0].id}-{len(shown)}",  # a new page starts unchosen
    )
    with st.popover("Remove…", icon=":material/delete:", disabled=chosen is None):
        if chosen is not None:
            st.html(
                f"Remove <b>{esc(titles[chosen])}</b> and its passages from the index? "
                "Answers already given keep their quotes."
            )
            st.button(
                "Remove from library",
                key="remove-article",
                type="primary",
                on_click=remove_article,
                args=(pool, chosen, titles[chosen]),
            )


def render_articles(pool: Assistants, removable: bool = True) -> None:
    """The library's size, a search box and one page of the matching articles, newest first
    (``PAGE_SIZE``, with a pager), and (if ``removable``) a way to remove one of them.

    What it draws does not grow with the library: a year of news costs what ten articles do.
    """
    with pool.one() as bot:
        stats, listed = bot.stats(), bot.catalog()
    st.caption(
        f"{plural(stats.articles, 'article')} · {plural(stats.passages, 'passage')} · "
        f"{human_bytes(stats.bytes)}"
    )
    query = st.text_input(
        "Search the library",
        key="library_search",
        placeholder="Title, source or day (2023-05)",
        on_change=first_page,
    )
    found = matching(listed, query)
    pages = max(1, math.ceil(len(found) / PAGE_SIZE))
    number = min(st.session_state.get("library_page", 0), pages - 1)
    st.session_state["library_page"] = number
    shown = found[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
    if not found and query.strip():
        st.caption("No article matches.")
    if shown:
        st.html(library_html(shown))
    if pages > 1:
        first = number * PAGE_SIZE + 1
        st.caption(f"Showing {first}–{first + len(shown) - 1} of {len(found):,}, newest first")
        newer, older = st.columns(2)
        newer.button(
            "Newer",
            key="newer",
            icon=":material/chevron_left:",
            on_click=turn_page,
            args=(-1,),
            disabled=number == 0,
            width="stretch",
        )
        older.button(
            "Older",
            key="older",
            icon=":material/chevron_right:",
            icon_position="right",
            on_click=turn_page,
            args=(1,),
            disabled=number == pages - 1,
            width="stretch",
        )
    if removable and shown:
        render_removal(pool, shown)


@st.fragment
@shielded
def render_library() -> None:
    """The library: notices, upload and the paged article list. Searching, paging, uploading
    and removing redraw only this; a change to the library then redraws the page once."""
    pool = assistants()
    if st.session_state.pop("library_changed", False):
        st.rerun()  # the chat's empty state and examples depend on the articles
    if error := st.session_state.pop("library_error", None):
        st.error(md_escape(error), icon=":material/error:")
    if notice := st.session_state.pop("library_notice", None):
        st.toast(md_escape(notice), icon=":material/delete:")
    if pool.read_only:
        st.info(
            "This index is read-only: you can ask and browse, not add or remove articles.",
            icon=":material/lock:",
        )
    else:
        render_upload(pool)
    render_articles(pool, removable=not pool.read_only)


def render_empty(articles: Sequence[ArticleInfo]) -> None:
    """What an empty chat shows: how to start, and example questions to click."""
    if not articles:
        st.info("The library is empty. Add an article in the sidebar, or run `make index`.")
        return
    examples = examples_for(articles)
    if examples:
        st.caption("Try one of these:")
        for n, question in enumerate(examples):
            st.button(question, key=f"example-{n}", on_click=ask, args=(question,))


def render_time() -> date | None:
    """The "as of" date control and the timeline view; returns the chosen date."""
    when, topic = st.columns([1, 2])
    as_of: date | None = when.date_input(
        "As of",
        value=None,
        key="as_of",
        format="YYYY-MM-DD",
        help="Answer from the articles published by this day (undated ones always count). "
        "Empty: all articles.",
    )
    with topic.popover("Timeline", icon=":material/timeline:", width="stretch"):
        with st.form("timeline", border=False):
            query = st.text_input("Timeline of", placeholder="e.g. the ceasefire talks")
            shown = st.form_submit_button("Show timeline")
        if shown and query.strip():
            try:
                with assistants().one() as bot:
                    events = bot.timeline(query, as_of=as_of)
            except AssistantError as error:
                st.error(md_escape(str(error)), icon=":material/error:")
            else:
                if events:
                    st.html(timeline_html(events))
                else:
                    st.info("No dated article tells of this.")
    return as_of


def render_chat_controls(slot: DeltaGenerator) -> None:
    """Clear this conversation, or forget every stored one of this index after a confirmation."""
    slot.button(
        "Clear conversation",
        key="clear",
        icon=":material/restart_alt:",
        on_click=clear_conversation,
        disabled=not turns(),
        width="stretch",
    )
    with slot.popover("Forget all conversations", icon=":material/delete_sweep:", width="stretch"):
        st.markdown(
            "Delete every conversation kept for this library, this one included? "
            "Links to them will open an empty chat."
        )
        st.button(
            "Forget all conversations",
            key="forget-all",
            type="primary",
            on_click=forget_conversations,
        )


@st.fragment
@shielded
def render_chat(as_of: date | None, controls: DeltaGenerator) -> None:
    """The chat box, the conversation and (in ``controls``) the buttons that clear it. Asking
    redraws only this: the library and the rest of the page stay as they are.

    The chat box comes first, so that on a server's first visit it takes a question while
    the model and the index load; the question is asked once they have.
    """
    typed = st.bottom.chat_input("Ask about the articles…", max_chars=1000)
    pool = assistants()
    for turn in turns():
        render_turn(turn)
    question = typed or st.session_state.pop("pending", None)
    if not turns() and not question:
        with pool.one() as bot:
            listed = bot.catalog()
        render_empty(listed)
    if question:
        history = history_of(turns())
        turns().append(Turn("user", question))
        render_turn(turns()[-1])
        waiting = st.empty()
        with waiting.chat_message("assistant"):
            draft = st.empty()  # a language model's answer streams here, then is verified

            def show(text: str) -> None:
                draft.markdown(md_escape(text) + " ▌")

            with st.spinner("Searching the articles…"):
                turns().append(reply_turn(pool, question, history, draft=show, as_of=as_of))
        remember_conversation()  # before drawing: a reload as soon as it shows finds it kept
        waiting.empty()
        render_turn(turns()[-1])
    render_chat_controls(controls)


def page() -> None:
    """The whole page, drawn on a first visit and when the "as of" day changes; the library
    and the chat each redraw alone (fragments) when used."""
    st.html(STYLE)
    with st.sidebar:
        controls = st.container()  # the chat fills it: its buttons depend on the conversation
        st.header("Library")
        shelf = st.container()
    st.title("Ask the news")
    st.caption("Answers come only from the indexed articles, each claim cited to its sentence.")
    as_of = render_time()
    render_chat(as_of, controls)
    with shelf:
        render_library()


def main() -> None:
    """Set up the page and draw it; an unexpected error shows a message, never a traceback."""
    st.set_page_config(page_title="Ask the news", page_icon=":material/newspaper:")
    shielded(page)()


if __name__ == "__main__":
    main()
