"""Question -> ranked hits: words and stems, BM25, the fused retriever, and follow-ups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.documents import Document

from assistant import Assistant
from assistant.chunking import chunk
from assistant.lexical import stem, terms, words
from assistant.records import Article
from assistant.retrieve import (
    RECENCY_WEIGHT,
    HybridRetriever,
    LexicalIndex,
    contextualise,
    freshness,
    reading,
)

BRIDGE = (
    "Council approves the river bridge\n"
    "The city council approved the new river bridge on Monday after a long debate.\n"
    "Construction will start next spring and should take two years.\n"
)
LIBRARY = (
    "Library opens late on Fridays\n"
    "The central library will stay open until ten on Fridays from next month.\n"
    "Readers had asked for longer opening hours for years.\n"
)
ELECTION = (
    "Mayor wins a second term\n"
    "Mayor Alvarez won the election with 58 percent of the vote.\n"
    "Turnout was the highest in two decades.\n"
)


@pytest.fixture
def news(tmp_path: Path, fake_assistant: Assistant) -> Assistant:
    for name, text in (("bridge", BRIDGE), ("library", LIBRARY), ("election", ELECTION)):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    report = fake_assistant.ingest(sorted(tmp_path.glob("*.txt")))
    assert report.added == 3
    return fake_assistant


def test_words_drop_stop_words_and_lower_case() -> None:
    assert words("Who leads THE Russian delegation?") == ["leads", "russian", "delegation"]


def test_stem_joins_inflections() -> None:
    assert stem("led") == stem("leads") == stem("leading")
    assert stem("bridges") == stem("bridge")


def test_terms_are_stemmed_per_text() -> None:
    assert terms(["Bridges approved", "the"]) == [[stem("bridges"), stem("approved")], []]


def test_lexical_index_ranks_matching_passages_only() -> None:
    article = Article("a", "t", "The river bridge opened. The library closed. Rain fell.")
    index = LexicalIndex(chunk(article, 30))
    found = index.search("river bridges", 5)
    assert [p.text for p, _ in found] == ["The river bridge opened."]
    assert found[0][1] > 0
    assert index.search("the and of", 5) == []
    assert LexicalIndex([]).search("bridge", 5) == []


def test_search_finds_the_relevant_article_first(news: Assistant) -> None:
    hits = news.retriever.search("When will bridge construction start?", 3)
    assert len(hits) == 3
    assert hits[0].title == "Council approves the river bridge"
    assert "Construction will start" in hits[0].passage.text
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 - 1e-6 <= h.similarity <= 1.0 + 1e-6 for h in hits)
    assert len({h.passage.id for h in hits}) == 3


def test_search_respects_k(news: Assistant) -> None:
    assert len(news.retriever.search("library", 1)) == 1
    assert len(news.retrieve("library hours", k=2)) == 2


def test_lexical_index_follows_changes_to_the_index(tmp_path: Path, news: Assistant) -> None:
    first = news.retriever.lexical()
    assert news.retriever.lexical() is first
    (tmp_path / "new.txt").write_text("Zoo welcomes a panda\nA panda arrived at the zoo.\n")
    news.ingest([tmp_path / "new.txt"])
    rebuilt = news.retriever.lexical()
    assert rebuilt is not first
    assert any("panda" in p.text for p in rebuilt.passages)
    assert news.retriever.search("panda zoo", 1)[0].title == "Zoo welcomes a panda"


def test_retriever_is_a_langchain_retriever(news: Assistant) -> None:
    assert isinstance(news.retriever, HybridRetriever)
    docs = news.retriever.invoke("Who won the election for mayor?")
    assert docs and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert "Alvarez" in top.page_content
    assert top.metadata["title"] == "Mayor wins a second term"
    article = news.article(top.metadata["article_id"])
    assert article.text[top.metadata["start"] : top.metadata["end"]] == top.page_content


def test_standalone_question_ignores_history() -> None:
    history = [{"role": "user", "content": "Who leads the Russian delegation?"}]
    question = "How many prisoners were exchanged in Istanbul?"
    assert contextualise(question, history) == question
    assert contextualise("What does he demand?", None) == "What does he demand?"


@pytest.mark.parametrize("question", ["What does he demand?", "And the date?"])
def test_follow_up_is_read_after_the_previous_turns(question: str) -> None:
    history = [
        {"role": "user", "content": "Who leads the Russian delegation?"},
        {"role": "assistant", "content": "Vladimir Medinsky leads it. [1]"},
    ]
    query = contextualise(question, history)
    assert query == f"Who leads the Russian delegation? Vladimir Medinsky leads it. {question}"
    assert "[1]" not in query


def test_follow_up_uses_only_the_last_two_turns() -> None:
    history = [
        {"role": "user", "content": "oldest"},
        {"role": "assistant", "content": "older"},
        {"role": "user", "content": "latest question"},
        {"role": "assistant", "content": ""},
    ]
    assert contextualise("Why did they?", history) == "latest question Why did they?"


def test_follow_up_is_weighed_against_the_question_not_the_reply() -> None:
    history = [
        {"role": "user", "content": "Who is Ukraine's chief negotiator?"},
        {"role": "assistant", "content": "Rustem Umerov is. [1]"},
    ]
    question = "When did he suggest meeting?"
    assert reading(question, history) == f"Who is Ukraine's chief negotiator? {question}"
    assert reading("Where were the talks held in June?", history) == (
        "Where were the talks held in June?"
    )
    assert reading(question, None) == question


def test_newer_articles_rank_first_on_the_day_asked(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    """Two reports that match a question alike: the newer one first, unless the day asked
    is the older one's (``as_of``); without ``recent`` their order is the fused one."""
    records = [
        {"title": "Council approves the river bridge", "text": BRIDGE, "published": "2023-03-01"},
        {
            "title": "Council approves the harbour bridge",
            "text": "Council approves the harbour bridge\n"
            "After months of argument the council approved a bridge across the harbour.\n"
            "Work begins in autumn, officials said.\n",
            "published": "2024-06-01",
        },
    ]
    path = tmp_path / "bridges.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    fake_assistant.ingest([path])
    retriever = fake_assistant.retriever
    river, harbour = (
        retriever.search(f"{w} bridge", 1, None, False)[0] for w in ("river", "harbour")
    )
    ages = retriever.ages()  # without as_of, the newest article's day is "now"
    assert (ages(harbour.passage.article_id), ages(river.passage.article_id)) == (0, 458)
    assert retriever.ages(20240611)(harbour.passage.article_id) == 10

    def first(as_of: int | None = None, recent: bool = True) -> str:
        return retriever.search("council approves bridge", 2, as_of, recent)[0].title

    assert first() == "Council approves the harbour bridge"
    assert first(20230302) == "Council approves the river bridge"  # the newer one is later
    fused = retriever.search("council approves bridge", 2, None, False)
    weighted = retriever.search("council approves bridge", 2)
    assert len(fused) == len(weighted) == 2
    assert fused[0].score >= fused[1].score
    by_title = {h.title: h.score for h in fused}
    assert {h.title: h.score for h in weighted} == {
        "Council approves the harbour bridge": by_title["Council approves the harbour bridge"],
        "Council approves the river bridge": pytest.approx(
            by_title["Council approves the river bridge"] * freshness(458)
        ),
    }


def test_freshness_halves_toward_its_floor() -> None:
    assert freshness(0) == 1.0
    assert freshness(-30) == 1.0  # published after the day asked
    assert freshness(14) == pytest.approx(1 - RECENCY_WEIGHT / 2)
    assert freshness(4 * 365) == pytest.approx(1 - RECENCY_WEIGHT, abs=1e-6)
    assert freshness(None) == 1.0  # undated
