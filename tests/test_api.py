"""The public API: bad input is refused before anything changes, and (slow) real answers.

The first part uses the fake embedder; the tests marked ``slow`` ask the bundled article
through the real model and a real Chroma index in a temporary folder.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import assistant
from assistant import Answer, Assistant, IndexMissingError, InputError
from assistant.answerer import (
    FEATURES,
    TENTATIVE_TEXT,
    TOPIC_FEATURES,
    Calibration,
    default_calibration,
)
from assistant.index import Index
from assistant.records import IndexStats

STORY = (
    "Council approves the river bridge\n"
    "The city council approved the new river bridge on Monday after a long debate.\n"
    "Construction will start next spring and should take two years.\n"
)


@pytest.fixture
def filled(tmp_path: Path, fake_assistant: Assistant) -> Assistant:
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    assert fake_assistant.ingest([path]).added == 1
    return fake_assistant


def snapshot(bot: Assistant) -> tuple[IndexStats, list[Any], list[Any]]:
    stats = bot.stats()
    return (
        IndexStats(stats.articles, stats.passages, None, stats.passages_per_article),
        bot.articles(),
        bot.index.passages(),
    )


BAD_CALLS: list[tuple[str, Callable[[Assistant], object], str]] = [
    ("empty", lambda bot: bot.ask(""), "empty"),
    ("whitespace", lambda bot: bot.ask("  \n\t "), "empty"),
    ("not text", lambda bot: bot.ask(None), "empty"),  # type: ignore[arg-type]
    ("too long", lambda bot: bot.ask("why " * 501), "2,000"),
    ("role", lambda bot: bot.ask("Why?", [{"role": "system", "content": "x"}]), "history"),
    ("content", lambda bot: bot.ask("Why?", [{"role": "user", "content": 3}]), "history"),  # type: ignore[dict-item]
    ("turn", lambda bot: bot.ask("Why?", ["just a string"]), "history"),  # type: ignore[list-item]
    ("no role", lambda bot: bot.ask("Why?", [{"content": "x"}]), "history"),
    ("retrieve", lambda bot: bot.retrieve(" "), "empty"),
]


@pytest.mark.parametrize(("case", "call", "says"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_input_error_and_changes_nothing(
    filled: Assistant, case: str, call: Callable[[Assistant], object], says: str
) -> None:
    before = snapshot(filled)
    with pytest.raises(InputError) as caught:
        call(filled)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
    assert snapshot(filled) == before


def test_an_index_cut_with_pysbd_cuts_new_articles_with_it(
    tmp_path: Path, fake_embedder: Any, fake_reader: Any
) -> None:
    """Indexes built before sentencex keep pysbd, so all their articles are cut alike."""
    text = "Infections\nThe variant causes most infections in the U.S. Now, another one spreads.\n"
    (tmp_path / "story.txt").write_text(text, encoding="utf-8")
    fresh = Assistant(index_dir=tmp_path / "fresh", embedder=fake_embedder, reader=fake_reader)
    Index(tmp_path / "old", replace(fresh.index.manifest, splitter="pysbd"))
    old = Assistant(index_dir=tmp_path / "old", embedder=fake_embedder, reader=fake_reader)
    for bot in (fresh, old):
        bot.ingest([tmp_path / "story.txt"])
    cut = {bot.index.manifest.splitter: bot.index.passages() for bot in (fresh, old)}
    sentences = {name: sum(len(p.sentences) for p in found) for name, found in cut.items()}
    assert sentences["sentencex"] == sentences["pysbd"] + 1  # "the U.S. Now," splits


def test_question_at_the_limit_is_accepted(filled: Assistant) -> None:
    question = ("bridge " * 400)[:2000]
    assert len(question) == 2000
    assert isinstance(filled.ask(question), Answer)


def test_ask_on_an_empty_index_raises_index_missing(fake_assistant: Assistant) -> None:
    before = snapshot(fake_assistant)
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        fake_assistant.ask("When does construction start?")
    assert snapshot(fake_assistant) == before
    assert before[0].articles == 0


def test_ask_after_removing_everything_raises_index_missing(filled: Assistant) -> None:
    filled.remove(filled.articles()[0].id)
    with pytest.raises(IndexMissingError):
        filled.ask("When does construction start?")


def test_opening_a_missing_index_without_create_raises(tmp_path: Path, fake_embedder: Any) -> None:
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Assistant(index_dir=tmp_path / "none", embedder=fake_embedder, create=False)
    assert not (tmp_path / "none").exists()


def test_answer_function_on_a_missing_index_raises(tmp_path: Path) -> None:
    missing = tmp_path / "missing-index"
    with pytest.raises(IndexMissingError) as caught:
        assistant.answer("What did Russia propose?", index_dir=missing)
    assert "assistant ingest" in str(caught.value)
    assert not missing.exists()


def test_answer_cites_verified_sentences_of_the_retrieved_passages(
    tmp_path: Path, filled: Assistant
) -> None:
    eager = Calibration(weights=(0.0,) * len(FEATURES), bias=5.0, threshold=0.5)
    bot = Assistant(index_dir=tmp_path / "index", embedder=filled.embedder, calibration=eager)
    reply = bot.ask("When will construction of the bridge start?")
    assert reply.question == "When will construction of the bridge start?"
    assert not reply.abstained
    check_citations(bot, reply)
    assert reply.related == ()


def test_a_question_is_embedded_once_an_ask(
    filled: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "When will construction of the bridge start?"
    embedded: list[str] = []
    real = filled.embedder.embed

    def counted(texts: Sequence[str]) -> Any:
        embedded.extend(texts)
        return real(texts)

    monkeypatch.setattr(filled.embedder, "embed", counted)
    filled.ask(question)
    assert embedded.count(question) == 1  # retrieval's vector serves the answerer too
    filled.ask(question)
    assert embedded.count(question) == 1


def test_unconvinced_calibration_is_tentative_with_the_closest_sentences(
    tmp_path: Path, filled: Assistant
) -> None:
    unsure = Calibration(weights=(0.0,) * len(FEATURES), bias=-5.0, threshold=0.5)
    bot = Assistant(index_dir=tmp_path / "index", embedder=filled.embedder, calibration=unsure)
    reply = bot.ask("When will construction of the bridge start?")
    assert reply.status == "tentative" and not reply.abstained
    assert reply.text.startswith(TENTATIVE_TEXT)
    assert reply.citations and reply.short is None  # no short-answer headline when unsure
    assert reply.to_dict()["status"] == "tentative"


def test_a_topic_gate_that_sees_no_subject_refuses_with_related_passages(
    tmp_path: Path, filled: Assistant
) -> None:
    off = Calibration(
        weights=(0.0,) * len(FEATURES),
        bias=0.0,
        threshold=0.5,
        topic_weights=(0.0,) * len(TOPIC_FEATURES),
        topic_bias=-5.0,
    )
    bot = Assistant(index_dir=tmp_path / "index", embedder=filled.embedder, calibration=off)
    reply = bot.ask("When will construction of the bridge start?")
    assert reply.status == "refused" and reply.abstained
    assert reply.citations == ()
    assert reply.related and all(h.title for h in reply.related)


def test_preload_loads_the_models_while_the_index_opens(
    tmp_path: Path, make_embedder: type[Any], fake_reader: Any
) -> None:
    class Loading(make_embedder):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.loaded = threading.Event()

        def load(self) -> None:
            self.loaded.set()

    class Failing(type(fake_reader)):  # type: ignore[misc]
        def load(self) -> None:
            raise RuntimeError("no network here")

    embedder = Loading()
    bot = Assistant(tmp_path / "index", embedder=embedder, reader=Failing(), preload=True)
    assert embedder.loaded.wait(10)
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    bot.ingest([tmp_path / "story.txt"])
    assert not bot.ask("When will construction start?").abstained


def test_articles_lists_titles_and_article_raises_for_unknown_ids(filled: Assistant) -> None:
    (only,) = filled.articles()
    assert only.title == "Council approves the river bridge"
    assert filled.article(only.id) == only
    with pytest.raises(assistant.ArticleNotFoundError):
        filled.article("nope")


# end to end with the real model ---------------------------------------------------------


def check_citations(bot: Assistant, reply: Answer) -> None:
    """Every citation is verbatim article text; markers and citations match one to one."""
    assert reply.citations
    for c in reply.citations:
        assert bot.article(c.article_id).text[c.start : c.end] == c.quote
        assert c.quote in reply.text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)}
    assert markers == {c.marker for c in reply.citations}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Russia propose on ceasefire length?", "two to three days"),
        ("Who leads the Russian negotiating team?", "Medinsky"),
        ("How many soldiers' remains will be exchanged?", "6,000"),
        ("Which city hosted the negotiations?", "Istanbul"),
        ("Where did the delegations meet?", "Istanbul"),
    ],
)
def test_real_answers_quote_the_article(
    bundled_assistant: Assistant, question: str, expected: str
) -> None:
    reply = bundled_assistant.ask(question)
    assert not reply.abstained, reply
    assert expected in reply.text
    check_citations(bundled_assistant, reply)


@pytest.mark.slow
def test_ceasefire_answer_cites_the_kremlin_sentence(bundled_assistant: Assistant) -> None:
    reply = bundled_assistant.ask("What did Russia propose on ceasefire length?")
    assert any("Kremlin" in c.quote for c in reply.citations)
    assert 0.0 < reply.confidence <= 1.0


@pytest.mark.slow
def test_unrelated_question_abstains(bundled_assistant: Assistant) -> None:
    reply = bundled_assistant.ask("Who won the football match?")
    assert reply.abstained
    assert reply.citations == ()
    assert not re.search(r"\[\d+\]", reply.text)


@pytest.mark.slow
def test_follow_up_is_answered_in_the_light_of_the_history(bundled_assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Who leads the Russian delegation?"}]
    reply = bundled_assistant.ask("What does he demand?", history)
    assert not reply.abstained, reply
    assert "sanctions" in reply.text or "Medinsky" in reply.text
    check_citations(bundled_assistant, reply)


@pytest.mark.slow
def test_preloaded_assistant_answers_as_the_lazy_one(
    bundled_index: Path, bundled_assistant: Assistant
) -> None:
    question = "What did Russia propose on ceasefire length?"
    preloaded = Assistant(index_dir=bundled_index, create=False, preload=True)
    assert preloaded.ask(question).to_dict() == bundled_assistant.ask(question).to_dict()


@pytest.mark.slow
def test_asking_changes_nothing_stored(bundled_assistant: Assistant) -> None:
    before = snapshot(bundled_assistant)
    bundled_assistant.ask("Who leads the Russian delegation?")
    assert snapshot(bundled_assistant) == before


@pytest.mark.slow
def test_one_call_answer_function(bundled_index: Path) -> None:
    reply = assistant.answer(
        "What did Russia propose on ceasefire length?", index_dir=bundled_index
    )
    assert not reply.abstained
    assert "two to three days" in reply.text
    bot = Assistant(index_dir=bundled_index, create=False)
    check_citations(bot, reply)
    follow = assistant.answer(
        "What does he demand?",
        index_dir=bundled_index,
        history=[{"role": "user", "content": "Who leads the Russian delegation?"}],
    )
    assert "sanctions" in follow.text or "Medinsky" in follow.text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("What did Russia propose on ceasefire length?", "two to three days"),
        ("Where did the delegations meet?", "Istanbul"),
        ("Who leads the Russian negotiating team?", "Vladimir Medinsky"),
    ],
)
def test_short_answer_lies_inside_its_citation(
    bundled_index: Path, real_embedder: Any, question: str, short: str
) -> None:
    sure = replace(default_calibration(), sure_threshold=0.0)  # every reply answered
    bot = Assistant(bundled_index, embedder=real_embedder, calibration=sure, create=False)
    reply = bot.ask(question)
    assert reply.status == "answered" and reply.short is not None, reply
    assert reply.short.text == short
    cited = {c.marker: c for c in reply.citations}[reply.short.marker]
    article = bot.article(cited.article_id)
    assert article.text[reply.short.start : reply.short.end] == short
    assert cited.start <= reply.short.start < reply.short.end <= cited.end
    assert reply.to_dict()["short"] == {
        "text": short,
        "marker": reply.short.marker,
        "start": reply.short.start,
        "end": reply.short.end,
    }


@pytest.mark.slow
def test_no_short_answer_for_a_question_that_wants_none(bundled_assistant: Assistant) -> None:
    reply = bundled_assistant.ask("What does Ukraine demand before a ceasefire?")
    assert reply.short is None
    assert reply.to_dict()["short"] is None


def test_a_large_json_lines_file_is_written_in_several_flushes(
    tmp_path: Path, fake_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import api

    monkeypatch.setattr(api, "FLUSH_PASSAGES", 8)
    records = [
        {"title": f"Story {n}", "text": f"Story {n} happened in town {n}. " * 12} for n in range(12)
    ]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    writes: list[int] = []
    original = fake_assistant.index.upsert_many

    def counted(items: Any, parts: Any = None) -> None:
        writes.append(len(items))
        original(items, parts)

    monkeypatch.setattr(fake_assistant.index, "upsert_many", counted)
    report = fake_assistant.ingest([path])
    assert report.added == 12
    assert len(writes) > 1 and sum(writes) == 12
    assert fake_assistant.stats().articles == 12
