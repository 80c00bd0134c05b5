"""Article text -> sentences -> passages, with character offsets. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import pysbd
import sentencex

from assistant.records import Article, Passage, Span

_PARAGRAPH = re.compile(r"[^\n]+")
_OPENING_QUOTE = re.compile(r"(?:^|\s)[“‘\"']$")
_LIST_NUMBER = re.compile(r"\(?\d{1,3}[.)]")

SPLITTER = "sentencex"
"""The sentence splitter of new indexes. An index records its own (``Manifest.splitter``)
and keeps it, so that every article in it is cut the same way."""


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _pysbd(paragraph: str) -> Iterable[str]:
    # pysbd's ``segment`` finds each sentence by compiling it into a regular expression (39%
    # of its time on news articles); its processor alone gives the pieces, found here.
    return _segmenter().processor(paragraph).process()  # type: ignore[no-any-return]


def _sentencex(paragraph: str) -> Iterable[str]:
    return sentencex.segment("en", paragraph)  # type: ignore[no-any-return]


SPLITTERS: dict[str, Callable[[str], Iterable[str]]] = {
    "sentencex": _sentencex,
    "pysbd": _pysbd,
}
"""Sentence splitters by name: Wikimedia's sentencex (a hundred times faster than pysbd on
news), and pysbd, which indexes of format 2 and before were cut with."""


def split_sentences(text: str, splitter: str = SPLITTER) -> list[Span]:
    """The sentences of ``text`` as spans, trimmed of surrounding white space.

    Paragraphs (lines) are segmented separately, so no sentence crosses a line break. The
    splitter (one of ``SPLITTERS``) gives each paragraph's pieces; their offsets are found
    here, in order. sentencex's pieces are mended (``_mend``); pysbd's are kept as pysbd cut
    them, so that an index built with it cuts new articles as it cut the old.
    """
    segment = SPLITTERS[splitter]
    spans: list[Span] = []
    for paragraph in _PARAGRAPH.finditer(text):
        cursor = paragraph.start()
        found: list[Span] = []
        for piece in segment(paragraph.group()):
            stripped = piece.strip()
            if not stripped:
                continue
            start = text.find(stripped, cursor, paragraph.end())
            if start < 0:  # the segmenter altered the text; fall back to the whole piece
                continue
            found.append(Span(start, start + len(stripped)))
            cursor = start + len(stripped)
        spans.extend(_mend(text, found) if splitter == "sentencex" else found)
    return spans


def _mend(text: str, spans: list[Span]) -> list[Span]:
    """One paragraph's sentences with opening quotes and list numbers moved to the sentence
    after them, and a word that a full stop was taken to end ("window.__name", "report.PDF")
    kept whole."""
    mended: list[Span] = []
    for span in spans:
        last = mended[-1] if mended else None
        joined = (
            last is not None
            and span.start == last.end
            and text[last.end - 1] in ".!?"
            and _word(text[span.start])
        )
        if last is not None and (joined or _LIST_NUMBER.fullmatch(text[last.start : last.end])):
            mended[-1] = Span(last.start, span.end)
            continue
        if (
            last is not None
            and span.start == last.end
            and _OPENING_QUOTE.search(text[last.start : last.end])
        ):
            kept = text[last.start : last.end - 1].rstrip()
            if kept:
                mended[-1] = Span(last.start, last.start + len(kept))
            else:
                mended.pop()
            span = Span(last.end - 1, span.end)
        mended.append(span)
    return mended


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def chunk(article: Article, max_chars: int = 500, splitter: str = SPLITTER) -> list[Passage]:
    """Group an article's sentences (cut by ``splitter``) into passages of at most about
    ``max_chars``.

    A passage never cuts a sentence: a sentence longer than ``max_chars`` is a passage of
    its own. Passage ids are ``<article_id>:<n>``.
    """
    groups: list[list[Span]] = []
    for sentence in split_sentences(article.text, splitter):
        current = groups[-1] if groups else None
        if current and sentence.end - current[0].start <= max_chars:
            current.append(sentence)
        else:
            groups.append([sentence])
    return [
        Passage(
            id=f"{article.id}:{n}",
            article_id=article.id,
            index=n,
            start=group[0].start,
            end=group[-1].end,
            text=article.text[group[0].start : group[-1].end],
            sentences=tuple(group),
        )
        for n, group in enumerate(groups)
    ]
