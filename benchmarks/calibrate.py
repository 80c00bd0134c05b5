"""Fit the answerer's sentence model and its abstention threshold on SQuAD 2.0.

Three kinds of question, all from ../shared/datasets/squad2-dev-500:
- answerable: the question with its paragraph in the index;
- withheld: the same question with its paragraph left out of the candidates, so the
  articles really do not say (near-topic distractors only);
- adversarial: SQuAD 2.0's human-written unanswerable questions, on-topic by design.

The sentence model is fitted on answerable questions of the even-numbered paragraphs. The
threshold is fitted on the same half to tell answerable from withheld (balanced
accuracy, one-standard-error rule); every rate is then reported on the odd half, which the
fit never saw. ``--write`` stores the result in assistant/calibration.json.

    .venv/bin/python benchmarks/calibrate.py [--write]
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import squad_data

from assistant import Assistant
from assistant import answerer as answering
from assistant.ingest import article_id, normalise

TARGET = Path(__file__).resolve().parents[1] / "assistant" / "calibration.json"


@dataclass(frozen=True)
class Row:
    kind: str  # "answerable", "withheld" or "adversarial"
    x: np.ndarray
    y: np.ndarray


def norm(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def rows_for(bot: Assistant, q: squad_data.Question, gold_article: str) -> list[Row]:
    k = bot.settings.top_k
    hits = bot.retriever.search(q.question, k * 3)
    gold = [norm(a) for a in q.answers]

    def row(kind: str, chosen: list) -> Row:  # type: ignore[type-arg]
        found = answering.candidates(q.question, q.question, chosen, bot.embedder)
        labels = [int(any(g and g in norm(c.text) for g in gold)) for c in found]
        return Row(
            kind, np.asarray([c.features for c in found], dtype=np.float64), np.asarray(labels)
        )

    if q.impossible:
        return [row("adversarial", hits[:k])]
    others = [h for h in hits if h.passage.article_id != gold_article][:k]
    return [row("answerable", hits[:k]), row("withheld", others)]


def probabilities(row: Row, cal: answering.Calibration) -> np.ndarray:
    if not len(row.x):
        return np.zeros(0)
    return 1 / (1 + np.exp(-(row.x @ np.asarray(cal.weights) + cal.bias)))


def rates(rows: list[Row], cal: answering.Calibration) -> dict[str, float]:
    """Answer accuracy on answerable rows, abstention rate on the two unanswerable kinds."""
    right: dict[str, list[bool]] = {"answerable": [], "withheld": [], "adversarial": []}
    for row in rows:
        p = probabilities(row, cal)
        best = int(np.argmax(p)) if len(p) else -1
        abstain = best < 0 or p[best] < cal.threshold
        right[row.kind].append(
            (not abstain and bool(row.y[best])) if row.kind == "answerable" else abstain
        )
    out = {
        "answer_accuracy": float(np.mean(right["answerable"])),
        "abstention_withheld": float(np.mean(right["withheld"])),
        "abstention_adversarial": float(np.mean(right["adversarial"])),
    }
    out["balanced"] = (out["answer_accuracy"] + out["abstention_withheld"]) / 2
    return out


def fit(rows: list[Row]) -> answering.Calibration:
    answerable = [r for r in rows if r.kind == "answerable" and len(r.x)]
    x = np.concatenate([r.x for r in answerable])
    y = np.concatenate([r.y for r in answerable])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    weights = tuple(float(w) for w in model.coef_[0])
    bias = float(model.intercept_[0])
    curve = [
        (rates(rows, answering.Calibration(weights, bias, float(t))), float(t))
        for t in np.linspace(0.01, 0.99, 99)
    ]
    top, _ = max(curve, key=lambda mt: mt[0]["balanced"])
    # One-standard-error rule: thresholds whose balanced accuracy is within one standard
    # error of the best are equivalent on this much data; take the lowest of them, since an
    # answer can be checked through its citations and an abstention cannot.
    n = len(answerable)
    a, b = top["answer_accuracy"], top["abstention_withheld"]
    se = 0.5 * float(np.sqrt(a * (1 - a) / n + b * (1 - b) / n))
    threshold = min(t for m, t in curve if m["balanced"] >= top["balanced"] - se)
    return answering.Calibration(weights, bias, threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write assistant/calibration.json")
    args = parser.parse_args()
    contexts, questions = squad_data.load()
    gold_ids = {cid: article_id(normalise(text)) for cid, text in contexts.items()}
    halves: dict[bool, list[Row]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        unfitted = answering.Calibration(tuple(0.0 for _ in answering.FEATURES), 0.0, 0.5)
        bot = Assistant(index_dir=Path(tmp) / "index", calibration=unfitted)
        bot.ingest([squad_data.write_corpus(contexts, Path(tmp) / "corpus")])
        for q in questions:
            half = squad_data.calibration_half(q.context_id)
            halves[half].extend(rows_for(bot, q, gold_ids[q.context_id]))
    cal = fit(halves[True])
    print(f"threshold {cal.threshold:.2f}")
    for name, rows in (("calibration half", halves[True]), ("held-out half", halves[False])):
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in rates(rows, cal).items()))
    print(
        "weights:", {f: round(w, 3) for f, w in zip(answering.FEATURES, cal.weights, strict=True)}
    )
    if args.write:
        data = {
            "fitted_on": "SQuAD 2.0 dev sample, even-numbered paragraphs (benchmarks/calibrate.py)",
            "weights": dict(zip(answering.FEATURES, cal.weights, strict=True)),
            "bias": cal.bias,
            "threshold": cal.threshold,
            "second_ratio": cal.second_ratio,
        }
        TARGET.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
