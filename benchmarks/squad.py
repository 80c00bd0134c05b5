"""Run the gold-set evaluator over the SQuAD 2.0 dev sample and print its metrics.

The 500 questions are turned into gold cases on the fly (the data is never copied into the
repository): an answerable question expects one group holding its accepted answers, with the
answer and a few words around it in its paragraph as evidence; an unanswerable one expects an
abstention. Paragraphs are ingested into a temporary index.

    .venv/bin/python benchmarks/squad.py [--limit N] [--json FILE]

The dataset is read from ``ASSISTANT_SQUAD_DIR`` or ``../shared/datasets/squad2-dev-500``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import squad_data

from assistant import Assistant
from assistant.evaluate import (
    CaseResult,
    compute_metrics,
    evaluate,
    format_metrics,
    write_report,
)
from assistant.goldset import GoldCase, normalize

_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\"”’][.!?])\s+(?=[A-Z0-9\"“(])")
EVIDENCE_WORDS = 3

NOTE = """\
Notes: "answer accuracy" counts an answerable question as right when the reply (answered or
tentative) holds one of SQuAD's accepted answers in its sentence(s) (normalised, whole words),
so it is more lenient than SQuAD's exact match on a span; "coverage" counts those answered;
an unanswerable (adversarial) question is right when the reply is not answered (the
abstention-recall row: refused or tentative). The evidence is the answer with up to 3 words
around it in its own paragraph, so hit@k and MRR measure whether that paragraph's passage was
retrieved.
The answerer's calibration was fitted on the even-numbered paragraphs (benchmarks/calibrate.py),
so the "held-out" column, over the odd-numbered ones, is the honest one."""


def evidence_window(context: str, answer: str, words: int = EVIDENCE_WORDS) -> str:
    """The answer with up to ``words`` words either side, inside one sentence if possible."""
    target = normalize(answer).split()
    for text in [*_SENTENCE_END.split(context), context]:
        tokens = normalize(text).split()
        for i in range(len(tokens) - len(target) + 1):
            if tokens[i : i + len(target)] == target:
                return " ".join(tokens[max(0, i - words) : i + len(target) + words])
    return " ".join(target)


def gold_case(question: squad_data.Question, context: str) -> GoldCase | None:
    """The gold case for one SQuAD question (None when no accepted answer has any words)."""
    if question.impossible:
        return GoldCase(id=question.id, question=question.question.strip(), abstain=True)
    answers = tuple(dict.fromkeys(a for a in question.answers if normalize(a)))
    if not answers:
        return None
    shortest = min(answers, key=len)
    return GoldCase(
        id=question.id,
        question=question.question.strip(),
        expect=(answers,),
        evidence=(evidence_window(context, shortest),),
    )


def report_rows(results: Sequence[CaseResult]) -> list[str]:
    """Metric lines for a subset of results, plus the share of answerable ones abstained on."""
    metrics = compute_metrics(results)
    answerable = [r for r in results if not r.expected_abstain]
    wrongly = sum(r.abstained for r in answerable) / max(len(answerable), 1)
    lines = [f"{'cases':<22}{metrics.cases}", f"{'answerable':<22}{len(answerable)}"]
    lines += format_metrics(metrics)
    lines.append(f"{'abstained, answerable':<22}{wrongly:.1%}")
    lines.append(f"{'cases passed':<22}{metrics.pass_rate:.1%}")
    return lines


def side_by_side(columns: dict[str, list[str]]) -> str:
    """Print metric blocks as columns: the first keeps its labels, the others their values."""
    names = list(columns)
    first = columns[names[0]]
    header = f"{'':<22}" + "".join(f"{n:>14}" for n in names)
    rows = [header]
    for i, line in enumerate(first):
        values = [columns[n][i][22:] for n in names]
        rows.append(f"{line[:22]}" + "".join(f"{v:>14}" for v in values))
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the index, run the evaluator, print the metrics. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="run only the first N questions")
    parser.add_argument("--json", type=Path, default=None, help="also write the full report")
    args = parser.parse_args(argv)
    contexts, questions = squad_data.load()
    questions = questions[: args.limit] if args.limit else questions
    cases = [c for q in questions if (c := gold_case(q, contexts[q.context_id]))]
    held_out = {q.id for q in questions if not squad_data.calibration_half(q.context_id)}
    print(f"SQuAD 2.0 dev sample from {squad_data.dataset_dir()}: {len(cases)} cases")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        bot = Assistant(index_dir=Path(tmp) / "index")
        bot.ingest([squad_data.write_corpus(contexts, Path(tmp) / "corpus")])
        ingested = time.perf_counter() - started
        report = evaluate(cases, bot, progress=True)
        total = time.perf_counter() - started
    if args.json:
        write_report(report, args.json)
    columns = {
        "all": report_rows(report.cases),
        "held-out": report_rows([r for r in report.cases if r.id in held_out]),
    }
    print(side_by_side(columns))
    print(f"\n{len(contexts)} paragraphs ingested in {ingested:.0f} s; total {total:.0f} s")
    print(NOTE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
