"""News-aware answers: ``as_of``, the newest figure, timelines and wire copies.

The corpora (``news_corpus.py``) were written for these tests: a wildfire told over four
days with changing figures, and one agency story carried by three outlets. The slow tests
use the real model, reader and Chroma.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import news_corpus
import pytest
from typer.testing import CliRunner

from assistant import Assistant, InputError, dates, wire
from assistant.answerer import Calibration, Candidate, compose
from assistant.cli import app
from assistant.embedding import Embedder
from assistant.preference import choose, quantities
from assistant.records import Hit, Passage, Span

runner = CliRunner()
ACRES = "How many acres has the Larch Creek fire burned?"


# units ---------------------------------------------------------------------------------


def test_day_reads_iso_dates_and_datetimes() -> None:
    assert dates.day("2024-07-02") == 20240702
    assert dates.day("2024-07-02T23:10:00Z") == 20240702
    assert dates.day(None) == dates.UNDATED
    assert dates.day("last Tuesday") == dates.UNDATED


def test_as_of_takes_dates_and_iso_strings() -> None:
    assert dates.as_of(None) is None
    assert dates.as_of(date(2024, 7, 2)) == 20240702
    assert dates.as_of("2024-07-02") == 20240702


def test_as_of_refuses_what_is_not_a_date() -> None:
    with pytest.raises(InputError, match="such as 2023-06-02"):
        dates.as_of("yesterday")


def test_age_counts_days_across_months_and_years() -> None:
    assert dates.age(20240702, 20240702) == 0
    assert dates.age(20240301, 20240228) == 2  # a leap year
    assert dates.age(20240105, 20231229) == 7
    assert dates.age(20240101, 20240108) == -7
    assert dates.age(20240101, dates.UNDATED) is None
    assert dates.age(dates.UNDATED, 20240101) is None


def test_label_and_current_questions() -> None:
    assert dates.label("2024-06-02") == "2 June 2024"
    assert dates.label(None) == "undated"
    assert dates.asks_current("What is the latest death toll?")
    assert dates.asks_current("How many people have been evacuated so far?")
    assert not dates.asks_current("Where were the talks held?")


def test_wire_key_survives_punctuation_and_case() -> None:
    a = ["Governor Ilse Marten said inflation was still too high, and rates may rise."]
    b = ["GOVERNOR Ilse Marten said inflation was still too high and rates may rise!"]
    assert wire.key(a) == wire.key(b) != ""
    assert wire.key(["Too short to be a copy."]) == ""


def test_wire_similar_sees_shifted_copies_not_neighbours() -> None:
    body = news_corpus.WIRE_BODY
    sentences = body.split(". ")
    shifted = ". ".join(sentences[1:])
    assert wire.similar(body, shifted)
    assert not wire.similar(body, news_corpus.WIRE[3]["text"])


def test_quantities_group_figures_by_unit() -> None:
    found = quantities("It burned 1,200 acres, 3 acres more than feared, and 5 homes.")
    assert found == {"acr": {"1200", "3"}, "home": {"5"}}


# an evolving story -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def evolving(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Assistant:
    folder = tmp_path_factory.mktemp("evolving")
    path = news_corpus.write(news_corpus.EVOLVING, folder, "fire")
    bot = Assistant(index_dir=folder / "index", embedder=real_embedder)
    assert bot.ingest([path]).added == len(news_corpus.EVOLVING)
    return bot


@pytest.mark.slow
@pytest.mark.parametrize(
    ("as_of", "figure"),
    [("2024-07-01", "1,200"), ("2024-07-03", "3,400"), ("2024-07-05", "5,800")],
)
def test_as_of_gives_the_figure_of_that_day(evolving: Assistant, as_of: str, figure: str) -> None:
    reply = evolving.ask(ACRES, as_of=as_of)
    assert not reply.abstained, reply
    assert figure in reply.citations[0].quote, reply.text
    cutoff = dates.as_of(as_of)
    for c in reply.citations:
        assert dates.day(c.published) <= cutoff


@pytest.mark.slow
def test_the_newest_figure_leads_and_says_as_of_when(evolving: Assistant) -> None:
    reply = evolving.ask(ACRES)
    assert not reply.abstained
    assert "6,300" in reply.citations[0].quote, reply.text
    assert "As of 8 July 2024:" in reply.text, reply.text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("What is the latest containment figure for the Larch Creek fire?", "90 percent"),
        ("How many acres has the Larch Creek fire burned so far?", "6,300"),
    ],
)
def test_latest_questions_get_the_newest_article(
    evolving: Assistant, question: str, wanted: str
) -> None:
    reply = evolving.ask(question)
    assert not reply.abstained
    assert wanted in reply.citations[0].quote, reply.text
    assert reply.citations[0].published == "2024-07-08"


@pytest.mark.slow
def test_retrieval_keeps_to_as_of_and_undated_articles(evolving: Assistant) -> None:
    hits = evolving.retrieve("Larch Creek fire containment", k=10, as_of="2024-07-02")
    published = {a.id: a.published for a in evolving.articles()}
    assert hits
    assert {published[h.passage.article_id] for h in hits} <= {"2024-07-01", "2024-07-02", None}


@pytest.mark.slow
def test_undated_article_is_used_and_labelled(evolving: Assistant) -> None:
    reply = evolving.ask("What does it mean that a fire is contained?", as_of="2024-06-01")
    assert not reply.abstained, reply
    assert reply.citations[0].published is None
    assert reply.to_dict()["citations"][0]["published"] is None  # type: ignore[index]


@pytest.mark.slow
def test_timeline_is_dated_oldest_first_and_verified(evolving: Assistant) -> None:
    events = evolving.timeline("Larch Creek fire", k=8)
    assert 3 <= len(events) <= 8
    assert [e.date for e in events] == sorted(e.date for e in events)
    assert len({e.date for e in events}) >= 3
    for e in events:
        assert evolving.article(e.article_id).text[e.start : e.end] == e.quote
    quotes = [e.quote for e in events]
    assert len(set(quotes)) == len(quotes)
    assert all(e.date <= "2024-07-04" for e in evolving.timeline("fire", as_of="2024-07-04"))


@pytest.mark.slow
def test_timeline_refuses_a_bad_k(evolving: Assistant) -> None:
    with pytest.raises(InputError, match="raise k"):
        evolving.timeline("fire", k=0)


# wire copies -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire_index(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder
) -> tuple[Assistant, Path, int]:
    folder = tmp_path_factory.mktemp("wire")
    path = news_corpus.write(news_corpus.WIRE, folder, "wire")
    bot = Assistant(index_dir=folder / "index", embedder=real_embedder)
    report = bot.ingest([path])
    assert report.added == len(news_corpus.WIRE)
    return bot, path, report.duplicates


def _wire_ids(bot: Assistant) -> set[str]:
    return {a.id for a in bot.articles() if news_corpus.WIRE_BODY in a.text}


@pytest.mark.slow
def test_ingest_counts_the_copied_passages(wire_index: tuple[Assistant, Path, int]) -> None:
    bot, path, duplicates = wire_index
    per_article = bot.stats().passages_per_article
    copies = sorted(per_article[a] for a in _wire_ids(bot))
    assert len(copies) == 3
    assert duplicates == sum(copies[:2])  # every passage of two of the three copies
    again = bot.ingest([path])
    assert again.unchanged == len(news_corpus.WIRE) and again.duplicates == 0


@pytest.mark.slow
def test_copies_count_once_in_retrieval(wire_index: tuple[Assistant, Path, int]) -> None:
    bot, _, _ = wire_index
    hits = bot.retrieve("What did Norland's central bank do to its interest rate?", k=4)
    wire_hits = [h for h in hits if h.passage.article_id in _wire_ids(bot)]
    assert len(wire_hits) == 1
    assert len({h.passage.article_id for h in hits}) == len(hits)


@pytest.mark.slow
def test_citation_lists_every_other_copy(wire_index: tuple[Assistant, Path, int]) -> None:
    bot, _, _ = wire_index
    reply = bot.ask("To what level did Norland's central bank raise its main rate?")
    assert not reply.abstained
    first = reply.citations[0]
    assert "4.75 percent" in first.quote
    assert set(first.also_in) == _wire_ids(bot) - {first.article_id}
    assert first.article_id not in first.also_in


@pytest.mark.slow
def test_cli_ask_as_of_and_timeline(evolving: Assistant) -> None:
    where = str(evolving.settings.index_dir)
    result = runner.invoke(app, ["ask", ACRES, "--index", where, "--as-of", "2024-07-01"])
    assert result.exit_code == 0, result.output
    assert "1,200" in result.output and "(2024-07-01)" in result.output
    bad = runner.invoke(app, ["ask", ACRES, "--index", where, "--as-of", "July"])
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == [
        "Error: 'as of' must be a date such as 2023-06-02, not 'July' - fix it."
    ]
    timeline = runner.invoke(app, ["timeline", "Larch Creek fire", "--index", where, "-k", "5"])
    assert timeline.exit_code == 0, timeline.output
    assert "2024-07-01" in timeline.output and "“" in timeline.output


# who said it -------------------------------------------------------------------------------


@pytest.mark.slow
def test_who_said_is_answered_from_an_attributed_sentence(
    wire_index: tuple[Assistant, Path, int],
) -> None:
    bot, _, _ = wire_index
    reply = bot.ask("Who said that inflation was still too high?")
    assert not reply.abstained
    assert reply.citations[0].speaker is not None
    assert "Marten" in reply.citations[0].speaker
    assert reply.to_dict()["citations"][0]["speaker"] == reply.citations[0].speaker  # type: ignore[index]


@pytest.mark.slow
def test_what_did_x_say_cites_x(wire_index: tuple[Assistant, Path, int]) -> None:
    bot, _, _ = wire_index
    reply = bot.ask("What did the governor say about further increases?")
    assert not reply.abstained
    assert "further increases" in reply.citations[0].quote
    reply = bot.ask("What did the national lenders' association say?")
    assert not reply.abstained
    assert "Mortgage approvals" in reply.citations[0].quote
    assert reply.citations[0].speaker is not None


def _candidate(article_id: str, text: str) -> Candidate:
    passage = Passage(f"{article_id}:0", article_id, 0, 0, len(text), text, (Span(0, len(text)),))
    return Candidate(Hit(passage, 0.5, 0.5), Span(0, len(text)), text, ())


@pytest.mark.parametrize(
    ("scores", "answers", "lead"),
    [
        ([0.2, 0.17, 0.12], [False, True, False], 0),  # the best is newest: it leads
        ([0.2, 0.17, 0.15], [True, True, True], 0),
    ],
)
def test_a_current_question_never_leads_with_an_older_sentence(
    scores: list[float], answers: list[bool], lead: int
) -> None:
    days = {"new": 20230208, "old": 20230124, "older": 20190101}
    ranked = [
        (_candidate("new", "LeBron James passed Kareem Abdul-Jabbar this week."), scores[0]),
        (_candidate("old", "Who were the leading scorers before that?"), scores[1]),
        (_candidate("older", "He is the eighth-leading scorer."), scores[2]),
    ]
    chosen = choose(
        "Who became the all-time leading scorer this week?",
        ranked,
        answers,
        days.__getitem__,
        lambda a: f"{days[a] // 10000}-{days[a] // 100 % 100:02d}-{days[a] % 100:02d}",
        lambda found: [None] * len(found),
    )
    assert chosen.index == lead
    assert chosen.prefix == "As of 8 February 2023:"


def test_a_wire_copy_of_the_cited_sentence_is_not_cited_twice() -> None:
    text = "The central bank raised its main rate to 4.75 percent on Wednesday."
    texts = {"a": text, "b": text, "c": "Economists had expected a quarter point."}
    scored = [
        (_candidate(a, t), p) for (a, t), p in zip(texts.items(), [0.9, 0.85, 0.8], strict=True)
    ]
    calibration = Calibration(weights=(), bias=0.0, threshold=0.5, second_ratio=0.5)
    reply = compose("What did the bank do?", scored, calibration, texts.get)
    assert [c.article_id for c in reply.citations] == ["a"]
