"""Fit and report the verifier's similarity floor (``assistant/verification.json``).

A generated sentence is kept only when its embedding is at least ``support_floor`` similar to
a sentence it cites (names, numbers and dates are checked separately, by ``verify.py``). The
floor is a lenient guard against citing an unrelated source: it is set so that 95% of
supported claims pass.

Data: the SQuAD 2.0 sample's answerable questions. A supported pair is a claim (the question
followed by its answer) and the paragraph sentence holding the answer; unsupported pairs are
the same claim with another sentence of the same paragraph (same topic, other facts) and with
a sentence of another paragraph. Fitted on the even paragraphs, reported on the odd ones.

    python benchmarks/support_floor.py           # report
    python benchmarks/support_floor.py --write   # fit and store the floor
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
import squad_data

from assistant.chunking import split_sentences
from assistant.embedding import SentenceTransformerEmbedder

KEEP = 0.95
OUT = Path(__file__).resolve().parents[1] / "assistant" / "verification.json"


def pairs(
    contexts: dict[str, str], questions: list[squad_data.Question], even: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Supported, same-paragraph and other-paragraph (claim, sentence) pairs of one half."""
    rng = random.Random(7)
    sentences = {
        cid: [text[s.start : s.end] for s in split_sentences(text)]
        for cid, text in contexts.items()
    }
    others = [cid for cid in contexts if squad_data.calibration_half(cid) == even]
    supported, same, other = [], [], []
    for q in questions:
        if q.impossible or squad_data.calibration_half(q.context_id) != even:
            continue
        answer = q.answers[0]
        holding = [s for s in sentences[q.context_id] if answer in s]
        rest = [s for s in sentences[q.context_id] if not any(a in s for a in q.answers)]
        if not holding:
            continue
        claim = f"{q.question.rstrip('?')}: {answer}."
        supported.append((claim, holding[0]))
        if rest:
            same.append((claim, rng.choice(rest)))
        foreign = rng.choice([c for c in others if c != q.context_id])
        other.append((claim, rng.choice(sentences[foreign])))
    return supported, same, other


def similarities(embedder: SentenceTransformerEmbedder, rows: list[tuple[str, str]]) -> np.ndarray:
    a = embedder.embed([c for c, _ in rows])
    b = embedder.embed([s for _, s in rows])
    return np.asarray((a * b).sum(axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the fitted floor")
    args = parser.parse_args()
    contexts, questions = squad_data.load()
    embedder = SentenceTransformerEmbedder()
    fit = similarities(embedder, pairs(contexts, questions, even=True)[0])
    floor = round(float(np.quantile(fit, 1 - KEEP)), 3)
    print(f"fitted on {len(fit)} supported pairs (SQuAD even paragraphs): floor {floor}")
    supported, same, other = (similarities(embedder, p) for p in pairs(contexts, questions, False))
    print("held out (SQuAD odd paragraphs):")
    print(f"  supported claims kept:                 {np.mean(supported >= floor):.1%}")
    print(f"  other sentence of the same paragraph:  {np.mean(same < floor):.1%} rejected")
    print(f"  sentence of another paragraph:         {np.mean(other < floor):.1%} rejected")
    if args.write:
        OUT.write_text(
            json.dumps(
                {
                    "fitted_on": "SQuAD 2.0 sample, even paragraphs (benchmarks/support_floor.py)",
                    "support_floor": floor,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
