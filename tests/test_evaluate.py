"""The gold-set runner: judging replies, metrics, baselines, and the gate failing when it should.

The unit tests use a scripted assistant over the bundled article (no model); the tests marked
``slow`` at the end run the bundled gold set through the real model and Chroma as a gate.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from assistant.errors import ArticleNotFoundError, GoldSetError, InputError
from assistant.evaluate import (
    Answerer,
    CaseResult,
    EvalReport,
    compute_metrics,
    diff_baseline,
    evaluate,
    format_diff,
    format_table,
    judge,
    load_baseline,
    summary_line,
    write_report,
)
from assistant.goldset import GoldCase
from assistant.records import Answer, Article, Citation, Hit, Passage, Span

TEXT = (Path(__file__).parents[1] / "articles" / "ukraine-russia-istanbul-talks.txt").read_text(
    encoding="utf-8"
)
SENTENCES = [line for line in TEXT.split("\n") if line]
ARTICLE = Article(id="a1", title=SENTENCES[0], text=TEXT)
KREMLIN = "The Kremlin has proposed a limited ceasefire lasting two to three days"
MEDINSKY = "led by Vladimir Medinsky"
PRISONERS = "exchange of 1,000 prisoners"

CEASEFIRE = GoldCase(
    id="ceasefire-length",
    question="What did Russia propose on ceasefire length?",
    expect=(("two to three days", "2-3 days"),),
    evidence=("limited ceasefire lasting two to three days",),
)
DEMANDS = GoldCase(
    id="who-leads-then-demands",
    history=({"role": "user", "content": "Who leads the Russian delegation?"},),  # type: ignore[arg-type]
    question="What does he demand?",
    expect=(("sanctions",),),
)
FOOTBALL = GoldCase(id="football", question="Who won the football match?", refuse=True)
CHINA = GoldCase(id="china", question="What did China say about the talks?", abstain=True)
WRONG = GoldCase(
    id="deliberately-wrong",
    question="What did Russia propose on ceasefire length?",
    expect=(("two weeks",),),
)


def sentence_with(fragment: str) -> str:
    return next(s for s in SENTENCES if fragment in s)


def cite(marker: int, fragment: str) -> Citation:
    quote = sentence_with(fragment)
    start = TEXT.index(quote)
    return Citation(marker, "a1", ARTICLE.title, start, start + len(quote), quote)


def reply(*fragments: str, question: str = "q") -> Answer:
    """An extractive answer citing the sentences holding ``fragments`` (none: abstain)."""
    if not fragments:
        return Answer(question, "The articles don't say.", abstained=True)
    citations = tuple(cite(n, f) for n, f in enumerate(fragments, 1))
    text = " ".join(f"{c.quote} [{c.marker}]" for c in citations)
    return Answer(question, text, abstained=False, citations=citations)


def article_text(article_id: str) -> str | None:
    return TEXT if article_id == "a1" else None


class ScriptedAssistant:
    """Answers each question by citing scripted sentences; retrieval ranks them first."""

    def __init__(self, script: dict[str, tuple[str, ...]]) -> None:
        self.script = script
        self.asked: list[tuple[str, list[dict[str, str]] | None]] = []

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> Answer:
        self.asked.append((question, history))
        if question == "raise":
            raise InputError("The question is empty - type a question about the articles.")
        return reply(*self.script.get(question, ()), question=question)

    def retrieve(
        self, question: str, history: list[dict[str, str]] | None = None, k: int = 5
    ) -> list[Hit]:
        wanted = [sentence_with(f) for f in self.script.get(question, ())]
        ordered = wanted + [s for s in SENTENCES if s not in wanted]
        return [self._hit(n, s) for n, s in enumerate(ordered[:k])]

    def article(self, article_id: str) -> Article:
        if article_id != "a1":
            raise ArticleNotFoundError(f"No article with id {article_id!r}.")
        return ARTICLE

    @staticmethod
    def _hit(n: int, sentence: str) -> Hit:
        start = TEXT.index(sentence)
        end = start + len(sentence)
        passage = Passage(f"a1:{n}", "a1", n, start, end, sentence, (Span(start, end),))
        return Hit(passage, similarity=1.0 - n / 100, score=1.0 - n / 100)


SCRIPT = {
    CEASEFIRE.question: (KREMLIN,),
    DEMANDS.question: (MEDINSKY,),
}


def test_correct_extractive_answer_passes() -> None:
    result = judge(CEASEFIRE, reply(KREMLIN), article_text)
    assert result.passed
    assert result.reason == ""
    assert (result.evidence_cited, result.citations, result.citations_supporting) == (1, 1, 1)


def test_missing_phrase_is_named() -> None:
    result = judge(CEASEFIRE, reply(MEDINSKY), article_text)
    assert not result.passed
    assert "missing phrase: 'two to three days' or '2-3 days'" in result.reason
    assert "evidence not cited: 'limited ceasefire lasting two to three days'" in result.reason
    assert result.citations_supporting == 0


def test_every_group_must_match() -> None:
    case = GoldCase(id="both", question="q", expect=(("Medinsky",), ("two to three days",)))
    assert not judge(case, reply(MEDINSKY), article_text).passed
    assert judge(case, reply(MEDINSKY, KREMLIN), article_text).passed


def test_phrase_in_answer_but_evidence_not_cited() -> None:
    case = GoldCase(id="c", question="q", expect=(("sanctions",),), evidence=("new sanctions",))
    result = judge(case, reply(MEDINSKY), article_text)
    assert result.reasons == ("evidence not cited: 'new sanctions'",)


def test_marker_numbers_never_match_expected_numbers() -> None:
    case = GoldCase(id="c", question="q", expect=(("1",),))
    assert "missing phrase: '1'" in judge(case, reply(KREMLIN), article_text).reason


def test_should_have_refused() -> None:
    result = judge(FOOTBALL, reply(KREMLIN), article_text)
    assert result.reasons == ("should have refused, was answered",)
    assert result.citations == 1 and result.citations_supporting == 0
    tentative = replace(reply(KREMLIN), status="tentative")
    assert judge(FOOTBALL, tentative, article_text).reasons == (
        "should have refused, was tentative",
    )


def test_refused_wrongly() -> None:
    result = judge(CEASEFIRE, reply(), article_text)
    assert result.reasons == ("refused wrongly",)
    assert result.evidence_cited == 0


def test_correct_refusal_passes() -> None:
    assert judge(FOOTBALL, reply(), article_text).passed


def test_an_unanswerable_case_passes_unless_answered() -> None:
    assert judge(CHINA, reply(), article_text).passed
    assert judge(CHINA, replace(reply(KREMLIN), status="tentative"), article_text).passed
    answered = judge(CHINA, reply(KREMLIN), article_text)
    assert answered.reasons == ("answered what the articles do not say",)


def test_a_tentative_reply_holding_the_answer_passes_an_answerable_case() -> None:
    tentative = replace(reply(KREMLIN), status="tentative")
    result = judge(CEASEFIRE, tentative, article_text)
    assert result.passed and result.answer_correct and result.status == "tentative"


def test_citation_that_does_not_match_its_article_fails_the_case() -> None:
    good = reply(KREMLIN)
    bad = Citation(1, "a1", "t", good.citations[0].start + 1, good.citations[0].end, KREMLIN)
    result = judge(CEASEFIRE, Answer("q", good.text, False, (bad,)), article_text)
    assert "citation [1] does not match its article" in result.reasons
    assert result.citations_supporting == 0


def test_citation_of_an_unknown_article_and_a_dangling_marker_fail() -> None:
    good = reply(KREMLIN)
    alien = Citation(1, "zz", "t", 0, 10, TEXT[:10])
    result = judge(CEASEFIRE, Answer("q", good.text + " More [2].", False, (alien,)), article_text)
    assert "citation [1] names an article not in the index" in result.reasons
    assert "marker [2] names no citation" in result.reasons


def result(**fields: object) -> CaseResult:
    base: dict[str, object] = {
        "id": "x",
        "question": "q",
        "passed": True,
        "reasons": (),
        "expected_abstain": False,
        "abstained": False,
        "answer_correct": True,
        "answer": "",
    }
    if fields.get("abstained"):
        base["status"] = "refused"
    if fields.get("expected_abstain"):
        base["expected"] = "abstain"
    return CaseResult(**{**base, **fields})  # type: ignore[arg-type]


def test_metrics_are_computed_over_the_right_cases() -> None:
    results = [
        result(
            evidence_total=1,
            evidence_cited=1,
            citations=2,
            citations_supporting=1,
            evidence_rank=1,
            latency_ms=10.0,
        ),
        result(
            passed=False,
            answer_correct=False,
            evidence_total=2,
            evidence_cited=0,
            citations=1,
            evidence_rank=4,
            latency_ms=20.0,
        ),
        result(
            passed=False, answer_correct=False, abstained=True, evidence_total=1, latency_ms=30.0
        ),
        result(expected_abstain=True, abstained=True, latency_ms=40.0),
        result(
            passed=False, expected_abstain=True, answer_correct=False, citations=1, latency_ms=50.0
        ),
    ]
    m = compute_metrics(results)
    assert (m.cases, m.passed, m.pass_rate) == (5, 2, 0.4)
    assert m.answer_accuracy == pytest.approx(1 / 3)
    assert m.evidence_recall == pytest.approx(1 / 4)
    assert m.citation_precision == pytest.approx(1 / 4)
    assert m.hit_at_1 == pytest.approx(1 / 3)
    assert m.hit_at_5 == pytest.approx(2 / 3)
    assert m.mrr == pytest.approx((1 + 1 / 4) / 3)
    assert m.abstention_precision == pytest.approx(1 / 2)
    assert m.abstention_recall == pytest.approx(1 / 2)
    assert m.answered_precision == pytest.approx(1 / 3)  # one right of three answered
    assert m.coverage == pytest.approx(1 / 3)
    assert m.tentative_rate == 0.0
    assert m.refusal_recall is None
    assert m.latency_p50_ms == pytest.approx(30.0)
    assert m.latency_p95_ms == pytest.approx(48.0)


def test_unmeasured_metrics_are_none_not_zero() -> None:
    m = compute_metrics([result()])
    assert m.evidence_recall is None and m.hit_at_1 is None and m.mrr is None
    assert m.abstention_precision is None and m.abstention_recall is None
    assert "n/a" in format_table(EvalReport((result(),), m))


def test_issue_example_passes_through_the_runner() -> None:
    bot = ScriptedAssistant(SCRIPT)
    report = evaluate([CEASEFIRE, DEMANDS, FOOTBALL], bot)
    assert [c.passed for c in report.cases] == [True, True, True]
    assert report.meets(1.0)
    assert report.metrics.hit_at_1 == 1.0
    assert bot.asked[1] == (DEMANDS.question, [DEMANDS.history[0].model_dump()])
    assert bot.asked[0] == (CEASEFIRE.question, None)


def test_a_deliberately_wrong_case_fails_the_run() -> None:
    report = evaluate([CEASEFIRE, DEMANDS, FOOTBALL, WRONG], ScriptedAssistant(SCRIPT))
    assert not report.meets(1.0)
    assert report.meets(0.75)
    failed = [c for c in report.cases if not c.passed]
    assert [c.id for c in failed] == ["deliberately-wrong"]
    assert "missing phrase: 'two weeks'" in failed[0].reason
    assert "FAILED" in summary_line(report, 1.0)
    assert "3/4 cases passed (75%)" in summary_line(report, 1.0)
    assert "FAIL  deliberately-wrong" in format_table(report)


def test_an_assistant_error_fails_the_case_not_the_run() -> None:
    case = GoldCase(id="raises", question="raise", expect=(("x",),))
    report = evaluate([case, FOOTBALL], ScriptedAssistant({}))
    assert report.cases[0].reason.startswith("error: The question is empty")
    assert report.cases[1].passed


def test_gold_files_can_be_passed_as_paths(tmp_path: Path) -> None:
    gold = tmp_path / "g.jsonl"
    gold.write_text(CEASEFIRE.model_dump_json() + "\n" + FOOTBALL.model_dump_json() + "\n")
    report = evaluate([gold], ScriptedAssistant(SCRIPT))
    assert [c.id for c in report.cases] == ["ceasefire-length", "football"]
    with pytest.raises(GoldSetError, match="not a mix"):
        evaluate([gold, FOOTBALL], ScriptedAssistant(SCRIPT))  # type: ignore[list-item]


def test_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    evaluate([FOOTBALL], ScriptedAssistant({}), progress=True)
    assert "eval" in capsys.readouterr().err


def test_json_report_has_the_documented_shape(tmp_path: Path) -> None:
    report = evaluate([CEASEFIRE, FOOTBALL], ScriptedAssistant(SCRIPT))
    path = tmp_path / "out.json"
    write_report(report, path)
    data = json.loads(path.read_text())
    assert {"id", "passed", "reason"} <= set(data["cases"][0])
    assert {
        "answer_accuracy",
        "evidence_recall",
        "citation_precision",
        "hit_at_1",
        "hit_at_5",
        "mrr",
        "abstention_precision",
        "abstention_recall",
        "answered_precision",
        "coverage",
        "tentative_rate",
        "refusal_recall",
        "latency_p50_ms",
        "latency_p95_ms",
    } <= set(data["metrics"])


def test_baseline_diff_names_a_newly_failing_case(tmp_path: Path) -> None:
    before = evaluate([CEASEFIRE, DEMANDS, FOOTBALL], ScriptedAssistant(SCRIPT))
    write_report(before, tmp_path / "baseline.json")
    broken = dict(SCRIPT, **{CEASEFIRE.question: (MEDINSKY,)})
    after = evaluate([CEASEFIRE, DEMANDS, FOOTBALL, WRONG], ScriptedAssistant(broken))
    diff = diff_baseline(after, load_baseline(tmp_path / "baseline.json"))
    assert diff.newly_failing == ("ceasefire-length",)
    assert diff.regressed
    assert diff.new_cases == ("deliberately-wrong",)
    assert "newly failing: ceasefire-length" in format_diff(diff)


def test_baseline_diff_names_a_newly_passing_case() -> None:
    before = evaluate([CEASEFIRE, FOOTBALL], ScriptedAssistant({}))
    after = evaluate([CEASEFIRE], ScriptedAssistant(SCRIPT))
    diff = diff_baseline(after, {c.id: c.passed for c in before.cases})
    assert (diff.newly_failing, diff.newly_passing) == ((), ("ceasefire-length",))
    assert diff.dropped_cases == ("football",)
    assert not diff.regressed
    assert format_diff(diff_baseline(after, {"ceasefire-length": True})) == (
        "no change against the baseline"
    )


def test_a_bad_baseline_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"cases": [{"id": "a"}]}')
    with pytest.raises(InputError, match=r"b\.json: not a baseline .*--save-baseline"):
        load_baseline(path)
    with pytest.raises(InputError, match="cannot read the baseline"):
        load_baseline(tmp_path / "missing.json")


# End to end: the bundled gold set through the real model and Chroma, as a gate --------------

GOLD = Path(__file__).parent / "gold"
ARTICLES = Path(__file__).parents[1] / "articles"
GATE_PASS_RATE = "0.84"
"""Measured 130 of the 150 cases of tests/gold passing (0.867); the gate sits four cases below.
Raise it as answers improve (see the README for the command)."""
GATE_FLOORS = {
    "hit_at_5": 0.9,
    "answer_accuracy": 0.75,
    "abstention_recall": 0.95,
    "refusal_recall": 0.95,
    "citation_precision": 0.3,
}
"""Measured hit@5 0.98; answerable cases whose reply (answered or tentative) holds the answer
0.802 (81 of 101); unanswerable cases not answered 1.0 (49 of 49); off-subject cases refused
1.0 (24 of 24); citation precision 0.363 (a tentative reply cites the closest two sentences):
a regression in retrieval, answering, refusing or citing trips the gate."""
MEDINSKY_CASE = GoldCase(
    id="who-leads-russian-team",
    question="Who leads the Russian negotiating team?",
    expect=(("Medinsky",),),
)


@pytest.fixture(scope="module")
def gate_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assistant import Assistant

    path = tmp_path_factory.mktemp("gate") / "index"
    Assistant(index_dir=path).ingest([ARTICLES])
    return path


@pytest.fixture(scope="module")
def real_assistant(gate_index: Path) -> Answerer:
    from assistant import Assistant

    return Assistant(index_dir=gate_index, create=False)


@pytest.mark.slow
def test_bundled_gold_set_gate(gate_index: Path, tmp_path: Path) -> None:
    """``assistant eval tests/gold --pass-rate P`` exits 0, with the metric floors met."""
    out = tmp_path / "report.json"
    args = [GOLD, "--index", gate_index, "--pass-rate", GATE_PASS_RATE, "--json", out]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())["metrics"]
    for name, floor in GATE_FLOORS.items():
        assert (metrics[name] or 0.0) >= floor, (name, metrics[name])


@pytest.mark.slow
def test_gate_fails_on_a_deliberately_wrong_case(real_assistant: Answerer) -> None:
    report = evaluate([MEDINSKY_CASE, WRONG], real_assistant)
    assert not report.meets(1.0)
    assert [c.id for c in report.cases if not c.passed] == ["deliberately-wrong"]


@pytest.mark.slow
def test_baseline_names_a_newly_failing_case(real_assistant: Answerer, tmp_path: Path) -> None:
    write_report(evaluate([MEDINSKY_CASE, FOOTBALL], real_assistant), tmp_path / "base.json")
    broken = MEDINSKY_CASE.model_copy(update={"expect": (("Lavrov",),)})
    diff = diff_baseline(
        evaluate([broken, FOOTBALL], real_assistant), load_baseline(tmp_path / "base.json")
    )
    assert diff.newly_failing == ("who-leads-russian-team",)
    assert diff.regressed


# The `assistant eval` command, over the scripted assistant -----------------------------------


def run_cli(*args: object) -> Result:
    from assistant.cli import app

    return CliRunner().invoke(app, ["eval", *map(str, args)])


def gold_file(path: Path, *cases: GoldCase) -> Path:
    path.write_text("".join(c.model_dump_json(exclude_defaults=True) + "\n" for c in cases))
    return path


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedAssistant:
    bot = ScriptedAssistant(SCRIPT)
    monkeypatch.setattr("assistant.cli.open_assistant", lambda index, create=False: bot)
    return bot


def test_cli_prints_table_metrics_and_summary(scripted: ScriptedAssistant, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = run_cli(gold_file(tmp_path / "g.jsonl", CEASEFIRE, FOOTBALL), "--json", out)
    assert result.exit_code == 0, result.output
    assert "pass  ceasefire-length" in result.output
    assert "answer accuracy       100.0%" in result.output
    assert "2/2 cases passed (100%); required 100%: ok" in result.output
    assert json.loads(out.read_text())["metrics"]["answer_accuracy"] == 1.0


def test_cli_exits_1_below_the_pass_rate(scripted: ScriptedAssistant, tmp_path: Path) -> None:
    gold = gold_file(tmp_path / "g.jsonl", CEASEFIRE, DEMANDS, FOOTBALL, WRONG)
    failed = run_cli(gold)
    assert failed.exit_code == 1
    assert re.search(r"FAIL  deliberately-wrong +missing phrase: 'two weeks'", failed.output)
    assert run_cli(gold, "--pass-rate", "0.75").exit_code == 0


def test_cli_baseline_names_newly_failing(scripted: ScriptedAssistant, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    saved = run_cli(gold_file(tmp_path / "g.jsonl", CEASEFIRE), "--save-baseline", base)
    assert saved.exit_code == 0, saved.output
    scripted.script = {}
    result = run_cli(tmp_path / "g.jsonl", "--baseline", base, "--pass-rate", "0")
    assert result.exit_code == 1
    assert "newly failing: ceasefire-length" in result.output


def test_cli_malformed_gold_is_one_line_error(scripted: ScriptedAssistant, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q", "expect": [["x"]], "answer": "x"}\n')
    result = run_cli(bad)
    assert result.exit_code == 1
    assert "bad.jsonl line 1, field `answer`: unknown field" in result.output
    assert scripted.asked == []
