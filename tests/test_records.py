"""The records: frozen values, report counts, and the JSON shape of an answer."""

from __future__ import annotations

import dataclasses
import json

import pytest

from assistant.records import (
    Answer,
    Article,
    Citation,
    FileResult,
    Hit,
    IndexStats,
    IngestReport,
    Passage,
    Short,
    Span,
)


def test_records_are_frozen() -> None:
    article = Article(id="a1", title="T", text="Some text.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.text = "changed"  # type: ignore[misc]
    passage = Passage("a1:0", "a1", 0, 0, 10, "Some text.", (Span(0, 10),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        passage.start = 3  # type: ignore[misc]
    hit = Hit(passage, similarity=0.5, score=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.similarity = 1.0  # type: ignore[misc]


def test_records_compare_by_value() -> None:
    assert Span(1, 4) == Span(1, 4)
    assert Article("a", "T", "x") == Article("a", "T", "x")
    assert Article("a", "T", "x") != Article("a", "T", "y")


def test_ingest_report_counts_each_status() -> None:
    report = IngestReport(
        (
            FileResult("a.txt", "added", "1", "A"),
            FileResult("b.txt", "added", "2", "B"),
            FileResult("c.txt", "unchanged", "3", "C"),
            FileResult("d.txt", "updated", "4", "D"),
            FileResult("e.bin", "skipped", reason="unsupported type '.bin'"),
        )
    )
    assert (report.added, report.updated, report.unchanged, report.skipped) == (2, 1, 1, 1)
    assert IngestReport().results == ()
    assert IngestReport().added == 0


def test_answer_to_dict_is_json_ready_with_every_citation_field() -> None:
    citation = Citation(1, "a1", "Title", 5, 20, "A quoted sentence.")
    answer = Answer("q?", "A quoted sentence. [1]", False, (citation,), confidence=0.7)
    data = answer.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "text": "A quoted sentence. [1]",
        "status": "answered",
        "confidence": 0.7,
        "abstained": False,
        "citations": [
            {
                "marker": 1,
                "article_id": "a1",
                "title": "Title",
                "start": 5,
                "end": 20,
                "quote": "A quoted sentence.",
                "published": None,
                "also_in": [],
                "speaker": None,
            }
        ],
        "short": None,
        "mode": "extractive",
        "notice": None,
        "unsupported": [],
    }
    shortened = dataclasses.replace(answer, short=Short("quoted", 1, 7, 13)).to_dict()
    assert shortened["short"] == {"text": "quoted", "marker": 1, "start": 7, "end": 13}


def test_abstained_answer_defaults_to_no_citations() -> None:
    answer = Answer("q?", "The articles don't say.", True)
    assert answer.citations == ()
    assert answer.related == ()
    assert answer.to_dict()["citations"] == []


def test_abstained_is_true_exactly_for_a_refusal() -> None:
    assert Answer("q?", "No.", True).status == "refused"
    assert Answer("q?", "No.", False, status="refused").abstained
    tentative = Answer("q?", "Maybe. [1]", False, status="tentative")
    assert not tentative.abstained and tentative.to_dict()["status"] == "tentative"
    assert Answer("q?", "Yes. [1]", False).status == "answered"


def test_index_stats_defaults_to_an_empty_breakdown() -> None:
    stats = IndexStats(articles=0, passages=0, bytes=None)
    assert stats.passages_per_article == {}
