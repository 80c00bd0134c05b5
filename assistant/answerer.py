"""Hits -> an extractive Answer whose every sentence is a verified citation.

Each sentence of the retrieved passages is a candidate. Logistic models, fitted on RealTime
QA and SQuAD 2.0 by ``benchmarks/calibrate.py`` and stored in ``calibration.json``, turn its
features into probabilities: the *choice* model, which reads the answer reader's score too,
picks the sentence; the sentence *gate*, which leaves the reader out (its scores rank
sentences well within a question but are not comparable across questions), rates each
sentence on its own; the *question gate* rates the whole set of candidates; the *topic gate*
rates whether the passages are about the question's subject at all.

The reply has one of three outcomes (``Answer.status``): ``refused`` when the question names
someone or something the passages never mention, or the topic gate says they are not about
it; ``answered`` when either answer gate reaches its threshold; ``tentative`` otherwise: the
closest one or two sentences, cited, under words that say they may not answer.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from assistant import dates, parts, places, wire
from assistant.embedding import Embedder, Vectors
from assistant.entities import ENTITY_LABELS, named, phrases_of
from assistant.lexical import stem, words
from assistant.matcher import default_matcher
from assistant.nlp import parse
from assistant.patterns import (
    answer_kind_phrase,
    asks,
    counted,
    fold,
    has_answer_type,
    is_furniture,
    names,
    question_type,
)
from assistant.preference import Lead
from assistant.reader import Scorer, default_reader
from assistant.records import Answer, Citation, Hit, Passage, Span

PartsOf = Callable[[Sequence[Passage]], list[parts.Parts]]
"""Gives the parts of each passage (``parts``): stored with the index, or computed."""

FEATURES = (
    "dense",
    "clause",
    "context",
    "passage",
    "overlap",
    "context_overlap",
    "missing",
    "type_miss",
    "support",
    "rank",
    "age",
    "mpnet",
    "reader",
)
QUESTION_FEATURES = ("gate", "passage", "dense", "clause", "mpnet")
"""What the question-level gate reads: the best sentence's gate logit, and the best passage
similarity, sentence similarity, clause similarity and sentence matcher's cosine among the
candidates."""
SURE_FEATURES = ("gate", "passage", "dense", "clause", "mpnet", "choice", "margin", "reader")
"""What the sure model reads: ``QUESTION_FEATURES``, and the choice model's logit of the
sentence it picks, how far that is above the second's, and the answer reader's score of it:
whether the picked sentence answers, not only whether some sentence does."""
TOPIC_FEATURES = ("clause", "mpnet")
"""What the topic gate reads: how close the closest clause of the candidates comes to the
question, by the index's model and by the sentence matcher. Keyword coverage and passage
similarity tell RealTime QA's off-subject questions apart better (ROC AUC 0.906 against 0.86
on the odd weeks of 2023), but they take questions worded away from their article for
off-subject ones: at a threshold refusing 1% of the tuning sets' answerable questions, they
refused 23% of the answerable questions of the gold set's older files, the two embeddings 3%
(``benchmarks/calibrate.py``)."""
MAX_SENTENCES = 2
READ_TOP = 8
"""How many candidate sentences the answer reader reads per question (see ``candidates``)."""
MATCH_TOP = 5
"""How many candidate sentences the sentence matcher reads per question (see ``candidates``):
on the odd weeks of RealTime QA, 5 gave the answers 8 gave, 30 ms sooner."""
ABSTAIN_TEXT = "The articles don't say: none of the indexed articles answers this question."
UNMENTIONED_TEXT = "The articles don't say: the passages closest to this question never mention {}."
OFF_TOPIC_TEXT = (
    "The articles don't say: none of the indexed articles is about this; "
    "the closest passages never mention {}."
)
TENTATIVE_TEXT = "The articles may not answer this directly; the closest they come:"
NAME_MATCH = 85
"""How alike (RapidFuzz's ratio, 0 to 100) a word of the passages must be to a word of a
name the question gives for the passages to mention that person: "Zelenskyy"
mentions "Zelensky" (94), "Biden" is not "Bidet" (80)."""


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, with the features that score it."""

    hit: Hit
    span: Span
    text: str
    features: tuple[float, ...]


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over ``FEATURES`` that choose the sentence, and the gate: weights
    whose best probability among the candidates must reach ``threshold`` for an answer.
    Without gate weights, the choice weights are the gate too."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    second_ratio: float = 0.8
    gate_weights: tuple[float, ...] | None = None
    gate_bias: float = 0.0
    question_weights: tuple[float, ...] | None = None
    question_bias: float = 0.0
    question_threshold: float = 0.5
    topic_weights: tuple[float, ...] | None = None
    topic_bias: float = 0.0
    topic_threshold: float = 0.5
    sure_weights: tuple[float, ...] | None = None
    sure_bias: float = 0.0
    sure_threshold: float = 0.5

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        raw = (
            path.read_text()
            if path
            else resources.files("assistant").joinpath("calibration.json").read_text()
        )
        data = json.loads(raw)
        # A feature added after the file was written gets no weight until it is refitted.
        weights = tuple(float(data["weights"].get(name, 0.0)) for name in FEATURES)
        gate = _section(data, "gate", FEATURES)
        question = _section(data, "question", QUESTION_FEATURES)
        topic = _section(data, "topic", TOPIC_FEATURES)
        sure = _section(data, "sure", SURE_FEATURES)
        return cls(
            weights,
            float(data["bias"]),
            float(data["threshold"]),
            float(data.get("second_ratio", 0.8)),
            gate_weights=gate[0],
            gate_bias=gate[1],
            question_weights=question[0],
            question_bias=question[1],
            question_threshold=question[2],
            topic_weights=topic[0],
            topic_bias=topic[1],
            topic_threshold=topic[2],
            sure_weights=sure[0],
            sure_bias=sure[1],
            sure_threshold=sure[2],
        )

    def probability(self, features: Sequence[float]) -> float:
        """The choice model's probability that a sentence with ``features`` answers."""
        return _logistic(self.weights, self.bias, features)

    def confidence(self, features: Sequence[float]) -> float:
        """The gate model's probability, compared with ``threshold``."""
        if self.gate_weights is None:
            return self.probability(features)
        return _logistic(self.gate_weights, self.gate_bias, features)

    def answerable(
        self, candidates: Sequence[Sequence[float]], sentence: float | None = None
    ) -> tuple[float, bool]:
        """The probability that the reply answers (given its candidates' features), and
        whether to answer. With a sure model, its probability that the sentence the choice
        model picks answers, against ``sure_threshold``; otherwise when the best sentence's
        gate probability (``sentence``, computed when not given) reaches ``threshold`` or the
        question-level gate's reaches ``question_threshold``, the probability being the
        larger of the two (the sentence gate's alone without a question-level gate)."""
        if not candidates:
            return 0.0, False
        if self.sure_weights is not None:
            p = _logistic(self.sure_weights, self.sure_bias, sure_features(self, candidates))
            return p, p >= self.sure_threshold
        if sentence is None:
            sentence = max(self.confidence(c) for c in candidates)
        if self.question_weights is None:
            return sentence, sentence >= self.threshold
        found = question_features(self, candidates)
        question = _logistic(self.question_weights, self.question_bias, found)
        answers = sentence >= self.threshold or question >= self.question_threshold
        return max(sentence, question), answers

    def on_topic(self, candidates: Sequence[Sequence[float]]) -> tuple[float, bool]:
        """The topic gate's probability that the passages (given by their candidates'
        features) are about the question's subject, and whether it reaches
        ``topic_threshold``. Without topic weights every question with candidates is."""
        if not candidates:
            return 0.0, False
        if self.topic_weights is None:
            return 1.0, True
        p = _logistic(self.topic_weights, self.topic_bias, topic_features(candidates))
        return p, p >= self.topic_threshold


def sure_features(calibration: Calibration, candidates: Sequence[Sequence[float]]) -> list[float]:
    """``SURE_FEATURES`` of a question's candidates."""
    choice = sorted(
        (
            (calibration.bias + sum(w * x for w, x in zip(calibration.weights, c, strict=True)), c)
            for c in candidates
        ),
        key=lambda lc: -lc[0],
    )
    top, picked = choice[0]
    margin = top - choice[1][0] if len(choice) > 1 else MARGIN_ALONE
    reader = picked[FEATURES.index("reader")]
    return [*question_features(calibration, candidates), top, margin, reader]


MARGIN_ALONE = 5.0
"""The ``margin`` of a question with one candidate: far above any second."""


def topic_features(candidates: Sequence[Sequence[float]]) -> list[float]:
    """``TOPIC_FEATURES`` of a question's candidates: the best of each among them."""
    return [max(c[FEATURES.index(name)] for c in candidates) for name in TOPIC_FEATURES]


def _section(
    data: dict[str, Any], key: str, names: Sequence[str]
) -> tuple[tuple[float, ...] | None, float, float]:
    """A model stored under ``key``: its weights over ``names`` (a feature added after the
    file was written gets none until it is refitted), bias and threshold; no weights, bias 0
    and threshold 0.5 when the file has none."""
    found = data.get(key)
    if not found:
        return None, 0.0, 0.5
    weights = tuple(float(found["weights"].get(name, 0.0)) for name in names)
    return weights, float(found["bias"]), float(found.get("threshold", 0.5))


def question_features(
    calibration: Calibration, candidates: Sequence[Sequence[float]]
) -> list[float]:
    """``QUESTION_FEATURES`` of a question's candidates."""
    weights = calibration.gate_weights or calibration.weights
    bias = calibration.gate_bias if calibration.gate_weights else calibration.bias
    logit = max(bias + sum(w * x for w, x in zip(weights, c, strict=True)) for c in candidates)
    best = [max(c[FEATURES.index(name)] for c in candidates) for name in QUESTION_FEATURES[1:]]
    return [logit, *best]


def recency(days: int | None) -> float:
    """An age in days as a feature: 0 on the day, 0.35 a week old, 1 a year old, growing
    slowly after (log-scaled: a day matters within a week, not within a decade); 0 when
    undated, which the fit sees as neither new nor old."""
    if days is None:
        return 0.0
    return math.log1p(max(days, 0)) / math.log1p(365)


def _logistic(weights: Sequence[float], bias: float, features: Sequence[float]) -> float:
    z = bias + sum(w * x for w, x in zip(weights, features, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=1)
def default_calibration() -> Calibration:
    return Calibration.load()


def keywords(text: str) -> dict[str, float]:
    """Stemmed content words of ``text``, each weighted by how rare it is in English.

    The weights come from general word frequencies (wordfreq), not from the indexed
    corpus, so they mean the same on a one-article index as on a large one.
    """
    found: dict[str, float] = {}
    for word in words(text):
        key = stem(word)
        if key not in _STOP_STEMS:
            found[key] = max(found.get(key, 0.0), 8.0 - min(_zipf(word), 7.5))
    return found


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency  # a quarter second to import: not before a question

    return float(zipf_frequency(word, "en"))


_STOP_STEMS = frozenset(stem(w) for w in ("do", "be", "have", "say", "get", "make", "go"))
"""Stems of auxiliary and light verbs ("does", "were") that the stop-word list lets through."""


def sentence_text(passage: Passage, span: Span) -> str:
    return passage.text[span.start - passage.start : span.end - passage.start]


def _sentences(hits: Sequence[Hit]) -> list[tuple[int, Hit, int, str, str]]:
    """Each sentence of the hits once, with the rank of its hit, its number in the passage
    and the sentence before it there. Left out, as never an answer: headlines (they restate),
    questions (a sentence that asks does not tell) and page furniture ("More: ...", bylines;
    ``patterns.is_furniture``)."""
    seen: set[tuple[str, int]] = set()
    found = []
    for rank, hit in enumerate(hits):
        before = ""
        for n, span in enumerate(hit.passage.sentences):
            text = sentence_text(hit.passage, span)
            if (
                (hit.passage.article_id, span.start) not in seen
                and text != hit.title
                and not asks(text)
                and not is_furniture(text)
            ):
                seen.add((hit.passage.article_id, span.start))
                found.append((rank, hit, n, text, before))
            before = text
    return found


def _similarities(
    query: Vectors, found: Sequence[tuple[int, Hit, int, str, str]], vectors: PartsOf
) -> tuple[list[float], list[float], list[float]]:
    """Cosine of the query with each sentence, with its best clause window, and with it read
    after the sentence before it (which resolves "he", "it", "the deal"), from the vectors
    pooled out of each passage's encoding (see ``parts``)."""
    passages = list({hit.passage.id: hit.passage for _, hit, *_ in found}.values())
    pooled = {
        p.id: parts.sentence_vectors(p, v) for p, v in zip(passages, vectors(passages), strict=True)
    }
    whole, best, context = [], [], []
    for _, hit, n, _, before in found:
        own = pooled[hit.passage.id]
        sim = float(own.whole[n] @ query)
        after = own.after_before[n]
        whole.append(sim)
        best.append(float((own.windows[n] @ query).max()))
        context.append(max(sim, float(after @ query)) if before and after is not None else sim)
    return whole, best, context


def question_keywords(question: str, query: str) -> dict[str, float]:
    """The question's weighted keywords; a follow-up's earlier turns (in ``query``) count
    at half weight for words the question itself does not have.

    The words that say what kind of answer is wanted ("which city", "how long ... last")
    are left out: they describe the answer, and the sentence that gives it rarely has them.
    """
    asking = keywords(answer_kind_phrase(question))
    weight = {k: v for k, v in keywords(question).items() if k not in asking}
    for key, value in keywords(query).items():
        if key not in asking:
            weight.setdefault(key, value / 2)
    return weight


def answer_phrases(question: str, texts: Sequence[str]) -> list[set[str]] | None:
    """For each text, the phrases of the kind the question asks for that it does not name
    (folded); None when the question asks for no such kind."""
    kind = question_type(question)
    if kind is None:
        return None
    if kind not in ENTITY_LABELS:
        return [{"-"} if has_answer_type(t, kind, question) else set() for t in texts]
    spans = phrases_of(texts, kind, counted(question))
    return [
        {fold(t[a:b]) for a, b in found if not names(t[a:b], question)}
        for t, found in zip(texts, spans, strict=True)
    ]


def candidates(
    question: str,
    query: str,
    hits: Sequence[Hit],
    embedder: Embedder,
    reader: Scorer | None = None,
    calibration: Calibration | None = None,
    parts_of: PartsOf | None = None,
    age_of: dates.AgeOf | None = None,
    matcher: Scorer | None = None,
) -> list[Candidate]:
    """Every sentence of ``hits`` with its features (see ``FEATURES``).

    ``query`` is what was searched for (the question, with earlier turns for a follow-up);
    ``embedder`` embeds it. The sentences' vectors come from ``parts_of`` (stored with the
    index; by default computed with ``embedder``, see ``parts``).
    ``type_miss``: the question asks for a kind of thing (a number, a person, ...) and the
    sentence holds none that the question does not already name. ``support``: the share of
    the candidate sentences that mention the sentence's best such phrase, since the answer
    to a news question is usually repeated across reports. ``reader``: the answer reader's
    probability that the sentence answers ``query`` (``reader.py``). ``age``: how old the
    sentence's article is on the day asked (``age_of``; see ``recency``), since a question about
    the news is mostly about the latest. ``mpnet``: the cosine of ``query`` with the sentence
    from the sentence matcher (``matcher.py``, a larger model than the index's). Reading and
    matching are the costly steps, so with a gated ``calibration`` only the ``MATCH_TOP``
    sentences the gate rates highest without the matcher are matched, and then the
    ``READ_TOP`` it rates highest with it are read (the others keep 0: the matcher's cosine and
    the reader's score of a sentence unrelated to the question); without one, every sentence
    is matched and read (as the fit does).
    """
    found = _sentences(hits)
    if not found:
        return []
    texts = [text for _, _, _, text, _ in found]
    dense, best_clause, context = _similarities(
        embedder.embed([query])[0],
        found,
        parts_of or (lambda passages: parts.encode(passages, embedder)[1]),
    )
    weight = question_keywords(question, query)
    total = sum(weight.values()) or 1.0
    things = answer_phrases(question, texts)
    mentions: dict[str, int] = {}
    for group in things or []:
        for thing in group:
            mentions[thing] = mentions.get(thing, 0) + 1
    in_passage = {h.passage.id: set(keywords(h.passage.text)) for h in hits}

    def share(present: set[str]) -> float:
        return sum(w for t, w in weight.items() if t in present) / total

    result = []
    for n, ((rank, hit, k, text, before), sim, clause, ctx) in enumerate(
        zip(found, dense, best_clause, context, strict=True)
    ):
        present = set(keywords(text))
        mine = things[n] if things is not None else set()
        features = (
            sim,
            clause,
            ctx,
            hit.similarity,
            share(present),
            share(present | set(keywords(before))),
            1.0 - share(in_passage[hit.passage.id]),
            1.0 if things is not None and not mine else 0.0,
            max((mentions[t] for t in mine), default=0) / len(texts),
            1.0 / (1 + rank),
            recency(age_of(hit.passage.article_id) if age_of else None),
            0.0,
            0.0,
        )
        result.append(Candidate(hit, hit.passage.sentences[k], text, features))
    result = _scored(query, result, matcher or default_matcher(), calibration, "mpnet", MATCH_TOP)
    return _scored(query, result, reader or default_reader(), calibration, "reader", READ_TOP)


def _scored(
    query: str,
    found: list[Candidate],
    scorer: Scorer,
    calibration: Calibration | None,
    feature: str,
    top: int,
) -> list[Candidate]:
    """``found`` with ``scorer``'s score as ``feature``, for the ``top`` sentences the gate
    rates highest (every sentence without a gated ``calibration``; see ``candidates``)."""
    chosen = list(range(len(found)))
    if calibration is not None and calibration.gate_weights is not None:
        chosen.sort(key=lambda n: -calibration.confidence(found[n].features))
        chosen = chosen[:top]
    scores = scorer.score(query, [found[n].text for n in chosen])
    at = FEATURES.index(feature)
    for n, r in zip(chosen, scores, strict=True):
        features = found[n].features
        found[n] = replace(found[n], features=(*features[:at], float(r), *features[at + 1 :]))
    return found


def compose(
    question: str,
    scored: Sequence[tuple[Candidate, float]],
    calibration: Calibration,
    article_text: Callable[[str], str | None],
    related: Sequence[Hit] = (),
    lead: Callable[[list[tuple[Candidate, float]], list[bool]], Lead] | None = None,
) -> Answer:
    """The answer from scored candidates: refused, tentative or answered (``Answer.status``).

    Refused when the question names someone or something the passages never mention
    (``unmentioned``) or the topic gate says they are not about it (``Calibration.on_topic``).
    Otherwise the reply is ``answered`` when the gates say some candidate answers
    (``Calibration.answerable``): the best-scored sentence, and the second best when its score
    is at least ``second_ratio`` of the best and its own gate probability reaches
    ``threshold``. When they do not, it is ``tentative``: the best two, under
    ``TENTATIVE_TEXT``.
    ``lead`` (see ``assistant.preference``) may put another answering sentence first (the
    newest, an attributed one) and say as of when. ``Answer.confidence`` is the gates'
    probability. A citation is only returned after ``article_text(id)[start:end] == quote``
    is checked.
    """
    ranked = sorted(scored, key=lambda cs: -cs[1])
    passages = {c.hit.passage.id: c.hit.passage.text for c, _ in ranked}
    missing = unmentioned(question, list(passages.values()))
    if missing:
        text = UNMENTIONED_TEXT.format(" and ".join(missing))
        return Answer(question, text, True, (), tuple(related), 0.0)
    features = [c.features for c, _ in ranked]
    _, about = calibration.on_topic(features)
    if not about:
        absent = absent_words(question, list(passages.values()))
        text = OFF_TOPIC_TEXT.format(" or ".join(f'"{w}"' for w in absent)) if absent else ""
        return Answer(question, text or ABSTAIN_TEXT, True, (), tuple(related), 0.0)
    gated = calibration.gate_weights is not None
    gate = [calibration.confidence(c.features) if gated else p for c, p in ranked]
    sure, answers = calibration.answerable(features, max(gate, default=0.0))
    chosen_lead = lead(ranked, [g >= calibration.threshold for g in gate]) if lead else Lead()
    if chosen_lead.index:
        head = ranked.pop(chosen_lead.index)
        ranked.insert(0, head)
        gate.insert(0, gate.pop(chosen_lead.index))
    # A sure reply adds the second sentence when the choice between the two is close and it
    # passes the gate too; an unsure one gives the closest two, since the best two hold the
    # answer far more often than the best one (SQuAD's articles one at a time: 0.69 and 0.83
    # against 0.56 and 0.68, ``benchmarks/calibrate.py``).
    floor = calibration.second_ratio * ranked[0][1] if answers else 0.0
    chosen = [ranked[0][0]] + [
        c
        for (c, p), g in zip(ranked[1:MAX_SENTENCES], gate[1:], strict=False)
        if p >= floor and (g >= calibration.threshold or not answers) and not chosen_lead.alone
    ]
    chosen = [c for c in chosen if verified(c, article_text)]
    unique: dict[str, Candidate] = {}
    for c in chosen:  # a wire copy of a chosen sentence is not a second citation
        unique.setdefault(wire.normal(c.text), c)
    chosen = list(unique.values())
    if not chosen:
        return Answer(question, ABSTAIN_TEXT, True, (), tuple(related), sure)
    if answers:  # a sure reply reads in article order; an unsure one closest first
        first = chosen[0].hit.passage.article_id
        chosen.sort(key=lambda c: (c.hit.passage.article_id != first, c.span.start))
    citations = tuple(
        Citation(n, c.hit.passage.article_id, c.hit.title, c.span.start, c.span.end, c.text)
        for n, c in enumerate(chosen, 1)
    )
    text = " ".join(f"{c.quote} [{c.marker}]" for c in citations)
    if chosen_lead.prefix:
        text = f"{chosen_lead.prefix} {text}"
    if not answers:
        return Answer(
            question, f"{TENTATIVE_TEXT} {text}", False, citations, (), sure, status="tentative"
        )
    return Answer(question, text, False, citations, (), sure)


def absent_words(question: str, texts: Sequence[str], most: int = 2) -> list[str]:
    """Up to ``most`` of the question's nouns that none of ``texts`` holds (by stem), rarest
    first, leaving out the commonest (``RARE_ZIPF``): what a refusal can say is missing."""
    present = {k for text in texts for k in keywords(text)}
    found: dict[str, str] = {}
    for token in parse([question], disable=("parser", "ner", "lemmatizer"))[0]:
        word = token.text.lower()
        key = stem(word)
        if (
            token.pos_ in ("NOUN", "PROPN")
            and key not in present
            and key not in _STOP_STEMS
            and _zipf(word) < RARE_ZIPF
        ):
            found.setdefault(key, token.text)
    return sorted(found.values(), key=lambda w: _zipf(w.lower()))[:most]


RARE_ZIPF = 5.5
"""Nouns rarer than this (wordfreq's Zipf scale: 5.5 is about three times in 100,000 words)
name a subject; commoner ones ("people", "year", "time") do not."""


UNMENTIONED_LABELS = frozenset(
    {"PERSON", "ORG", "FAC", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
)
"""The kinds of name (spaCy's labels) a question may give that the passages must mention
for them to answer it: people, organisations, places, products, events, works and laws, not
nationalities ("Russian" is how reporters write "Russia")."""


RARE_NAME_ZIPF = 3.5
"""A word of a name rarer than this in English (wordfreq's Zipf scale: under about three
times in ten million words; "Waitrose", "Brewery", not "Iron" or "Hill") is what names it:
the passages must hold every such word of an organisation's, a product's or an event's name.
On RealTime QA 2023's odd weeks this refuses 7 of the 32 off-subject questions (2 with any
word enough) and still 1 of the 159 answerable ones."""


def unmentioned(question: str, texts: Sequence[str]) -> list[str]:
    """The names ``question`` gives (``UNMENTIONED_LABELS``) of which no word is in ``texts``.

    Each capitalised word of the name ("Erdogan" of "President Erdogan", "Putin" of
    "Putin's") is looked for among the words of ``texts``, case and accents folded, with the
    spelling slack of ``NAME_MATCH`` and as the start of a longer word ("West" of "Western").
    One such word names a person or a place (a place also by another name of it,
    ``places.aliases``: "Kyiv" by "Ukraine"); any other name needs each of its rare words
    (``RARE_NAME_ZIPF``). A question about someone or something the
    passages closest to it never name is not answered by them, however near their topic. A
    person's name that is also a place's (spaCy takes "Kyiv" for a person) is left out, and
    so is a one-word name beside a name the passages do mention (more often an adjective or a
    team spaCy took for a name, as in "a female Alpine skier", than a second subject).
    """
    given = [
        (name, label)
        for name, label in named(question)
        if label in UNMENTIONED_LABELS and not (label == "PERSON" and places.is_place(name))
    ]
    if not given:
        return []
    seen = {w for text in texts for w in _words(text)}

    def named_there(word: str) -> bool:
        return bool(
            process.extractOne(word, seen, scorer=fuzz.ratio, score_cutoff=NAME_MATCH)
            or any(s.startswith(word) for s in seen)  # "the West" in "Western", "Europe" ...
        )

    def mentioned(name: str, label: str) -> bool:
        found = _capitalised(name)
        if label in ("GPE", "LOC"):
            aliases = {w for alias in places.aliases(name) for w in _capitalised(alias)}
            return not found or any(named_there(w) for w in found | aliases)
        rare = {w for w in found if _zipf(w) < RARE_NAME_ZIPF}
        if label != "PERSON" and rare:  # "Iron Hill Brewery" is not named by "iron" or "hill"
            return all(named_there(w) for w in rare)
        return not found or any(named_there(w) for w in found)

    missing = [name for name, label in given if not mentioned(name, label)]
    if len(missing) < len(given):
        missing = [name for name in missing if len(_capitalised(name)) > 1]
    return list(dict.fromkeys(missing))


_WORD = re.compile(r"\b[^\W\d_]{3,}")
_CAPITALISED = re.compile(r"\b[A-Z][^\W\d_]{2,}")


def _words(text: str, pattern: re.Pattern[str] = _WORD) -> set[str]:
    """The words of at least three letters in ``text`` (those ``pattern`` finds), accents
    folded, lower-cased."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return {w.lower() for w in pattern.findall(plain)}


def _capitalised(text: str) -> set[str]:
    return _words(text, _CAPITALISED)


def verified(c: Candidate, article_text: Callable[[str], str | None]) -> bool:
    """Whether the candidate's text is exactly its span of the stored article."""
    full = article_text(c.hit.passage.article_id)
    return full is not None and full[c.span.start : c.span.end] == c.text and bool(c.text)


def score(candidates_: Sequence[Candidate], calibration: Calibration) -> list[float]:
    """The probability that each candidate answers the question."""
    return [calibration.probability(c.features) for c in candidates_]
