"""Gold-set regression runner: ask every gold question, judge each reply, sum it up.

Offline and deterministic, without a judge model: a reply passes when it holds every
expected phrase group, cites every evidence string, keeps every citation true to its
article, and abstains exactly when the case says it should. See :mod:`assistant.goldset`
for the file format.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError
from tqdm import tqdm

from assistant.errors import ArticleNotFoundError, GoldSetError, InputError
from assistant.goldset import GoldCase, contains, load_gold, strip_markers
from assistant.records import Answer, Article, Hit, Status

CaseKind = Literal["answerable", "abstain", "refuse"]

RETRIEVAL_DEPTH = 10
"""How many passages are retrieved per evidence case; MRR is MRR@10."""

_MARKER = re.compile(r"\[(\d+)\]")

ArticleText = Callable[[str], str | None]
"""Looks up an article's text by id; None when no such article is indexed."""


class Answerer(Protocol):
    """What the evaluator needs of an assistant (``assistant.Assistant`` has it)."""

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer: ...

    def retrieve(
        self, question: str, history: list[dict[str, str]] | None = None, k: int = 5
    ) -> list[Hit]: ...

    def article(self, article_id: str) -> Article: ...


@dataclass(frozen=True)
class CaseResult:
    """How one gold case went.

    ``reasons`` is empty when the case passed. ``evidence_rank`` is the 1-based rank of the
    first retrieved passage holding an evidence string (None: not in the top
    :data:`RETRIEVAL_DEPTH`, or the case has no evidence).
    """

    id: str
    question: str
    passed: bool
    reasons: tuple[str, ...]
    expected_abstain: bool
    abstained: bool
    answer_correct: bool
    answer: str
    expected: CaseKind = "answerable"
    status: Status = "answered"
    evidence_total: int = 0
    evidence_cited: int = 0
    citations: int = 0
    citations_supporting: int = 0
    evidence_rank: int | None = None
    latency_ms: float = 0.0

    @property
    def reason(self) -> str:
        """Why the case failed, in one line ("" when it passed)."""
        return "; ".join(self.reasons)

    def to_dict(self) -> dict[str, object]:
        """The result as JSON-ready data: ``id``, ``passed``, ``reason`` and the details."""
        data: dict[str, object] = {"id": self.id, "passed": self.passed, "reason": self.reason}
        data.update(asdict(self))
        del data["reasons"]
        return data


@dataclass(frozen=True)
class Metrics:
    """Summary numbers of a run. Shares are in [0, 1]; None where nothing was measured."""

    cases: int
    passed: int
    pass_rate: float
    answer_accuracy: float | None
    evidence_recall: float | None
    citation_precision: float | None
    hit_at_1: float | None
    hit_at_5: float | None
    mrr: float | None
    abstention_precision: float | None
    abstention_recall: float | None
    answered_precision: float | None = None
    coverage: float | None = None
    tentative_rate: float | None = None
    refusal_recall: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        """The metrics as JSON-ready data, keyed by field name."""
        return asdict(self)


@dataclass(frozen=True)
class EvalReport:
    """Every case result of a run, in gold-set order, and the metrics over them."""

    cases: tuple[CaseResult, ...]
    metrics: Metrics

    def meets(self, pass_rate: float) -> bool:
        """Whether at least ``pass_rate`` (a share in [0, 1]) of the cases passed."""
        return self.metrics.pass_rate + 1e-9 >= pass_rate

    def to_dict(self) -> dict[str, object]:
        """``{"cases": [...], "metrics": {...}}``: the ``--json`` and baseline file shape."""
        return {
            "cases": [case.to_dict() for case in self.cases],
            "metrics": self.metrics.to_dict(),
        }


@dataclass(frozen=True)
class BaselineDiff:
    """Case ids whose outcome changed since a baseline run."""

    newly_failing: tuple[str, ...]
    newly_passing: tuple[str, ...]
    new_cases: tuple[str, ...] = ()
    dropped_cases: tuple[str, ...] = ()

    @property
    def regressed(self) -> bool:
        """True when a case that passed in the baseline fails now."""
        return bool(self.newly_failing)


def evaluate(
    cases_or_paths: Iterable[GoldCase] | Iterable[str | Path],
    assistant: Answerer,
    *,
    progress: bool = False,
) -> EvalReport:
    """Run a gold set against an assistant and judge every reply.

    Args:
        cases_or_paths: Gold cases, or paths of gold files (or folders) to load them from.
        assistant: The assistant under test, e.g. ``Assistant(index_dir="index")``.
        progress: Show a progress bar on stderr.

    Returns:
        The per-case results and the metrics.

    Raises:
        GoldSetError: A gold file is malformed, or there are no cases.
    """
    items = list(cases_or_paths)
    cases = [c for c in items if isinstance(c, GoldCase)]
    paths = [p for p in items if not isinstance(p, GoldCase)]
    if cases and paths:
        raise GoldSetError("Pass either gold cases or gold file paths, not a mix.")
    if not cases:
        cases = load_gold(paths)
    texts = _article_texts(assistant)
    results = [
        run_case(case, assistant, texts)
        for case in tqdm(cases, desc="eval", unit="case", disable=not progress, leave=False)
    ]
    return EvalReport(cases=tuple(results), metrics=compute_metrics(results))


def run_case(case: GoldCase, assistant: Answerer, article_text: ArticleText) -> CaseResult:
    """Ask one gold question (timed), retrieve for its evidence, and judge the reply."""
    history = case.history_dicts() or None
    start = time.perf_counter()
    try:
        reply = assistant.ask(case.question, history=history)
    except InputError as exc:
        failed = judge(case, Answer(case.question, "", abstained=False), article_text)
        return replace(failed, passed=False, reasons=(f"error: {exc}",))
    latency_ms = (time.perf_counter() - start) * 1000
    rank = None
    if case.evidence:
        hits = assistant.retrieve(case.question, history=history, k=RETRIEVAL_DEPTH)
        rank = evidence_rank(case.evidence, hits)
    return judge(case, reply, article_text, evidence_rank=rank, latency_ms=latency_ms)


def judge(
    case: GoldCase,
    reply: Answer,
    article_text: ArticleText,
    *,
    evidence_rank: int | None = None,
    latency_ms: float = 0.0,
) -> CaseResult:
    """Decide whether ``reply`` is a correct answer to ``case``, and say why not.

    Args:
        case: The gold case.
        reply: The assistant's answer.
        article_text: Looks up an article's text by id, to check each citation's quote.
        evidence_rank: Rank of the evidence passage in retrieval, if measured.
        latency_ms: How long the answer took.

    Returns:
        The case result with its reasons for failing (none when it passed).
    """
    text = strip_markers(reply.text)
    quotes = [c.quote for c in reply.citations]
    phrases = [p for group in case.expect for p in group]
    bad_citations = _citation_problems(reply, article_text)
    missing = [g for g in case.expect if not any(contains(text, p) for p in g)]
    uncited = [e for e in case.evidence if not any(contains(q, e) for q in quotes)]
    supporting = sum(
        1
        for i, c in enumerate(reply.citations)
        if not bad_citations[i] and any(contains(c.quote, p) for p in phrases)
    )
    reasons = _reasons(case, reply, missing, uncited)
    if not reply.abstained:
        reasons += [problem for problem in bad_citations if problem]
        reasons += _marker_problems(reply)
    if case.refuse:
        correct = reply.status == "refused"
    elif case.abstain:
        correct = reply.status != "answered"
    else:
        correct = not reply.abstained and not missing
    return CaseResult(
        id=case.id,
        question=case.question,
        passed=not reasons,
        reasons=tuple(reasons),
        expected_abstain=not case.answerable,
        abstained=reply.abstained,
        answer_correct=correct,
        answer=reply.text,
        evidence_total=len(case.evidence),
        evidence_cited=len(case.evidence) - len(uncited),
        citations=len(reply.citations),
        citations_supporting=supporting,
        evidence_rank=evidence_rank,
        latency_ms=latency_ms,
        expected="refuse" if case.refuse else "abstain" if case.abstain else "answerable",
        status=reply.status,
    )


def evidence_rank(evidence: Sequence[str], hits: Sequence[Hit]) -> int | None:
    """1-based rank of the first hit whose passage holds any evidence string, or None."""
    for rank, hit in enumerate(hits, start=1):
        if any(contains(hit.passage.text, e) for e in evidence):
            return rank
    return None


def compute_metrics(results: Sequence[CaseResult]) -> Metrics:
    """Sum case results up into :class:`Metrics`.

    Answer accuracy is over cases that expect an answer (answered or tentative, every group
    found); evidence recall over evidence strings; citation precision over all citations
    given, a citation counting when its quote is true to its article and holds an expected
    phrase; hit@k and MRR@10 over cases with evidence; abstention precision over refused
    replies (the case is ``abstain`` or ``refuse``), abstention recall over those cases (the
    reply is not ``answered``); answered precision over ``answered`` replies (the case is
    answerable and the answer right), coverage over answerable cases (right and
    ``answered``), tentative rate over all replies, refusal recall over ``refuse`` cases
    (``refused``); latency over all asks.
    """
    answerable = [r for r in results if not r.expected_abstain]
    with_evidence = [r for r in results if r.evidence_total]
    abstained = [r for r in results if r.abstained]
    should = [r for r in results if r.expected_abstain]
    answered = [r for r in results if r.status == "answered"]
    right = [r.answer_correct and r.expected == "answerable" for r in answered]
    latencies = sorted(r.latency_ms for r in results)
    passed = sum(r.passed for r in results)
    return Metrics(
        cases=len(results),
        passed=passed,
        pass_rate=passed / len(results) if results else 0.0,
        answer_accuracy=_share([r.answer_correct for r in answerable]),
        evidence_recall=_ratio(
            sum(r.evidence_cited for r in results), sum(r.evidence_total for r in results)
        ),
        citation_precision=_ratio(
            sum(r.citations_supporting for r in results), sum(r.citations for r in results)
        ),
        hit_at_1=_share([r.evidence_rank == 1 for r in with_evidence]),
        hit_at_5=_share([(r.evidence_rank or 99) <= 5 for r in with_evidence]),
        mrr=_mean([1 / r.evidence_rank if r.evidence_rank else 0.0 for r in with_evidence]),
        abstention_precision=_share([r.expected_abstain for r in abstained]),
        abstention_recall=_share([r.status != "answered" for r in should]),
        answered_precision=_share(right),
        coverage=_share([r.answer_correct and r.status == "answered" for r in answerable]),
        tentative_rate=_share([r.status == "tentative" for r in results]),
        refusal_recall=_share([r.status == "refused" for r in results if r.expected == "refuse"]),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
    )


def write_report(report: EvalReport, path: str | Path) -> None:
    """Write ``report.to_dict()`` as JSON: the ``--json`` file, also usable as a baseline."""
    try:
        Path(path).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc}).") from exc


class _BaselineCase(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    passed: bool


class _Baseline(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cases: list[_BaselineCase]


def load_baseline(path: str | Path) -> dict[str, bool]:
    """Read a baseline (a file written by ``--save-baseline`` or ``--json``).

    Returns:
        Whether each case passed, by case id.

    Raises:
        InputError: The file is missing or is not a baseline.
    """
    try:
        data = _Baseline.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the baseline ({exc}).") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{path}: not a baseline ({where}: {first['msg']})"
            " - write one with `assistant eval GOLD --save-baseline FILE`."
        ) from exc
    return {case.id: case.passed for case in data.cases}


def diff_baseline(report: EvalReport, baseline: Mapping[str, bool]) -> BaselineDiff:
    """Which cases newly fail and newly pass compared with ``baseline`` (id -> passed)."""
    now = {case.id: case.passed for case in report.cases}
    return BaselineDiff(
        newly_failing=tuple(i for i, ok in now.items() if baseline.get(i) is True and not ok),
        newly_passing=tuple(i for i, ok in now.items() if baseline.get(i) is False and ok),
        new_cases=tuple(i for i in now if i not in baseline),
        dropped_cases=tuple(i for i in baseline if i not in now),
    )


def format_table(report: EvalReport) -> str:
    """The per-case table (status, id, why it failed) followed by the metrics."""
    width = min(max((len(c.id) for c in report.cases), default=2), 40)
    lines = [f"{'':4}  {'case':<{width}}  reason"]
    for case in report.cases:
        status = "pass" if case.passed else "FAIL"
        lines.append(f"{status:4}  {case.id:<{width}}  {case.reason}".rstrip())
    lines += ["", *format_metrics(report.metrics)]
    return "\n".join(lines)


def format_metrics(metrics: Metrics) -> list[str]:
    """One line per metric: shares as percentages, latencies in ms, "n/a" if unmeasured."""
    shares = {
        "answer accuracy": metrics.answer_accuracy,
        "evidence recall": metrics.evidence_recall,
        "citation precision": metrics.citation_precision,
        "retrieval hit@1": metrics.hit_at_1,
        "retrieval hit@5": metrics.hit_at_5,
        "abstention precision": metrics.abstention_precision,
        "abstention recall": metrics.abstention_recall,
        "answered precision": metrics.answered_precision,
        "coverage (answered)": metrics.coverage,
        "tentative rate": metrics.tentative_rate,
        "refusal recall": metrics.refusal_recall,
    }
    lines = [f"{name:<22}{_pct(value)}" for name, value in shares.items()]
    lines.insert(5, f"{'retrieval MRR@10':<22}{_num(metrics.mrr, '.3f')}")
    lines.append(f"{'latency p50':<22}{_num(metrics.latency_p50_ms, '.0f')} ms")
    lines.append(f"{'latency p95':<22}{_num(metrics.latency_p95_ms, '.0f')} ms")
    return lines


def format_diff(diff: BaselineDiff) -> str:
    """Lines naming the cases that newly fail, newly pass, are new or were dropped."""
    groups = {
        "newly failing": diff.newly_failing,
        "newly passing": diff.newly_passing,
        "not in baseline": diff.new_cases,
        "dropped since baseline": diff.dropped_cases,
    }
    lines = [f"{name}: {', '.join(ids)}" for name, ids in groups.items() if ids]
    return "\n".join(lines) or "no change against the baseline"


def summary_line(report: EvalReport, pass_rate: float) -> str:
    """One line: how many cases passed, and whether that meets ``pass_rate``."""
    m = report.metrics
    verdict = "ok" if report.meets(pass_rate) else "FAILED"
    return (
        f"{m.passed}/{m.cases} cases passed ({m.pass_rate:.0%}); "
        f"required {pass_rate:.0%}: {verdict}"
    )


def _article_texts(assistant: Answerer) -> ArticleText:
    cache: dict[str, str | None] = {}

    def lookup(article_id: str) -> str | None:
        if article_id not in cache:
            try:
                cache[article_id] = assistant.article(article_id).text
            except ArticleNotFoundError:
                cache[article_id] = None
        return cache[article_id]

    return lookup


def _reasons(
    case: GoldCase, reply: Answer, missing: list[tuple[str, ...]], uncited: list[str]
) -> list[str]:
    if case.refuse:
        return [] if reply.status == "refused" else [f"should have refused, was {reply.status}"]
    if case.abstain:
        return [] if reply.status != "answered" else ["answered what the articles do not say"]
    if reply.abstained:
        return ["refused wrongly"]
    reasons = ["missing phrase: " + " or ".join(repr(p) for p in group) for group in missing]
    return reasons + [f"evidence not cited: {e!r}" for e in uncited]


def _citation_problems(reply: Answer, article_text: ArticleText) -> list[str]:
    problems = []
    for c in reply.citations:
        text = article_text(c.article_id)
        if text is None:
            problems.append(f"citation [{c.marker}] names an article not in the index")
        elif text[c.start : c.end] != c.quote or not c.quote:
            problems.append(f"citation [{c.marker}] does not match its article")
        else:
            problems.append("")
    return problems


def _marker_problems(reply: Answer) -> list[str]:
    markers = {c.marker for c in reply.citations}
    used = {int(n) for n in _MARKER.findall(reply.text)}
    return [f"marker [{n}] names no citation" for n in sorted(used - markers)]


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile of sorted values (numpy's default method)."""
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
