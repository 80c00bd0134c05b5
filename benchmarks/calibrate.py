"""Fit the answerer's sentence models, its question-level gate and their thresholds.

Training data, none of it written by this project:
- RealTime QA 2023, odd weeks (``news_data.py``): news-quiz questions over the search
  results of their weeks (answerable), and questions of held-back weeks whose answer is in
  no indexed article (unanswerable: the articles do not address them); each is asked on its
  quiz date (``as_of``), as ``benchmarks/news.py`` asks it;
- SQuAD 2.0 sample, even-numbered paragraphs: answerable questions, and the same questions
  with their paragraph withheld from the candidates (reported, not fitted on).

A candidate sentence is labelled positive when it holds an accepted answer string. The
logistic sentence models are fitted on the candidates of answerable questions; the
question-level gate on the news questions (answerable ones whose answer is among the
candidates against unanswerable ones). Each threshold is the lowest that abstains on 80% of
the unanswerable news questions, the case a news assistant meets most (SQuAD's adversarial and
withheld questions are reported as secondary figures). Rates are
reported on what the fit never saw: SQuAD's odd paragraphs here, and the even weeks of
RealTime QA by ``benchmarks/news.py``. ``--write`` stores the result in
assistant/calibration.json.

    .venv/bin/python benchmarks/calibrate.py [--write]
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
ABSTAIN = 0.8
"""The share of unanswerable news questions the threshold must abstain on."""
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
    """The candidates of one question: ``kind`` is "answerable" or why it is not."""

    source: str
    kind: str
    x: np.ndarray
    y: np.ndarray


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
    return Row(source, kind, x, np.asarray(labels))


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


def news_rows(index_dir: Path | None) -> list[Row]:
    """RealTime QA rows of the odd (tuning) weeks."""
    split = news_data.split("odd")
    bot = news.open_index(split, index_dir or news.ROOT / "build" / "news-odd", UNFITTED)
    k = bot.settings.top_k
    rows = []
    for q in tqdm(split.answerable, desc="news, answerable"):
        asked = dates.as_of(q.date)
        hits = bot.retriever.search(q.question, k, asked)
        rows.append(row(bot, "news", ANSWERABLE, q.question, hits, (q.answer,), asked))
    for q in tqdm(split.unanswerable, desc="news, unanswerable"):
        asked = dates.as_of(q.date)
        hits = bot.retriever.search(q.question, k, asked)
        rows.append(row(bot, "news", "unanswerable", q.question, hits, (), asked))
    return rows


def best(row: Row, model: answering.Calibration) -> tuple[float, bool, bool]:
    """The gate's probability that the question is answered, whether it answers, and
    whether the sentence the choice model picks holds the answer."""
    if not len(row.x):
        return 0.0, False, False
    sure, answers = model.answerable([tuple(x) for x in row.x])
    choice = row.x @ np.asarray(model.weights) + model.bias
    return sure, answers, bool(row.y[int(np.argmax(choice))])


def rates(rows: Sequence[Row], model: answering.Calibration) -> dict[str, float]:
    """Answer accuracy on answerable rows, abstention rate on each unanswerable kind."""
    right: dict[str, list[bool]] = {}
    for r in rows:
        _, answered, holds = best(r, model)
        right.setdefault(r.kind, []).append(
            answered and holds if r.kind == ANSWERABLE else not answered
        )
    return {
        f"{k} {'accuracy' if k == ANSWERABLE else 'abstained'}": float(np.mean(v))
        for k, v in sorted(right.items())
    }


def fit(rows: Sequence[Row], abstain: float = ABSTAIN) -> answering.Calibration:
    """The two sentence models, fitted on the candidates of every answerable question, and
    the lowest threshold that abstains on at least ``abstain`` of the news questions that the
    indexed articles do not address (the lowest, since an answer can be checked through its
    citations and an abstention cannot).

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
    negatives = sorted(best(r, scorer)[0] for r in rows if r.kind == "unanswerable")
    threshold = lowest(negatives, abstain)
    return fit_question(rows, replace(scorer, threshold=threshold), abstain)


def lowest(negatives: Sequence[float], abstain: float) -> float:
    """The lowest threshold (in steps of 0.01) below which ``abstain`` of ``negatives`` lie."""
    return next(
        float(t)
        for t in np.linspace(0.01, 0.99, 99)
        if np.mean([p < t for p in negatives]) >= abstain
    )


def fit_question(
    rows: Sequence[Row], scorer: answering.Calibration, abstain: float = ABSTAIN
) -> answering.Calibration:
    """The question-level gate, on the news rows: answerable questions whose answer is among
    the candidates against the questions the indexed articles do not address, over
    ``answering.QUESTION_FEATURES``. Its threshold is the lowest at which the answerer, which
    answers when either gate passes, still abstains on ``abstain`` of the latter.

    A sentence model learns which sentence of a question answers; whether any does is a
    question of the whole set of candidates: how close the best passage is, not only the
    best sentence.
    """
    kept = [
        r for r in rows if r.source == "news" and len(r.x) and (r.kind != ANSWERABLE or r.y.any())
    ]
    x = np.asarray([answering.question_features(scorer, [tuple(v) for v in r.x]) for r in kept])
    y = np.asarray([r.kind == ANSWERABLE for r in kept])
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    fitted = replace(
        scorer,
        question_weights=tuple(float(w) for w in model.coef_[0]),
        question_bias=float(model.intercept_[0]),
    )
    negatives = [[tuple(v) for v in r.x] for r in kept if r.kind == "unanswerable"]
    for t in np.linspace(0.01, 0.99, 99):
        trial = replace(fitted, question_threshold=float(t))
        if np.mean([not trial.answerable(x)[1] for x in negatives]) >= abstain:
            return trial
    return replace(fitted, question_threshold=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write assistant/calibration.json")
    parser.add_argument(
        "--news-index",
        type=Path,
        default=None,
        help="the odd weeks' index (default build/news-odd, built when missing)",
    )
    parser.add_argument(
        "--rows",
        type=Path,
        default=None,
        help="keep the computed candidate features in this file and reuse them",
    )
    args = parser.parse_args()
    if args.rows and args.rows.exists():
        squad, news_part = pickle.loads(args.rows.read_bytes())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            squad = squad_rows(Path(tmp))
        news_part = news_rows(args.news_index)
        if args.rows:
            args.rows.write_bytes(pickle.dumps((squad, news_part)))
    fitted_on = squad[True] + news_part
    cal = fit(fitted_on)
    print(f"threshold {cal.threshold:.2f}, question-level {cal.question_threshold:.2f}")
    for name, rows in (
        ("fit: news odd weeks", [r for r in fitted_on if r.source == "news"]),
        ("fit: SQuAD even paragraphs", [r for r in fitted_on if r.source == "squad"]),
        ("held out: SQuAD odd paragraphs", squad[False]),
    ):
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in rates(rows, cal).items()))
    print(
        "weights:", {f: round(w, 3) for f, w in zip(answering.FEATURES, cal.weights, strict=True)}
    )
    gate = cal.gate_weights or cal.weights
    print("gate:", {f: round(w, 3) for f, w in zip(answering.FEATURES, gate, strict=True)})
    question = zip(answering.QUESTION_FEATURES, cal.question_weights or (), strict=True)
    print("question:", {f: round(w, 3) for f, w in question})
    if args.write:
        data = {
            "fitted_on": "RealTime QA 2023 odd weeks and SQuAD 2.0 sample even paragraphs "
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
        }
        TARGET.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
