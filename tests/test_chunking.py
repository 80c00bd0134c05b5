"""Article -> sentences -> passages: whole sentences only, offsets into the article text."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pysbd
import pytest

from assistant.chunking import SPLITTERS, chunk, split_sentences
from assistant.ingest import article_id, normalise
from assistant.records import Article, Passage

TRICKY = normalise(
    "Mr. Smith went to Washington D.C. on Jan. 5. He said “Hi!” Then he left... Really? Yes!\n"
    "U.S. officials said prices rose 3.5% in May. The end (see p. 5) came later.\n\n"
    "A paragraph with no final stop"
)


def make(text: str) -> Article:
    return Article(id=article_id(text), title="t", text=text)


@pytest.fixture(scope="module")
def bundled(bundled_article: Path) -> Article:
    return make(normalise(bundled_article.read_text(encoding="utf-8")))


def check_passages(article: Article, passages: list[Passage]) -> None:
    """Every invariant a passage list must hold for ``article``."""
    sentences = split_sentences(article.text)
    assert [s for p in passages for s in p.sentences] == sentences  # all, in order, once
    for n, p in enumerate(passages):
        assert p.id == f"{article.id}:{n}"
        assert (p.article_id, p.index) == (article.id, n)
        assert article.text[p.start : p.end] == p.text
        assert p.sentences[0].start == p.start and p.sentences[-1].end == p.end
        for s in p.sentences:
            assert p.start <= s.start < s.end <= p.end
    for before, after in pairwise(passages):
        assert before.end <= after.start


def test_sentences_are_trimmed_spans_that_cover_every_word() -> None:
    spans = split_sentences(TRICKY)
    texts = [TRICKY[s.start : s.end] for s in spans]
    assert texts[0] == "Mr. Smith went to Washington D.C. on Jan. 5."
    assert "A paragraph with no final stop" in texts
    assert all(t == t.strip() and t for t in texts)
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(i in covered for i, c in enumerate(TRICKY) if not c.isspace())


def test_pysbd_sentences_are_the_ones_it_segments(bundled: Article) -> None:
    """Indexes built before sentencex keep cutting their articles with pysbd."""
    segmenter = pysbd.Segmenter(language="en", clean=False)
    for text in (TRICKY, bundled.text):
        ours = [text[s.start : s.end] for s in split_sentences(text, "pysbd")]
        theirs = [
            piece.strip()
            for line in text.splitlines()
            for piece in segmenter.segment(line)
            if piece.strip()
        ]
        assert ours == theirs


def test_both_splitters_cut_the_bundled_article_into_the_same_sentences(bundled: Article) -> None:
    assert set(SPLITTERS) == {"sentencex", "pysbd"}
    spans = split_sentences(bundled.text, "sentencex")
    assert spans == split_sentences(bundled.text, "pysbd")
    assert len(spans) > 20


def test_an_opening_quote_starts_the_sentence_it_opens() -> None:
    """sentencex leaves the quote that opens a quotation without its close at the end of the
    sentence before."""
    text = (
        'He walks past the old site. “I still remember the pool. I remember the waffles," he '
        'says. “I can hear the coaster.\n"The river rose twice," Mayor Lee said. "We work hard. '
        "And most water comes from upstream."
    )
    texts = [text[s.start : s.end] for s in split_sentences(text)]
    assert texts == [
        "He walks past the old site.",
        "“I still remember the pool.",
        'I remember the waffles," he says.',
        "“I can hear the coaster.",
        '"The river rose twice," Mayor Lee said.',
        '"We work hard.',
        "And most water comes from upstream.",
    ]


def test_a_list_number_stays_with_its_item() -> None:
    text = "3. Should we trust the Zags? Yes. There is a reason.\n4. (AZ) Tucson North"
    texts = [text[s.start : s.end] for s in split_sentences(text)]
    assert texts[0] == "3. Should we trust the Zags?"
    assert texts[-1] == "4. (AZ) Tucson North"


def test_a_full_stop_inside_a_word_ends_no_sentence() -> None:
    text = "It ran window.__start() from report.PDF first. Then it stopped.It said so."
    texts = [text[s.start : s.end] for s in split_sentences(text)]
    assert texts == [
        "It ran window.__start() from report.PDF first.",
        "Then it stopped.It said so.",
    ]


def test_no_sentence_crosses_a_line_break() -> None:
    text = "First line without a stop\nSecond line. Third sentence."
    texts = [text[s.start : s.end] for s in split_sentences(text)]
    assert texts == ["First line without a stop", "Second line.", "Third sentence."]


@pytest.mark.parametrize("max_chars", [100, 200, 500, 4000])
def test_passages_hold_whole_sentences_with_exact_offsets(bundled: Article, max_chars: int) -> None:
    passages = chunk(bundled, max_chars)
    check_passages(bundled, passages)
    for p in passages:
        assert len(p.text) <= max_chars or len(p.sentences) == 1


def test_passages_of_tricky_text() -> None:
    article = make(TRICKY)
    check_passages(article, chunk(article, 60))


def test_sentences_are_grouped_up_to_the_limit() -> None:
    article = make("One two. Three four. Five six. Seven eight.")
    passages = chunk(article, 22)
    assert [p.text for p in passages] == ["One two. Three four.", "Five six. Seven eight."]
    assert [p.text for p in chunk(article, 4000)] == [article.text]


def test_a_sentence_longer_than_the_limit_is_a_passage_of_its_own() -> None:
    long = "This sentence " + "goes on and on " * 20 + "until it ends."
    article = make(f"Short start. {long} Short end.")
    passages = chunk(article, 100)
    assert [p.text for p in passages] == ["Short start.", long, "Short end."]
    check_passages(article, passages)


def test_chunking_is_deterministic(bundled: Article) -> None:
    assert chunk(bundled, 300) == chunk(bundled, 300)


def test_empty_text_has_no_passages() -> None:
    assert chunk(make(""), 500) == []
