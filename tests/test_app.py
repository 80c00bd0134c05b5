"""The chat page through Streamlit's AppTest, on the real model and a real index in tmp_path."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from pathlib import Path
from types import ModuleType, SimpleNamespace

import news_corpus
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from assistant import ArticleInfo, Assistant, ConversationStore, Settings, Short

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
ARTICLE = ROOT / "articles" / "ukraine-russia-istanbul-talks.txt"
CEASEFIRE = (
    "The Kremlin has proposed a limited ceasefire lasting two to three days, applicable in "
    "specific regions to facilitate the negotiations."
)
MEDINSKY = "Conversely, the Russian negotiating team, led by Vladimir Medinsky"
UPLOAD_CAP = 4000
HOSTILE = (
    "Bunker report <img src=x onerror=alert(1)>\n"
    "Inspectors found a note reading <script>alert('pwned')</script> inside the old bunker.\n"
    "The bunker near the river was sealed by the army in 1961.\n"
)


def load_app() -> ModuleType:
    """app.py as a module, for its pure helpers (its page only runs as ``__main__``)."""
    spec = importlib.util.spec_from_file_location("chat_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def news_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index holding the bundled article, built once for the chat tests."""
    path = tmp_path_factory.mktemp("news-index")
    report = Assistant(index_dir=path).ingest([ARTICLE])
    assert report.added == 1
    return path


def healthy(page: AppTest) -> None:
    """The run raised nothing, and hit no bug (which the page shows as a generic error)."""
    assert not page.exception
    assert not [e.value for e in page.error if "went wrong" in e.value]


def start(index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page, run once against ``index_dir``."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    page = AppTest.from_file(str(APP), default_timeout=120)
    page.run()
    healthy(page)
    return page


@pytest.fixture
def chat(news_index: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return start(news_index, monkeypatch)


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The page on an empty index of its own, with a small upload cap."""
    monkeypatch.setenv("ASSISTANT_MAX_UPLOAD_BYTES", str(UPLOAD_CAP))
    yield start(tmp_path / "index", monkeypatch)


def ask(page: AppTest, question: str) -> Block:
    """Type ``question`` into the chat box; returns the reply's message."""
    page.chat_input[0].set_value(question).run()
    healthy(page)
    return page.chat_message[-1]


def html_of(block: Block) -> str:
    return "".join(element.value for element in block.html)


def quotes(block: Block) -> list[str]:
    """The highlighted (cited) sentences in ``block``, unescaped."""
    found = re.findall(r"<mark>(.*?)</mark>", unshort(html_of(block)), re.S)
    return [html.unescape(q) for q in found]


def articles_html(page: AppTest) -> str:
    """The sidebar's list of indexed articles."""
    return "".join(h.value for h in page.sidebar.html if 'class="article"' in h.value)


def size_line(page: AppTest) -> str:
    """The library's size as the sidebar states it ("N articles · M passages · size")."""
    return next(c.value for c in page.sidebar.caption if " passage" in c.value)


def remove_listed(page: AppTest, title: str) -> None:
    """Choose the listed article titled ``title`` for removal and confirm."""
    choice = page.sidebar.selectbox[0]
    choice.select(next(o for o in choice.options if o.startswith(title))).run()
    page.sidebar.button(key="remove-article").click().run()


def plain(markdown: str) -> str:
    """``markdown`` without its backslash escapes."""
    return re.sub(r"\\(.)", r"\1", markdown)


def marked(sentence: str) -> str:
    """How a highlighted quote appears in the page's HTML (short answer emphasis removed)."""
    return f"<mark>{html.escape(sentence)}</mark>"


def unshort(markup: str) -> str:
    """``markup`` without the emphasis that sets a short answer apart inside its quote."""
    return re.sub(r'<strong class="short">(.*?)</strong>', r"\1", markup, flags=re.S)


def upload(page: AppTest, *files: tuple[str, bytes, str]) -> str:
    """Upload ``files`` through the sidebar form; returns the per-file results' HTML."""
    page.sidebar.file_uploader[0].set_value(list(files))
    next(b for b in page.sidebar.button if b.label == "Add to library").click().run()
    healthy(page)
    return next(h.value for h in page.sidebar.html if 'class="results"' in h.value)


@pytest.mark.slow
def test_answer_shows_its_cited_sentence_highlighted_with_the_article(chat: AppTest) -> None:
    reply = ask(chat, "What did Russia propose on ceasefire length?")

    body = html_of(reply)
    assert reply.name == "assistant"
    assert "two to three days" in body
    assert '<sup class="cite">[1]</sup>' in body
    assert marked(CEASEFIRE) in unshort(body)
    if chat.session_state["turns"][-1].tentative:  # unsure: labelled, quieter, no headline
        assert "May not answer your question · confidence " in body
        assert 'class="answer tentative"' in body and "short-answer" not in body
    else:
        short = '<div class="short-answer">two to three days<sup class="cite">[1]</sup></div>'
        assert short in body and '<strong class="short">two to three days</strong>' in body
    assert "Ukrainian and Russian Delegations Meet in Istanbul" in body
    assert "ukraine-russia-istanbul-talks.txt" in body  # the source line names the file
    assert reply.expander[0].label.startswith("Sources (")
    assert reply.caption[0].value.startswith("Answered in ")
    assert not chat.error


@pytest.mark.slow
def test_abstention_looks_different_and_cites_nothing(chat: AppTest) -> None:
    answered = ask(chat, "How many soldiers' remains will be exchanged?")
    reply = ask(chat, "Who won the football match?")

    body = html_of(reply)
    assert 'class="abstained"' in body and "don" in body
    assert "<mark>" not in body and 'class="answer"' not in body
    assert reply.avatar != answered.avatar
    assert all("Sources" not in e.label for e in reply.expander)
    assert all(e.label == "Related passages — not an answer" for e in reply.expander)
    assert not chat.error


@pytest.mark.slow
def test_follow_up_is_read_with_the_history_and_earlier_citations_stay(chat: AppTest) -> None:
    first = ask(chat, "Who leads the Russian negotiating team?")
    assert any(MEDINSKY in q for q in quotes(first))

    follow_up = ask(chat, "What does he demand?")

    assert any("cessation of Western support" in q for q in quotes(follow_up))
    messages = chat.chat_message
    assert [m.name for m in messages] == ["user", "assistant", "user", "assistant"]
    assert any(MEDINSKY in q for q in quotes(messages[1]))  # the first reply kept its sources
    assert chat.session_state["turns"][0].text == "Who leads the Russian negotiating team?"


@pytest.mark.slow
def test_reloading_the_page_brings_back_the_conversation_with_its_sources(
    chat: AppTest, news_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask(chat, "What did Russia propose on ceasefire length?")
    chat_id = chat.query_params["chat"]

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(news_index))
    reloaded = AppTest.from_file(str(APP), default_timeout=120)
    reloaded.query_params["chat"] = chat_id
    reloaded.run()

    assert [m.name for m in reloaded.chat_message] == ["user", "assistant"]
    assert marked(CEASEFIRE) in unshort(html_of(reloaded.chat_message[1]))
    assert not start(news_index, monkeypatch).chat_message  # a new visit starts afresh


def reopen(index_dir: Path, chat_id: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page's URL with ``?chat=<chat_id>`` opened in a new browser session."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    page = AppTest.from_file(str(APP), default_timeout=120)
    page.query_params["chat"] = chat_id
    page.run()
    healthy(page)
    return page


@pytest.mark.slow
def test_a_conversation_survives_a_server_restart_and_clear_deletes_it(
    news_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_CONVERSATIONS_DIR", str(tmp_path / "chats"))
    first = start(news_index, monkeypatch)
    ask(first, "What did Russia propose on ceasefire length?")
    chat_id = str(first.query_params["chat"])
    [saved] = (tmp_path / "chats").glob(f"*/{chat_id}.json")
    assert not reopen(tmp_path / "other-index", chat_id, monkeypatch).chat_message  # per index

    st.cache_resource.clear()  # what a restart loses: the assistant and everything in memory
    reloaded = reopen(news_index, chat_id, monkeypatch)

    assert [m.name for m in reloaded.chat_message] == ["user", "assistant"]
    body = html_of(reloaded.chat_message[1])
    assert marked(CEASEFIRE) in unshort(body)
    assert "Ukrainian and Russian Delegations Meet in Istanbul" in body
    asked_turn = first.session_state["turns"][-1]
    assert [e.label for e in reloaded.chat_message[1].expander] == [
        f"Sources ({len(asked_turn.sources)})"
    ]
    restored, asked = (
        [asdict(t) for t in page.session_state["turns"]] for page in (reloaded, first)
    )
    assert restored == asked  # each run defines its own Turn class, so compare as dicts

    reloaded.button(key="clear").click().run()

    healthy(reloaded)
    assert not reloaded.chat_message
    assert not saved.exists()
    assert not reopen(news_index, chat_id, monkeypatch).chat_message


@pytest.mark.slow
def test_a_stored_conversation_of_another_shape_opens_an_empty_chat(
    news_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(index_dir=news_index, conversations_dir=tmp_path / "chats")
    store = ConversationStore.for_settings(settings)
    chat_id = "ab" * 16
    store.save(chat_id, [{"role": "narrator", "text": "Once upon a time"}])
    monkeypatch.setenv("ASSISTANT_CONVERSATIONS_DIR", str(tmp_path / "chats"))

    page = reopen(news_index, chat_id, monkeypatch)

    assert not page.chat_message
    assert page.session_state["chat_id"] != chat_id  # a fresh chat, under a new id


@pytest.mark.slow
def test_forget_all_conversations_deletes_every_stored_one(
    news_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_CONVERSATIONS_DIR", str(tmp_path / "chats"))
    pages = [start(news_index, monkeypatch) for _ in range(2)]
    for page in pages:
        ask(page, "Who leads the Russian negotiating team?")
    ids = [str(page.query_params["chat"]) for page in pages]
    assert ids[0] != ids[1]
    assert len(list((tmp_path / "chats").glob("*/*.json"))) == 2

    pages[0].sidebar.button(key="forget-all").click().run()

    healthy(pages[0])
    assert "Forgot 2 conversations." in [plain(t.value) for t in pages[0].toast]
    assert not pages[0].chat_message
    assert not list((tmp_path / "chats").glob("*/*.json"))
    assert not reopen(news_index, ids[1], monkeypatch).chat_message


@pytest.mark.slow
def test_example_question_is_asked_when_clicked_and_clear_empties_the_chat(
    chat: AppTest,
) -> None:
    examples = [b for b in chat.main.button if b.key and b.key.startswith("example-")]
    assert "What did Russia propose on ceasefire length?" in [b.label for b in examples]
    assert chat.button(key="clear").disabled

    next(b for b in examples if "ceasefire" in b.label).click().run()

    assert [m.name for m in chat.chat_message] == ["user", "assistant"]
    assert marked(CEASEFIRE) in unshort(html_of(chat.chat_message[1]))
    assert not [b for b in chat.main.button if b.key and b.key.startswith("example-")]

    chat.button(key="clear").click().run()

    assert not chat.chat_message
    assert [b.label for b in chat.main.button if b.key and b.key.startswith("example-")]


@pytest.mark.slow
def test_upload_adds_an_article_shown_escaped_then_remove_deletes_it(library: AppTest) -> None:
    assert "The library is empty" in library.info[0].value
    assert "0 articles" in size_line(library)

    results = upload(library, ("../../tmp/bunker.txt", HOSTILE.encode(), "text/plain"))

    assert '<span class="status status-added">added</span> bunker.txt' in results
    assert not any("library is empty" in i.value for i in library.info)  # the page redrew
    assert "1 article ·" in size_line(library)
    assert "Bunker report &lt;img src=x onerror=alert(1)&gt;" in articles_html(library)
    reply = ask(library, "What did the inspectors find in the bunker?")
    body = html_of(reply)
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in body
    assert "Bunker report &lt;img src=x onerror=alert(1)&gt;" in body
    page_html = "".join(h.value for h in library.html)
    assert "<script" not in page_html and "<img" not in page_html

    remove_listed(library, "Bunker report")

    healthy(library)
    assert "Removed" in library.toast[0].value
    assert "0 articles" in size_line(library)
    assert not library.sidebar.selectbox  # nothing left to remove
    assert "Bunker report" not in articles_html(library)
    assert "&lt;script&gt;" in html_of(library.chat_message[1])  # given answers keep quotes


@pytest.mark.slow
def test_uploading_again_reports_unchanged_and_an_edited_file_updated(library: AppTest) -> None:
    first = upload(library, ("bunker.txt", HOSTILE.encode(), "text/plain"))
    again = upload(library, ("bunker.txt", HOSTILE.encode(), "text/plain"))
    changed = HOSTILE + "It reopened in 2001.\n"
    edited = upload(library, ("bunker.txt", changed.encode(), "text/plain"))

    assert "status-added" in first
    assert '<span class="status status-unchanged">unchanged</span> bunker.txt' in again
    assert '<span class="status status-updated">updated</span> bunker.txt' in edited
    assert "1 article ·" in size_line(library)


@pytest.mark.slow
def test_bad_uploads_are_skipped_with_the_reason_and_nothing_is_indexed(
    library: AppTest,
) -> None:
    results = upload(
        library,
        ("report.pdf", b"%PDF-1.7 binary", "application/pdf"),
        ("huge.txt", b"word " * UPLOAD_CAP, "text/plain"),
        ("broken.json", b'{"title": "half a record', "application/json"),
    )

    assert results.count("status-skipped") == 3
    assert "report.pdf — not a supported type" in results
    assert "huge.txt — larger than the 0.004 MB upload limit" in results
    assert "broken.json — " in results
    assert "0 articles" in size_line(library)
    assert not library.exception and not library.error


@pytest.mark.slow
def test_library_errors_show_as_st_error_without_a_traceback(
    library: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask(library, "Who leads the Russian delegation?")  # the index is empty

    assert "holds no articles" in plain(library.error[0].value)
    assert not library.exception
    assert library.session_state["turns"][-1].error

    monkeypatch.setenv("ASSISTANT_TOP_K", "0")
    library.run()

    assert "Invalid setting top_k: Input should be" in plain(library.error[0].value)
    assert not library.exception


@pytest.mark.slow
def test_an_unexpected_failure_shows_a_message_not_a_traceback(
    chat: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(Assistant, "stream", broken)
    chat.chat_input[0].set_value("What did Russia propose on ceasefire length?").run()

    assert not chat.exception
    assert [e.value for e in chat.error] == [
        "Something went wrong on our side; the details are in the server log."
    ]
    assert "secret internals" not in str(chat)


def test_sessions_borrow_an_assistant_each_and_a_write_waits_for_all_of_them() -> None:
    app = load_app()
    pool = app.Assistants([SimpleNamespace(read_only=False), SimpleNamespace(read_only=False)])
    events: list[str] = []

    def write() -> None:
        with pool.every():
            events.append("write")

    with pool.one() as first, pool.one() as second:
        assert first is not second  # two sessions never share one
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(0.3)
        assert writer.is_alive() and events == []  # the write waits for both
    writer.join(5)
    assert events == ["write"]
    with pool.one() as again:
        assert again in (first, second)


def test_library_search_needs_every_word_in_the_title_source_or_day() -> None:
    app = load_app()
    listed = [
        ArticleInfo("a", "Flood toll rises", "2031-03-04", "Varna Herald", passages=3),
        ArticleInfo("b", "Dam inspection ordered", "2031-03-02", None, path="/x/wire.jsonl#2"),
        ArticleInfo("c", "Budget passes", None, "Gazette"),
    ]

    assert app.matching(listed, "") == listed
    assert [a.id for a in app.matching(listed, "  flood HERALD ")] == ["a"]
    assert [a.id for a in app.matching(listed, "2031-03")] == ["a", "b"]
    assert [a.id for a in app.matching(listed, "wire.jsonl")] == ["b"]  # the file, if no source
    assert [a.id for a in app.matching(listed, "undated")] == ["c"]
    assert app.matching(listed, "flood gazette") == []
    page = app.library_html(listed[:1])
    assert page.count('class="article"') == 1 and "3 passages" in page


def test_context_keeps_whole_sentences_around_the_quote() -> None:
    app = load_app()
    text = "First one. " * 40 + "The quote here. Next sentence follows." + " Tail words" * 60
    start = text.index("The quote")
    before, quote, after = app.context(text, start, start + len("The quote here."))

    assert quote == "The quote here."
    assert before.startswith("First one.") and before.rstrip().endswith("First one.")
    assert after == " Next sentence follows."  # cut at the last sentence end in reach
    assert len(before) <= app.CONTEXT_CHARS and len(after) <= app.CONTEXT_CHARS + 1


def test_source_html_escapes_article_markup_and_marks_only_the_quote() -> None:
    app = load_app()
    source = app.Source(
        1, "<b onmouseover=x()>T</b>", "2025 · <i>", "<script>a()</script> ", "q & <q>", "."
    )

    rendered = app.source_html(source)

    assert "<script>" not in rendered and "onmouseover=x()>" not in rendered
    assert "&lt;script&gt;a()&lt;/script&gt;" in rendered
    assert "<mark>q &amp; &lt;q&gt;</mark>" in rendered
    assert rendered.count("<mark>") == 1


def test_source_html_sets_the_short_answer_apart_inside_the_quote() -> None:
    app = load_app()
    source = app.Source(1, "T", "m", "", "It lasts <two> days.", "", (9, 14))

    rendered = app.source_html(source)

    assert '<mark>It lasts <strong class="short">&lt;two&gt;</strong> days.</mark>' in rendered


def test_a_tentative_answer_is_labelled_and_quieter() -> None:
    app = load_app()
    label = app.tentative_html(0.34)
    assert "May not answer your question" in label and "confidence 34%" in label
    assert 'class="answer tentative"' in app.answer_html("Close [1]", tentative=True)
    assert 'class="answer"' in app.answer_html("Sure [1]")
    assert ".answer.tentative" in app.STYLE and ".tentative-label" in app.STYLE


def test_history_leaves_out_errors_and_the_questions_that_got_them() -> None:
    app = load_app()
    turns = [
        app.Turn("user", "Q1"),
        app.Turn("assistant", "No index", error=True),
        app.Turn("user", "Q2"),
        app.Turn("assistant", "A2 [1]"),
        app.Turn("user", "Q3"),
        app.Turn("assistant", "The articles don't say.", abstained=True),
    ]

    assert app.history_of(turns) == [
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "A2 [1]"},
        {"role": "user", "content": "Q3"},
        {"role": "assistant", "content": "The articles don't say."},
    ]


def test_markdown_escape_keeps_code_spans_and_disarms_the_rest() -> None:
    app = load_app()

    escaped = app.md_escape("Run `assistant ingest a-b/` on ![x](http://e) $5 :red[x] - ok")

    assert "`assistant ingest a-b/`" in escaped
    assert "\\!\\[x\\]\\(http\\:" in escaped and "\\$5" in escaped and "\\:red\\[x\\]" in escaped


def test_turns_go_to_json_and_back_with_their_sources_and_short_answer() -> None:
    app = load_app()
    source = app.Source(1, "T", "2025 · x.txt", "Before. ", "It lasts two days.", "", (9, 17))
    related = app.Source(None, "R", "similarity 0.40", "Near text", "", "")
    turns = [
        app.Turn("user", "How long?"),
        app.Turn(
            "assistant",
            "It lasts two days. [1]",
            sources=(source,),
            seconds=0.5,
            short=Short("two days", 1, 40, 48),
        ),
        app.Turn("assistant", "The articles don't say.", abstained=True, related=(related,)),
        app.Turn(
            "assistant", "It may last. [1]", sources=(source,), tentative=True, confidence=0.3
        ),
        app.Turn("assistant", "No index", error=True),
    ]

    restored = app.STORED_TURNS.validate_python(json.loads(json.dumps(app.turns_data(turns))))

    assert restored == turns
    assert restored[1].sources[0].short == (9, 17) and restored[1].short.end == 48


@pytest.mark.slow
def test_the_page_sees_articles_another_process_adds_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    Assistant(index_dir=index).ingest([ARTICLE])
    page = start(index, monkeypatch)
    assert "1 article ·" in size_line(page)
    bunker = tmp_path / "bunker.txt"
    bunker.write_text(HOSTILE)
    cli = Path(sys.prefix) / "bin" / "assistant"
    done = subprocess.run(
        [str(cli), "ingest", str(bunker), "--index", str(index)], capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    reply = ask(page, "What did the inspectors find in the bunker?")
    healthy(page)
    assert "2 articles ·" in size_line(page)
    assert "sealed by the army" in html_of(reply) or "note reading" in html_of(reply)


@pytest.mark.slow
def test_a_read_only_index_can_be_asked_but_offers_no_upload_or_remove(
    read_only_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = start(read_only_index, monkeypatch)
    assert "read-only" in page.sidebar.info[0].value
    assert not page.sidebar.file_uploader
    assert not page.sidebar.selectbox  # nothing to choose for removal
    assert 'class="article"' in articles_html(page)
    reply = ask(page, "What did Russia propose on ceasefire length?")
    healthy(page)
    assert "two to three days" in html_of(reply)


# news: dates, timelines, wire copies, speakers ------------------------------------------------


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the dated corpora written for the news tests."""
    folder = tmp_path_factory.mktemp("dated")
    files = [
        news_corpus.write(news_corpus.EVOLVING, folder, "fire"),
        news_corpus.write(news_corpus.WIRE, folder, "wire"),
    ]
    report = Assistant(index_dir=folder / "index").ingest(files)
    assert report.added == len(news_corpus.EVOLVING) + len(news_corpus.WIRE)
    return folder / "index"


@pytest.mark.slow
def test_as_of_control_answers_from_the_articles_of_that_day(
    dated_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = start(dated_index, monkeypatch)
    question = "How many acres has the Larch Creek fire burned?"
    latest = html_of(ask(page, question))
    assert "6,300" in latest and "As of 8 July 2024:" in latest
    page.date_input(key="as_of").set_value(date(2024, 7, 1)).run()
    healthy(page)
    then = html_of(ask(page, question))
    assert "1,200" in then and "6,300" not in then
    assert "2024-07-01 · Valley Courier" in then


@pytest.mark.slow
def test_sources_show_wire_copies_and_the_speaker(
    dated_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = start(dated_index, monkeypatch)
    body = html_of(ask(page, "To what level did Norland's central bank raise its main rate?"))
    assert "also in 2 other sources" in body
    page = start(dated_index, monkeypatch)  # a new conversation: not read as a follow-up
    body = html_of(ask(page, "Who said that inflation was still too high?"))
    assert re.search(r"said by [^<·]*Marten", body), body


@pytest.mark.slow
def test_timeline_lists_dated_events_oldest_first(
    dated_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = start(dated_index, monkeypatch)
    page.text_input[0].set_value("Larch Creek fire")
    next(b for b in page.button if b.label == "Show timeline").click().run()
    healthy(page)
    shown = next(h.value for h in page.html if 'class="timeline"' in h.value)
    days = re.findall(r'<div class="when">([\d-]+)</div>', shown)
    assert len(days) >= 3 and days == sorted(days)
    assert "2024-07-01" in days
