"""Fit the answerer's sentence models, its question and topic gates and their thresholds.

Training data, none of it written by this project:
- RealTime QA 2023, odd weeks, and the first ``WEEKS_2024`` odd weeks of 2024
  (``news_data.py``): news-quiz questions over the search results of their weeks
  (answerable), questions of held-back weeks whose answer is in no indexed article
  (unanswerable), and those of them naming nothing any indexed article names (off-subject);
  each is asked on its quiz date (``as_of``), as ``benchmarks/news.py`` asks it;
- SQuAD 2.0 sample, even-numbered paragraphs: answerable questions, and the same questions
  with their paragraph withheld from the candidates (reported, not fitted on).

A candidate sentence is labelled positive when it holds an accepted answer string. The
logistic sentence models are fitted on the candidates of answerable questions; the
question-level gate on the news questions (answerable ones whose answer is among the
candidates against unanswerable ones); the topic gate on the news questions that
``answerer.unmentioned`` does not refuse (answerable against off-subject), its threshold
the highest that refuses at most ``FALSE_REFUSAL`` of the answerable ones. The answer
thresholds are those that answer the most answerable news questions right while the answered
replies are right at least ``PRECISION`` of the time; what the topic gate lets through and
they do not answer is tentative. Rates are reported on what the fit never saw: SQuAD's odd
paragraphs here, and the even weeks of both years by ``benchmarks/news.py``. ``--write``
stores the result in assistant/calibration.json.

    .venv/bin/python benchmarks/calibrate.py [--write] [--rows build/calibration-rows.pkl]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import string
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news
import news_data
import squad_data

from assistant import Assistant, dates
from assistant import answerer as answering
from assistant.ingest import article_id, normalise
from assistant.records import Hit

TARGET = Path(__file__).resolve().parents[1] / "assistant" / "calibration.json"
ANSWERABLE = "answerable"
WEEKS_2024 = 6
"""How many of RealTime QA 2024's odd indexed weeks the fit reads (each about 170 articles)."""
GATE_LEAVES_OUT = ("reader", "age")
"""Features the gate is not fitted on. The answer reader's scores were trained to rank the
sentences of one question (and on the odd weeks themselves, so they are optimistic here):
fitted on them, the gate abstained more on answerable questions without abstaining more on
unanswerable ones. An article's age tells which of a question's sentences is news, but here
it would also learn how the benchmark is made: an unanswerable question is one of a held-back
week, so everything it finds is at least a week old. Fitted on it, the gate let through
almost every undated question (SQuAD's adversarial ones: 2% abstained, from 19%)."""
UNFITTED = answering.Calibration(tuple(0.0 for _ in answering.FEATURES), 0.0, 0.5)


@dataclass(frozen=True)
class Row:
    """The candidates of one question: ``kind`` is "answerable" or why it is not;
    ``unmentioned`` is whether the question names someone or something its passages never
    mention (``answerer.unmentioned``: refused before any model is asked)."""

    source: str
    kind: str
    x: np.ndarray
    y: np.ndarray
    unmentioned: bool = False


def norm(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def row(
    bot: Assistant,
    source: str,
    kind: str,
    question: str,
    hits: Sequence[Hit],
    answers: Sequence[str],
    as_of: int | None = None,
) -> Row:
    """The candidates of ``question`` asked on day ``as_of`` (``YYYYMMDD``), labelled."""
    found = answering.candidates(
        question,
        question,
        hits,
        bot.embedder,
        bot.reader,
        age_of=bot.retriever.ages(as_of),
        matcher=bot.matcher,
    )
    gold = [norm(a) for a in answers if norm(a)]
    labels = [int(any(f" {g} " in f" {norm(c.text)} " for g in gold)) for c in found]
    x = np.asarray([c.features for c in found], dtype=np.float64).reshape(
        -1, len(answering.FEATURES)
    )
    texts = list({h.passage.id: h.passage.text for h in hits}.values())
    missing = bool(answering.unmentioned(question, texts))
    return Row(source, kind, x, np.asarray(labels), missing)


def squad_rows(tmp: Path) -> dict[bool, list[Row]]:
    """SQuAD rows by half (True: the even paragraphs the fit may use)."""
    contexts, questions = squad_data.load()
    gold_ids = {cid: article_id(normalise(text)) for cid, text in contexts.items()}
    bot = Assistant(index_dir=tmp / "squad-index", calibration=UNFITTED)
    bot.ingest([squad_data.write_corpus(contexts, tmp / "squad-corpus")])
    k = bot.settings.top_k
    halves: dict[bool, list[Row]] = {True: [], False: []}
    for q in tqdm(questions, desc="SQuAD"):
        half = halves[squad_data.calibration_half(q.context_id)]
        hits = bot.retriever.search(q.question, k * 3)
        if q.impossible:
            half.append(row(bot, "squad", "adversarial", q.question, hits[:k], ()))
            continue
        others = [h for h in hits if h.passage.article_id != gold_ids[q.context_id]][:k]
        half.append(row(bot, "squad", ANSWERABLE, q.question, hits[:k], q.answers))
        half.append(row(bot, "squad", "withheld", q.question, others, q.answers))
    return halves


SINGLE_ASKED = {"answerable": 24, "adversarial": 8, "off-subject": 8}
"""How many questions of each kind ``single_rows`` asks of each SQuAD article."""


def single_rows(tmp: Path) -> list[Row]:
    """Rows of the one-article setting (the bundled index's): each article of the SQuAD 2.0
    subsets alone in an index, asked some of its answerable and unanswerable (adversarial)
    questions, and questions of other articles (off-subject). ``source`` names the half:
    "single-fit" (even-numbered titles, sorted) or "single-held-out"."""
    articles = squad_data.load_articles()
    rows = []
    for n, article in enumerate(tqdm(articles, desc="SQuAD, one article each")):
        bot = Assistant(index_dir=tmp / f"single-{n}", calibration=UNFITTED)
        bot.ingest([squad_data.write_article(article, tmp / f"single-{n}-text")])
        others = [q for m, a in enumerate(articles) if m != n for q in a.questions[n::97]]
        asked = {
            "answerable": [q for q in article.questions if not q.impossible],
            "adversarial": [q for q in article.questions if q.impossible],
            "off-subject": [q for q in others if not q.impossible],
        }
        source = "single-fit" if n % 2 == 0 else "single-held-out"
        for kind, found in asked.items():
            wanted = SINGLE_ASKED[kind]
            for q in found[:: max(1, len(found) // wanted)][:wanted]:
                hits = bot.retriever.search(q.question, bot.settings.top_k)
                answers = q.answers if kind == ANSWERABLE else ()
                rows.append(row(bot, source, kind, q.question, hits, answers))
    return rows


def news_rows(year: str, weeks: int | None = None) -> list[Row]:
    """RealTime QA rows of a year's odd (tuning) weeks (its first ``weeks`` indexed weeks)."""
    news_data.select(year)
    split = news_data.split("odd", weeks)
    bot = news.open_index(split, news.default_index(year, "odd", weeks), UNFITTED)
    k = bot.settings.top_k
    rows = []
    off = set(split.off_subject)
    asked_as = [(q, ANSWERABLE) for q in split.answerable] + [
        (q, "off-subject" if q in off else "unanswerable") for q in split.unanswerable
    ]
    for q, kind in tqdm(asked_as, desc=f"news {year}"):
        asked = dates.as_of(q.date)
        hits = bot.retriever.search(q.question, k, asked)
        answers = (q.answer,) if kind == ANSWERABLE else ()
        rows.append(row(bot, f"news{year}", kind, q.question, hits, answers, asked))
    return rows


def best(row: Row, model: answering.Calibration) -> tuple[float, bool, bool]:
    """The gate's probability that the question is answered, whether it answers, and
    whether the sentence the choice model picks holds the answer."""
    if not len(row.x):
        return 0.0, False, False
    sure, answers = model.answerable([tuple(x) for x in row.x])
    choice = row.x @ np.asarray(model.weights) + model.bias
    return sure, answers, bool(row.y[int(np.argmax(choice))])


def outcome(row: Row, model: answering.Calibration) -> tuple[str, bool]:
    """What ``compose`` would reply (``Answer.status``) and whether its first sentence holds
    the answer."""
    if row.unmentioned or not len(row.x):
        return "refused", False
    if not model.on_topic([tuple(x) for x in row.x])[1]:
        return "refused", False
    _, answers, holds = best(row, model)
    return ("answered" if answers else "tentative"), holds


def rates(rows: Sequence[Row], model: answering.Calibration) -> dict[str, float]:
    """Per kind of question, the share of each outcome; for answerable ones, the share
    answered right (coverage), and the precision of every answered reply."""
    outcomes = [outcome(r, model) for r in rows]
    found: dict[str, list[tuple[str, bool]]] = {}
    for r, seen_one in zip(rows, outcomes, strict=True):
        found.setdefault(r.kind, []).append(seen_one)
    result: dict[str, float] = {}
    for kind, seen in sorted(found.items()):
        for status in ("answered", "tentative", "refused"):
            result[f"{kind} {status}"] = float(np.mean([s == status for s, _ in seen]))
        if kind == ANSWERABLE:
            result[f"{kind} holds"] = float(np.mean([h for s, h in seen if s != "refused"] or [0]))
            result[f"{kind} answered right"] = float(
                np.mean([s == "answered" and h for s, h in seen])
            )
    answered = [
        r.kind == ANSWERABLE and h
        for r, (s, h) in zip(rows, outcomes, strict=True)
        if s == "answered"
    ]
    result["answered precision"] = float(np.mean(answered)) if answered else float("nan")
    return result


PRECISION = 0.85
"""The answered precision the sure threshold must reach on the tuning rows (news, SQuAD's even
paragraphs and SQuAD's even articles one at a time, together)."""
FALSE_REFUSAL = 0.01
"""The share of the answerable tuning questions of each source (not refused by
``unmentioned``) that the topic gate may refuse."""


def fit(rows: Sequence[Row]) -> answering.Calibration:
    """The two sentence models, fitted on the candidates of every answerable question, with
    the sentence gate's threshold (``SENTENCE_BELOW``); the question-level gate; the topic
    gate; and the sure model.

    The choice model uses every feature; the gate model leaves out ``GATE_LEAVES_OUT``.
    """
    answerable = [r for r in rows if r.kind == ANSWERABLE and len(r.x)]
    x = np.concatenate([r.x for r in answerable])
    y = np.concatenate([r.y for r in answerable])
    choice = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    without = np.asarray([name not in GATE_LEAVES_OUT for name in answering.FEATURES])
    gate = LogisticRegression(C=1.0, max_iter=5000).fit(x[:, without], y)
    gate_weights = np.zeros(len(answering.FEATURES))
    gate_weights[without] = gate.coef_[0]
    scorer = answering.Calibration(
        tuple(float(w) for w in choice.coef_[0]),
        float(choice.intercept_[0]),
        0.0,
        gate_weights=tuple(float(w) for w in gate_weights),
        gate_bias=float(gate.intercept_[0]),
    )
    unanswered = [r for r in _news(rows) if r.kind != ANSWERABLE]
    negatives = sorted(max(scorer.confidence(tuple(v)) for v in r.x) for r in unanswered)
    scorer = replace(scorer, threshold=lowest(negatives, SENTENCE_BELOW))
    return fit_sure(rows, fit_topic(rows, fit_question(rows, scorer)))


SENTENCE_BELOW = 0.8
"""The share of the unanswered news questions whose best sentence the sentence gate's
threshold must rate below. That threshold no longer decides the outcome (the sure model
does); it says which sentences answer for ``preference`` (the newest figure, a speaker's
sentence) and whether a sure reply cites a second sentence."""


def lowest(negatives: Sequence[float], below: float) -> float:
    """The lowest threshold (in steps of 0.01) below which ``below`` of ``negatives`` lie."""
    return next(
        float(t)
        for t in np.linspace(0.01, 0.99, 99)
        if np.mean([p < t for p in negatives]) >= below
    )


def _news(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.source.startswith("news") and len(r.x)]


def fit_question(rows: Sequence[Row], scorer: answering.Calibration) -> answering.Calibration:
    """The question-level gate, on the news rows: answerable questions whose answer is among
    the candidates against the questions the indexed articles do not answer, over
    ``answering.QUESTION_FEATURES``. Its probability is one of the sure model's inputs, not a
    decision of its own: its threshold (0.5) is unused while a sure model decides.

    A sentence model learns which sentence of a question answers; whether any does is a
    question of the whole set of candidates: how close the best passage is, not only the
    best sentence.
    """
    kept = [r for r in _news(rows) if r.kind != ANSWERABLE or r.y.any()]
    x = np.asarray([answering.question_features(scorer, [tuple(v) for v in r.x]) for r in kept])
    y = np.asarray([r.kind == ANSWERABLE for r in kept])
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    return replace(
        scorer,
        question_weights=tuple(float(w) for w in model.coef_[0]),
        question_bias=float(model.intercept_[0]),
    )


def fit_topic(rows: Sequence[Row], scorer: answering.Calibration) -> answering.Calibration:
    """The topic gate, on the news and one-article rows ``unmentioned`` leaves: answerable
    questions against off-subject ones, over ``answering.TOPIC_FEATURES``. Its threshold is
    the highest that refuses at most ``FALSE_REFUSAL`` of the answerable questions of each
    source (each year's news, SQuAD's paragraphs, SQuAD's articles one at a time)."""
    kept = [
        r
        for r in rows
        if (r.source.startswith("news") or r.source == "single-fit")
        and len(r.x)
        and not r.unmentioned
        and r.kind in (ANSWERABLE, "off-subject")
    ]
    x = np.asarray([answering.topic_features([tuple(v) for v in r.x]) for r in kept])
    y = np.asarray([r.kind == ANSWERABLE for r in kept])
    model = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced").fit(x, y)
    fitted = replace(
        scorer,
        topic_weights=tuple(float(w) for w in model.coef_[0]),
        topic_bias=float(model.intercept_[0]),
    )
    answerable = [r for r in rows if r.kind == ANSWERABLE and len(r.x) and not r.unmentioned]
    threshold = min(
        float(
            np.quantile([fitted.on_topic([tuple(v) for v in r.x])[0] for r in part], FALSE_REFUSAL)
        )
        for source in sorted({r.source for r in answerable})
        if (part := [r for r in answerable if r.source == source])
    )
    return replace(fitted, topic_threshold=round(threshold, 3))


def fit_sure(rows: Sequence[Row], scorer: answering.Calibration) -> answering.Calibration:
    """The sure model, on every row the topic gate lets through (news and SQuAD's even
    paragraphs): whether the sentence the choice model picks holds the answer, over
    ``answering.SURE_FEATURES``. Its threshold is the lowest at which the answered news rows
    and the answered SQuAD rows are each right at least ``PRECISION`` of the time (the rest is
    tentative)."""
    kept = [r for r in rows if len(r.x) and outcome(r, scorer)[0] != "refused"]
    x = np.asarray([answering.sure_features(scorer, [tuple(v) for v in r.x]) for r in kept])
    y = np.asarray([r.kind == ANSWERABLE and best(r, scorer)[2] for r in kept])
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    p = model.predict_proba(x)[:, 1]

    def precise(t: float) -> bool:
        answered = p >= t
        return bool(answered.sum() >= MIN_ANSWERED and y[answered].mean() >= PRECISION)

    threshold = next((float(t) for t in np.arange(0.05, 1.0, 0.01) if precise(t)), 0.99)
    return replace(
        scorer,
        sure_weights=tuple(float(w) for w in model.coef_[0]),
        sure_bias=float(model.intercept_[0]),
        sure_threshold=round(threshold, 2),
    )


MIN_ANSWERED = 10
"""Below this many answered rows a part's precision is too noisy to set the threshold by."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write assistant/calibration.json")
    parser.add_argument(
        "--weeks-2024",
        type=int,
        default=WEEKS_2024,
        help=f"index the first N of RealTime QA 2024's odd weeks (default {WEEKS_2024})",
    )
    parser.add_argument(
        "--rows",
        type=Path,
        default=None,
        help="keep the computed candidate features in this file and reuse them",
    )
    args = parser.parse_args()
    if args.rows and args.rows.exists():
        squad, news_part, single = pickle.loads(args.rows.read_bytes())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            squad = squad_rows(Path(tmp))
            single = single_rows(Path(tmp))
        news_part = news_rows("2023") + news_rows("2024", args.weeks_2024)
        if args.rows:
            args.rows.write_bytes(pickle.dumps((squad, news_part, single)))
    fitted_on = squad[True] + news_part + [r for r in single if r.source == "single-fit"]
    cal = fit(fitted_on)
    print(
        f"sentence gate {cal.threshold:.2f}, sure {cal.sure_threshold:.2f}, "
        f"topic {cal.topic_threshold:.3f}"
    )
    for name, rows in (
        ("fit: news 2023 odd weeks", [r for r in fitted_on if r.source == "news2023"]),
        ("fit: news 2024 odd weeks", [r for r in fitted_on if r.source == "news2024"]),
        ("fit: SQuAD even paragraphs", [r for r in fitted_on if r.source == "squad"]),
        ("fit: SQuAD one article, even titles", [r for r in single if r.source == "single-fit"]),
        ("held out: SQuAD odd paragraphs", squad[False]),
        (
            "held out: SQuAD one article, odd titles",
            [r for r in single if r.source != "single-fit"],
        ),
    ):
        print(f"{name}:")
        print("\n".join(f"  {k:<28} {v:.3f}" for k, v in rates(rows, cal).items()))
    print(
        "weights:", {f: round(w, 3) for f, w in zip(answering.FEATURES, cal.weights, strict=True)}
    )
    gate = cal.gate_weights or cal.weights
    print("gate:", {f: round(w, 3) for f, w in zip(answering.FEATURES, gate, strict=True)})
    question = zip(answering.QUESTION_FEATURES, cal.question_weights or (), strict=True)
    print("question:", {f: round(w, 3) for f, w in question})
    topic = zip(answering.TOPIC_FEATURES, cal.topic_weights or (), strict=True)
    print("topic:", {f: round(w, 3) for f, w in topic})
    sure = zip(answering.SURE_FEATURES, cal.sure_weights or (), strict=True)
    print("sure:", {f: round(w, 3) for f, w in sure})
    if args.write:
        data = {
            "fitted_on": f"RealTime QA 2023 odd weeks, 2024 first {args.weeks_2024} odd weeks, "
            "SQuAD 2.0 sample even paragraphs and SQuAD 2.0 subsets even articles one at a time "
            "(benchmarks/calibrate.py)",
            "weights": dict(zip(answering.FEATURES, cal.weights, strict=True)),
            "bias": cal.bias,
            "threshold": cal.threshold,
            "second_ratio": cal.second_ratio,
            "gate": {
                "weights": dict(zip(answering.FEATURES, gate, strict=True)),
                "bias": cal.gate_bias,
            },
            "question": {
                "weights": dict(
                    zip(answering.QUESTION_FEATURES, cal.question_weights or (), strict=True)
                ),
                "bias": cal.question_bias,
                "threshold": cal.question_threshold,
            },
            "sure": {
                "weights": dict(zip(answering.SURE_FEATURES, cal.sure_weights or (), strict=True)),
                "bias": cal.sure_bias,
                "threshold": cal.sure_threshold,
            },
            "topic": {
                "weights": dict(
                    zip(answering.TOPIC_FEATURES, cal.topic_weights or (), strict=True)
                ),
                "bias": cal.topic_bias,
                "threshold": cal.topic_threshold,
            },
        }
        TARGET.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
