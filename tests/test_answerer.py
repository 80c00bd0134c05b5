"""Hits -> an extractive answer: question types, features, calibration, and verified citations."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import answerer
from assistant.answerer import (
    FEATURES,
    MAX_SENTENCES,
    OFF_TOPIC_TEXT,
    TENTATIVE_TEXT,
    UNMENTIONED_TEXT,
    Calibration,
    Candidate,
    absent_words,
    candidates,
    compose,
    counted,
    default_calibration,
    has_answer_type,
    keywords,
    question_keywords,
    question_type,
    score,
    unmentioned,
)
from assistant.chunking import chunk
from assistant.embedding import Embedder
from assistant.ingest import article_id
from assistant.patterns import short_type
from assistant.reader import Scorer
from assistant.records import Article, Hit, Span

TEXT = (
    "Bridge approved\n"
    "The city council approved the new river bridge on Monday. "
    "Construction will start next spring and take two years. "
    "The mayor said the bridge would cost 40 million euros."
)
ARTICLE = Article(article_id(TEXT), "Bridge approved", TEXT)
PASSAGES = chunk(ARTICLE, 4000)
HIT = Hit(PASSAGES[0], similarity=0.5, score=0.03, title=ARTICLE.title)
# Weights that make the answer depend on one feature, for scripted scoring.
ONLY_DENSE = Calibration(weights=(10.0,) + (0.0,) * (len(FEATURES) - 1), bias=-5.0, threshold=0.5)


def features(dense: float) -> tuple[float, ...]:
    return (dense,) + (0.0,) * (len(FEATURES) - 1)


def article_text(aid: str) -> str | None:
    return TEXT if aid == ARTICLE.id else None


def candidate(sentence: str, hit: Hit = HIT) -> Candidate:
    start = TEXT.index(sentence)
    return Candidate(hit, Span(start, start + len(sentence)), sentence, (0.0,) * len(FEATURES))


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How long will construction take?", "duration"),
        ("What did Russia propose on ceasefire length?", "duration"),
        ("How many soldiers' remains will be exchanged?", "number"),
        ("When did the talks start?", "date"),
        ("Who leads the Russian delegation?", "agent"),
        ("Where were the talks held?", "place"),
        ("Why did the talks stall?", "reason"),
        ("What does he demand?", None),
        ("Which city hosted the negotiations?", "city"),
        ("Which venue hosted the negotiations?", "place"),
        ("Fox News said this week when it announced cuts that it dropped which host?", "person"),
        ("At least 12 were hurt when a crane fell in which major city?", "city"),
        ("Blinken traveled to which country this week?", "country"),
        ("Which U.S. state repealed the law?", "state"),
        ("Which state senator resigned?", "person"),
        ("What did Umerov propose about a summit, and when?", "date"),
        ("The cap will be lifted when?", "date"),
        ("It will cap insulin costs at which amount?", "number"),
        ("How long would it last?", "duration"),
        ("Which company announced layoffs this week?", "organisation"),
        ("He plays for which team?", "organisation"),
        ("Which former pope was laid to rest?", "person"),
        ("What did Putin say after the last round?", None),
    ],
)
def test_question_type(question: str, kind: str | None) -> None:
    assert question_type(question) == kind
    assert short_type(question) == kind  # a short answer looks for the same kind first


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which prominent Fox News host left the network?", "person"),
        ("Which public figure will plead guilty?", "person"),
        ("She was best known for her role on which popular sitcom?", "work"),
        ("What song did the president sing at the dinner?", "work"),
        ("He set a record by completing which race in two hours?", "event"),
        ("He announced his bid on which social media platform?", "product"),
        ("Agencies must remove which app from all government devices?", "product"),
        ("Which labor union ended its strike?", "organisation"),
        ("Which film festival opened this week?", "work"),
        ("What did Putin say after the last round?", None),
    ],
)
def test_a_short_answer_looks_for_more_kinds_than_the_answerer(
    question: str, kind: str | None
) -> None:
    assert question_type(question) is None
    assert short_type(question) == kind


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("How many acres has the fire burned?", ("acres",)),
        ("And how many dead soldiers will be returned?", ("dead", "soldiers")),
        ("How many were killed?", ()),
        ("How many of them died?", ()),
        ("How much did it cost?", ()),
        ("How long did it last?", ()),
    ],
)
def test_what_a_how_many_question_counts(question: str, words: tuple[str, ...]) -> None:
    assert counted(question) == words


def test_answer_type_must_be_something_the_question_does_not_name() -> None:
    question = "How many prisoners did the 2 sides exchange?"
    assert has_answer_type("They exchanged 1,000 prisoners.", "number", question)
    assert not has_answer_type("The 2 sides met.", "number", question)
    assert has_answer_type("It lasts two to three days.", "duration", "How long is it?")
    assert has_answer_type("They met because talks stalled.", "reason", "Why did they meet?")
    assert not has_answer_type("They met on Monday.", "reason", "Why did they meet?")


def test_keywords_weight_rare_words_above_common_ones() -> None:
    weights = keywords("The Kremlin proposed a ceasefire today")
    assert set(weights) >= {"kremlin", "ceasefir"}
    assert "the" not in weights
    assert weights["kremlin"] > weights["today"]


def test_bundled_calibration_loads_and_matches_the_features() -> None:
    calibration = default_calibration()
    assert len(calibration.weights) == len(FEATURES)
    assert 0.0 < calibration.threshold < 1.0
    assert 0.0 < calibration.probability([0.5] * len(FEATURES)) < 1.0


def test_calibration_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    weights = {name: float(n) for n, name in enumerate(FEATURES)}
    path.write_text(json.dumps({"weights": weights, "bias": -1.5, "threshold": 0.4}))
    calibration = Calibration.load(path)
    assert calibration.weights == tuple(float(n) for n in range(len(FEATURES)))
    assert (calibration.bias, calibration.threshold, calibration.second_ratio) == (-1.5, 0.4, 0.8)


def test_score_matches_the_probability_of_each_candidate() -> None:
    low = Candidate(HIT, Span(0, 1), "x", features(0.1))
    high = Candidate(HIT, Span(0, 1), "x", features(0.9))
    probabilities = score([low, high], ONLY_DENSE)
    assert probabilities == pytest.approx(
        [ONLY_DENSE.probability(low.features), ONLY_DENSE.probability(high.features)]
    )
    assert probabilities[0] < 0.5 < probabilities[1]
    assert score([], ONLY_DENSE) == []


def test_candidates_are_every_sentence_once_without_the_title(
    fake_embedder: Embedder, fake_reader: Scorer
) -> None:
    found = candidates("When will construction start?", "q", [HIT, HIT], fake_embedder, fake_reader)
    assert [c.text for c in found] == [TEXT[s.start : s.end] for s in PASSAGES[0].sentences][1:]
    for c in found:
        assert TEXT[c.span.start : c.span.end] == c.text
        assert len(c.features) == len(FEATURES)
    assert candidates("q", "q", [], fake_embedder, fake_reader) == []


def test_candidate_features_name_the_passage_and_its_rank(
    fake_embedder: Embedder, fake_reader: Scorer
) -> None:
    second = replace(HIT, passage=replace(PASSAGES[0], index=3), similarity=0.25)
    found = candidates(
        "When will construction start?", "q", [HIT, second], fake_embedder, fake_reader
    )
    by_name = [dict(zip(FEATURES, c.features, strict=True)) for c in found]
    assert {f["passage"] for f in by_name} == {0.5}
    assert {f["rank"] for f in by_name} == {1.0}


def test_the_age_feature_grows_with_the_articles_age(
    fake_embedder: Embedder, fake_reader: Scorer
) -> None:
    def age(days: int | None) -> float:
        found = candidates("q", "q", [HIT], fake_embedder, fake_reader, age_of=lambda _: days)
        return {dict(zip(FEATURES, c.features, strict=True))["age"] for c in found}.pop()

    assert age(None) == age(0) == 0.0
    assert 0.0 < age(1) < age(7) < age(30) < age(365) < age(3 * 365)
    assert age(365) == pytest.approx(1.0)
    assert age(-3) == 0.0  # published after the day asked: as new as it gets


def test_the_reader_feature_is_the_readers_score_for_the_searched_text(
    fake_embedder: Embedder, fake_reader: Scorer
) -> None:
    query = "Bridge approved. When will construction start?"
    found = candidates("When will it start?", query, [HIT], fake_embedder, fake_reader)
    read = [dict(zip(FEATURES, c.features, strict=True))["reader"] for c in found]
    assert read == pytest.approx(list(fake_reader.score(query, [c.text for c in found])))
    assert found[read.index(max(read))].text.startswith("Construction will start")


class Everything:
    """A reader that rates every sentence 1 and remembers what it read."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        self.read.extend(sentences)
        return np.ones(len(sentences))


def test_with_a_gate_only_the_sentences_it_rates_highest_are_read(
    fake_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answerer, "READ_TOP", 1)
    question = "When will construction start?"
    reader = Everything()
    found = candidates(question, question, [HIT], fake_embedder, reader, GATED)
    best = max(found, key=lambda c: GATED.confidence(c.features))
    assert reader.read == [best.text]
    assert [dict(zip(FEATURES, c.features, strict=True))["reader"] for c in found] == [
        1.0 if c is best else 0.0 for c in found
    ]
    everyone = Everything()
    candidates(question, question, [HIT], fake_embedder, everyone)
    assert len(everyone.read) == len(found) > 1


def test_with_a_gate_only_the_sentences_it_rates_highest_are_matched(
    fake_embedder: Embedder, fake_reader: Scorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answerer, "MATCH_TOP", 1)
    question = "When will construction start?"
    matcher = Everything()
    found = candidates(
        question, question, [HIT], fake_embedder, fake_reader, GATED, matcher=matcher
    )
    best = max(found, key=lambda c: GATED.confidence(c.features))
    assert matcher.read == [best.text]
    assert [dict(zip(FEATURES, c.features, strict=True))["mpnet"] for c in found] == [
        1.0 if c is best else 0.0 for c in found
    ]
    everyone = Everything()
    candidates(question, question, [HIT], fake_embedder, fake_reader, matcher=everyone)
    assert len(everyone.read) == len(found) > 1


def test_the_matcher_scores_a_paraphrase_above_its_neighbours(
    fake_embedder: Embedder, fake_reader: Scorer
) -> None:
    question = "When does the building work begin?"
    found = candidates(question, question, [HIT], fake_embedder, fake_reader)
    cosine = {c.text: dict(zip(FEATURES, c.features, strict=True))["mpnet"] for c in found}
    assert max(cosine, key=cosine.__getitem__).startswith("Construction will start")


def test_support_counts_the_sentences_that_repeat_an_answer(
    fake_embedder: Embedder, fake_reader: Scorer
) -> None:
    text = (
        "Cup final\n"
        "The cup went to Bristol Rovers after extra time. "
        "Bristol Rovers lifted the cup in front of 40,000 fans. "
        "United had won the cup last year."
    )
    article = Article(article_id(text), "Cup final", text)
    hit = Hit(chunk(article, 4000)[0], similarity=0.5, score=0.03, title="Cup final")
    found = candidates("Which team won the cup?", "q", [hit], fake_embedder, fake_reader)
    support = {c.text: dict(zip(FEATURES, c.features, strict=True))["support"] for c in found}
    assert support["The cup went to Bristol Rovers after extra time."] == pytest.approx(2 / 3)
    assert support["United had won the cup last year."] == pytest.approx(1 / 3)


def test_follow_up_keywords_weigh_the_earlier_turn_at_half() -> None:
    weights = question_keywords(
        "Where would it apply?", "What truce did Moscow offer? Where would it apply?"
    )
    assert weights["moscow"] == pytest.approx(keywords("Moscow")["moscow"] / 2)
    assert weights["appli"] == keywords("apply")["appli"]


def test_words_that_name_the_kind_of_answer_are_not_keywords() -> None:
    assert set(question_keywords("Which city hosted the talks?", "q")) == {"host", "talk"}
    assert set(question_keywords("How long would the truce last?", "q")) == {"truce"}
    assert "do" not in question_keywords("What does he demand?", "q")


def test_compose_cites_the_best_sentences_in_article_order() -> None:
    start = candidate("Construction will start next spring and take two years.")
    cost = candidate("The mayor said the bridge would cost 40 million euros.")
    other = candidate("The city council approved the new river bridge on Monday.")
    answer = compose("q", [(cost, 0.9), (start, 0.85), (other, 0.2)], ONLY_DENSE, article_text)
    assert not answer.abstained
    assert [c.quote for c in answer.citations] == [start.text, cost.text]
    assert [c.marker for c in answer.citations] == [1, 2]
    assert answer.text == f"{start.text} [1] {cost.text} [2]"
    assert answer.confidence == pytest.approx(0.9)
    assert answer.related == ()
    for c in answer.citations:
        assert TEXT[c.start : c.end] == c.quote
        assert (c.article_id, c.title) == (ARTICLE.id, ARTICLE.title)


def test_compose_keeps_at_most_the_allowed_number_of_sentences() -> None:
    sentences = [TEXT[s.start : s.end] for s in PASSAGES[0].sentences][1:]
    scored = [(candidate(s), 0.95) for s in sentences]
    assert len(scored) > MAX_SENTENCES
    assert len(compose("q", scored, ONLY_DENSE, article_text).citations) == MAX_SENTENCES


def test_compose_drops_a_second_sentence_far_below_the_first() -> None:
    best = candidate("Construction will start next spring and take two years.")
    weak = candidate("The mayor said the bridge would cost 40 million euros.")
    answer = compose("q", [(best, 0.95), (weak, 0.6)], ONLY_DENSE, article_text)
    assert [c.quote for c in answer.citations] == [best.text]


def test_a_person_the_passages_never_name_is_unmentioned() -> None:
    texts = ["President Zelensky met Vladimir Putin's envoy in Istanbul."]
    assert unmentioned("What did President Erdogan say about the talks?", texts) == ["Erdogan"]
    assert unmentioned("What did Zelenskyy say about the talks?", texts) == []  # spelling
    assert unmentioned("What was Vladimir Putin’s demand?", texts) == []
    assert unmentioned("What did the president say?", texts) == []
    assert unmentioned("Who is Kyiv's defence minister?", texts) == []  # a city, not a person
    # Beside a person they name, only a full name they lack counts, not a lone word.
    assert unmentioned("Did Zelensky meet Anne Hidalgo?", texts) == ["Anne Hidalgo"]
    assert unmentioned("Was Vladimir Putin's envoy an Alpine skier?", texts) == []
    assert unmentioned("What did Erdoğan say?", ["Recep Tayyip Erdogan spoke."]) == []
    # One word of the name is enough: "Putin" is named, whatever the first name.
    assert unmentioned("What did Wladimir Putin say?", texts) == []


def test_an_organisation_place_or_event_the_passages_never_name_is_unmentioned() -> None:
    texts = ["Ukraine and Russia met in Istanbul; NATO officials watched the talks."]
    assert unmentioned("How much did Nvidia earn last quarter?", texts) == ["Nvidia"]
    assert unmentioned("What did NATO say about the talks?", texts) == []
    assert unmentioned("What is the weather in Tokyo?", texts) == ["Tokyo"]
    # a capital stands for its country, and the country for its capital
    assert unmentioned("What did Kyiv demand in Istanbul?", texts) == []
    assert unmentioned("What did Moscow offer?", texts) == []
    assert unmentioned("What did the Russian side offer?", texts) == []  # a nationality
    assert unmentioned("What did the West say?", ["Western support ended."]) == []
    # an organisation is named by its rare words, not by the common ones
    sports = ["World sports awards were given to athletes this year."]
    asked = "What did the Laureus World Sports Awards honour?"
    assert unmentioned(asked, sports) == ["the Laureus World Sports Awards"]
    assert unmentioned(asked, [*sports, "The Laureus jury met."]) == []


def test_compose_abstains_on_a_person_the_passages_never_name() -> None:
    sure = candidate("The mayor said the bridge would cost 40 million euros.")
    asked = "What did Mayor Anne Hidalgo say the bridge would cost?"
    answer = compose(asked, [(sure, 0.99)], ONLY_DENSE, article_text, related=[HIT])
    assert answer.abstained
    assert answer.text == UNMENTIONED_TEXT.format("Anne Hidalgo")
    assert answer.citations == ()
    assert answer.related == (HIT,)
    named = "What did the mayor say the bridge would cost?"
    assert not compose(named, [(sure, 0.99)], ONLY_DENSE, article_text).abstained


def test_compose_below_the_threshold_is_tentative_with_the_closest_sentences() -> None:
    weak = candidate("Construction will start next spring and take two years.")
    close = candidate("The mayor said the bridge would cost 40 million euros.")
    answer = compose("q", [(weak, 0.3), (close, 0.28)], ONLY_DENSE, article_text, related=[HIT])
    assert answer.status == "tentative" and not answer.abstained
    assert answer.text.startswith(TENTATIVE_TEXT)
    assert [c.quote for c in answer.citations] == [weak.text, close.text]
    assert f"{weak.text} [1]" in answer.text and f"{close.text} [2]" in answer.text
    assert answer.confidence == pytest.approx(0.3)
    assert answer.related == ()
    sure = compose("q", [(weak, 0.9)], ONLY_DENSE, article_text)
    assert sure.status == "answered" and not sure.text.startswith(TENTATIVE_TEXT)
    assert compose("q", [], ONLY_DENSE, article_text).status == "refused"


TOPIC_GATED = replace(
    ONLY_DENSE,
    topic_weights=(0.0, 10.0),  # only the sentence matcher's best cosine counts
    topic_bias=-5.0,
    topic_threshold=0.5,
)


def test_the_topic_gate_refuses_passages_that_are_not_about_the_question() -> None:
    near = candidate("The mayor said the bridge would cost 40 million euros.")
    off = replace(near, features=with_feature(near.features, "mpnet", 0.1))
    answer = compose("Who won the football final?", [(off, 0.95)], TOPIC_GATED, article_text)
    assert answer.status == "refused" and answer.abstained and answer.citations == ()
    assert answer.text == OFF_TOPIC_TEXT.format('"football" or "final"')
    on = replace(near, features=with_feature(near.features, "mpnet", 0.9))
    asked = "What will the bridge cost?"
    assert compose(asked, [(on, 0.95)], TOPIC_GATED, article_text).status == "answered"
    assert TOPIC_GATED.on_topic([]) == (0.0, False)
    assert ONLY_DENSE.on_topic([off.features]) == (1.0, True)  # no topic gate: always on topic
    assert answerer.topic_features([off.features, on.features]) == [0.0, 0.9]


def with_feature(found: tuple[float, ...], name: str, value: float) -> tuple[float, ...]:
    at = FEATURES.index(name)
    return (*found[:at], value, *found[at + 1 :])


def test_absent_words_are_the_rarest_the_passages_lack() -> None:
    texts = ["The council approved the new river bridge on Monday."]
    assert absent_words("Who won the football final on Monday?", texts) == ["football"]
    assert absent_words("When was the bridge approved?", texts) == []


GATED = Calibration(
    weights=(0.0,) * len(FEATURES),
    bias=0.0,
    threshold=0.5,
    gate_weights=(10.0,) + (0.0,) * (len(FEATURES) - 1),
    gate_bias=-5.0,
)


def test_the_gate_decides_whether_to_answer_and_the_scores_which_sentence() -> None:
    start = "Construction will start next spring and take two years."
    cost = "The mayor said the bridge would cost 40 million euros."
    sure = replace(candidate(cost), features=features(0.9))
    chosen = replace(candidate(start), features=features(0.2))
    answer = compose("q", [(sure, 0.3), (chosen, 0.9)], GATED, article_text)
    assert [c.quote for c in answer.citations] == [start]
    assert answer.confidence == pytest.approx(GATED.confidence(sure.features))
    doubtful = compose(
        "q", [(replace(sure, features=features(0.3)), 0.3), (chosen, 0.99)], GATED, article_text
    )
    assert doubtful.status == "tentative"
    assert doubtful.confidence < GATED.threshold


def test_calibration_loads_its_gate(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    weights = {name: 1.0 for name in FEATURES}
    gate = {name: 2.0 for name in FEATURES if name != "reader"}
    data = {
        "weights": weights,
        "bias": 0.0,
        "threshold": 0.4,
        "gate": {"weights": gate, "bias": -3.0},
    }
    path.write_text(json.dumps(data))
    calibration = Calibration.load(path)
    assert calibration.gate_weights == tuple(0.0 if f == "reader" else 2.0 for f in FEATURES)
    assert calibration.gate_bias == -3.0
    assert calibration.confidence(features(1.0)) == pytest.approx(1 / (1 + math.exp(1.0)))
    assert Calibration.load(tmp_path / "calibration.json").probability(features(0.0)) == 0.5


def test_compose_never_cites_a_quote_that_is_not_in_the_article() -> None:
    good = candidate("Construction will start next spring and take two years.")
    shifted = Candidate(HIT, Span(good.span.start + 1, good.span.end + 1), good.text, good.features)
    gone = replace(good, hit=Hit(replace(PASSAGES[0], article_id="deleted"), 0.5, 0.1))
    assert compose("q", [(shifted, 0.9)], ONLY_DENSE, article_text).status == "refused"
    assert compose("q", [(gone, 0.9)], ONLY_DENSE, article_text).status == "refused"
    answer = compose("q", [(shifted, 0.95), (good, 0.9)], ONLY_DENSE, article_text)
    assert [c.quote for c in answer.citations] == [good.text]


def test_every_marker_names_a_citation() -> None:
    a = candidate("Construction will start next spring and take two years.")
    b = candidate("The city council approved the new river bridge on Monday.")
    answer = compose("q", [(a, 0.9), (b, 0.9)], ONLY_DENSE, article_text)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.marker for c in answer.citations} == {1, 2}


QUESTION_GATED = replace(
    GATED,
    question_weights=(0.0, 10.0, 0.0, 0.0, 0.0),  # only the best passage similarity counts
    question_bias=-5.0,
    question_threshold=0.5,
)


def with_passage(dense: float, passage: float) -> tuple[float, ...]:
    found = dict.fromkeys(FEATURES, 0.0) | {"dense": dense, "passage": passage}
    return tuple(found[name] for name in FEATURES)


def test_the_question_gate_reads_the_whole_set_of_candidates() -> None:
    start = "Construction will start next spring and take two years."
    cost = "The mayor said the bridge would cost 40 million euros."
    weak = replace(candidate(start), features=with_passage(0.3, 0.9))
    other = replace(candidate(cost), features=with_passage(0.2, 0.1))
    # no sentence passes the sentence gate, but the question gate sees a close passage
    assert max(GATED.confidence(c.features) for c in (weak, other)) < GATED.threshold
    answer = compose("q", [(weak, 0.6), (other, 0.1)], QUESTION_GATED, article_text)
    assert [c.quote for c in answer.citations] == [start]
    assert answer.confidence == pytest.approx(1 / (1 + math.exp(-(10 * 0.9 - 5))))
    far = [(replace(weak, features=with_passage(0.4, 0.2)), 0.9)]  # neither gate passes
    assert compose("q", far, QUESTION_GATED, article_text).status == "tentative"
    close = [(replace(weak, features=with_passage(0.99, 0.2)), 0.9)]  # the sentence gate does
    assert not compose("q", close, QUESTION_GATED, article_text).abstained


def test_question_features_are_the_best_of_the_candidates() -> None:
    found = answerer.question_features(GATED, [with_passage(0.2, 0.7), with_passage(0.6, 0.4)])
    assert found == pytest.approx([10 * 0.6 - 5, 0.7, 0.6, 0.0, 0.0])
    assert QUESTION_GATED.answerable([]) == (0.0, False)


def test_calibration_loads_its_question_gate(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    data = {
        "weights": dict.fromkeys(FEATURES, 1.0),
        "bias": 0.0,
        "threshold": 0.4,
        "gate": {"weights": dict.fromkeys(FEATURES, 2.0), "bias": -3.0},
        "question": {
            "weights": {"gate": 1.0, "passage": 2.0, "dense": 3.0, "clause": 4.0},
            "bias": -1.0,
            "threshold": 0.3,
        },
    }
    path.write_text(json.dumps(data))
    calibration = Calibration.load(path)
    # a question feature added after the file was written gets no weight until it is refitted
    assert calibration.question_weights == (1.0, 2.0, 3.0, 4.0, 0.0)
    assert (calibration.question_bias, calibration.question_threshold) == (-1.0, 0.3)
    assert default_calibration().question_weights is not None
