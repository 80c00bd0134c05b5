"""The short answer inside a citation: the phrase asked for, with verified offsets."""

from __future__ import annotations

import pytest

from assistant.entities import phrases
from assistant.records import Citation
from assistant.short import find

TEXT = (
    "Talks resume\n"
    "Delegations from both countries met in Istanbul on June 2 for a second round. "
    "The Kremlin has proposed a limited ceasefire lasting two to three days. "
    "Both sides agreed to swap the remains of approximately 6,000 fallen soldiers. "
    "The Russian team is led by Vladimir Medinsky, an aide to the president. "
    "The plan was drafted with help from the United Nations."
)


def cite(sentence: str, marker: int = 1) -> Citation:
    start = TEXT.index(sentence)
    return Citation(marker, "a1", "Talks resume", start, start + len(sentence), sentence)


def article_text(article_id: str) -> str | None:
    return TEXT if article_id == "a1" else None


SENTENCES = [s + "." for s in TEXT.split("\n", 1)[1].split(". ")]


def short_in(sentence: str, question: str, title: str = "News") -> str | None:
    """The short answer to ``question`` when ``sentence`` is cited from an article that is
    ``title`` and that sentence."""
    text = f"{title}\n{sentence}"
    start = len(title) + 1
    citation = Citation(1, "a2", title, start, start + len(sentence), sentence)
    short = find(question, [citation], lambda _: text)
    if short is not None:
        assert text[short.start : short.end] == short.text
    return short.text if short is not None else None


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("Where did the delegations meet?", 0, "Istanbul"),
        ("When did the delegations meet?", 0, "June 2"),
        ("How long would the truce last?", 1, "two to three days"),
        ("How many bodies will be handed back?", 2, "approximately 6,000"),
        ("Who heads the Russian team?", 3, "Vladimir Medinsky"),
        ("Which organisation helped draft the plan?", 4, "the United Nations"),
    ],
)
def test_short_answer_is_the_phrase_asked_for(question: str, sentence: int, expected: str) -> None:
    short = find(question, [cite(SENTENCES[sentence].rstrip(".") + ".")], article_text)
    assert short is not None
    assert short.text.removeprefix("the ") == expected.removeprefix("the ")
    assert short.marker == 1
    assert TEXT[short.start : short.end] == short.text


def test_no_short_answer_when_the_question_asks_for_no_such_thing() -> None:
    assert find("What did the Kremlin propose?", [cite(SENTENCES[1])], article_text) is None


def test_no_short_answer_that_the_question_already_names() -> None:
    sentence = "Delegations from both countries met in Istanbul on June 2 for a second round."
    assert find("Which city besides Istanbul?", [cite(sentence)], article_text) is None


def test_short_answer_comes_from_the_first_citation_that_has_one() -> None:
    first = cite(SENTENCES[1], marker=1)
    second = cite(SENTENCES[3], marker=2)
    short = find("Which official leads the Russian team?", [first, second], article_text)
    assert short is not None
    assert short.marker == 2
    assert short.text == "Vladimir Medinsky"


def test_short_answer_is_never_returned_when_offsets_do_not_verify() -> None:
    assert find("Who leads the Russian team?", [cite(SENTENCES[3])], lambda _: None) is None


def test_a_place_introduced_by_a_preposition_is_preferred() -> None:
    sentence = "Delegations from Ukraine and Russia met in Istanbul on June 2."
    assert short_in(sentence, "Where did the delegations meet?") == "Istanbul"


def test_duration_phrases_are_whole() -> None:
    sentence = "The Kremlin has proposed a limited ceasefire lasting two to three days."
    spans = phrases(sentence, "duration")
    assert [sentence[a:b] for a, b in spans] == ["two to three days"]


def test_a_short_answer_that_names_the_kind_asked_for_is_preferred() -> None:
    sentence = "Liz Cheney is joining the University of Virginia's Center for Politics."
    found = short_in(sentence, "Cheney will teach at which university?")
    assert found is not None and found.removeprefix("the ") == "University of Virginia"


def test_a_city_is_a_governed_place_not_a_venue() -> None:
    sentence = "The Final Four convenes in NRG Stadium in Houston this week."
    assert short_in(sentence, "Which city will host the Final Four?") == "Houston"
    assert short_in(sentence, "Which venue will host the Final Four?") == "NRG Stadium"


def test_a_phrase_the_question_names_without_its_article_or_dots_is_not_the_answer() -> None:
    sentence = "The U.S. team beat Canada in the College Football Playoffs."
    question = "Which country did the US side beat in College Football Playoffs?"
    assert short_in(sentence, question) == "Canada"


def test_a_number_of_the_thing_counted_is_preferred() -> None:
    sentence = "The fire was 90 percent contained after it burned 6,300 acres."
    found = short_in(sentence, "How many acres has the fire burned?")
    assert found is not None and found.startswith("6,300")


def test_a_count_named_in_other_words_still_finds_the_number() -> None:
    short = find("How many bodies will be handed back?", [cite(SENTENCES[2])], article_text)
    assert short is not None and short.text == "approximately 6,000"


@pytest.mark.parametrize(
    ("sentence", "question", "expected"),
    [
        (
            "The singers closed the dinner with the Don McLean classic “American Pie” for the "
            "guests.",
            "What song did the singers perform at the dinner?",
            "American Pie",
        ),
        (
            'Netflix released a trailer for the second season of "Squid Game" on Tuesday.',
            "Netflix released a trailer for which show?",
            "Squid Game",
        ),
        (
            "Kiptum won the Chicago Marathon in a world record time of two hours and 35 seconds.",
            "Kiptum set a world record by winning which race?",
            "the Chicago Marathon",
        ),
    ],
)
def test_a_title_or_an_event_is_a_short_answer_without_its_quotation_marks(
    sentence: str, question: str, expected: str
) -> None:
    assert short_in(sentence, question) == expected


def test_a_place_that_only_describes_someone_is_no_short_answer() -> None:
    text = "He was killed at a university event, wrote U.S. Rep. Michael Baumgartner on X."
    found = find(
        "Where was he killed?", [Citation(1, "x", "t", 0, len(text), text)], lambda _: text
    )
    assert found is None or found.text != "U.S."


def test_a_name_in_a_clause_about_something_else_is_no_short_answer() -> None:
    text = "UConn won the title on Sunday; Villanova had won the championship in 2018."
    citation = Citation(1, "x", "t", 0, len(text), text)
    found = find("Which team won the title on Sunday?", [citation], lambda _: text)
    assert found is None or found.text != "Villanova"
    found = find("Which team won the championship in 2018?", [citation], lambda _: text)
    assert found is not None and found.text == "Villanova"
