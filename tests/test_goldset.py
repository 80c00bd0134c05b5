"""The gold-set format: matching rules, parsing, and errors that name file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import GoldSetError
from assistant.goldset import GoldCase, contains, load_gold, normalize, strip_markers

GOLD_DIR = Path(__file__).parent / "gold"
ARTICLE = Path(__file__).parents[1] / "articles" / "ukraine-russia-istanbul-talks.txt"

ISSUE_EXAMPLE = [
    {
        "id": "ceasefire-length",
        "question": "What did Russia propose on ceasefire length?",
        "expect": [["two to three days", "2-3 days"]],
        "evidence": ["limited ceasefire lasting two to three days"],
    },
    {
        "id": "who-leads-then-demands",
        "history": [{"role": "user", "content": "Who leads the Russian delegation?"}],
        "question": "What does he demand?",
        "expect": [["sanctions"]],
    },
    {"id": "football", "question": "Who won the football match?", "abstain": True},
]


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def gold_error(tmp_path: Path, records: list[object]) -> str:
    path = write_jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(GoldSetError) as info:
        load_gold([path])
    return str(info.value)


def test_normalize_ignores_case_punctuation_and_repeated_spaces() -> None:
    assert normalize("  Two-to-Three   DAYS! ") == "two to three days"
    assert normalize("Ukraine’s 1,000") == "ukraine s 1 000"


def test_contains_matches_whole_words_only() -> None:
    assert contains("A ceasefire lasting two to three days.", "Two to three DAYS")
    assert contains("soldiers aged 18 to 25", "18 to 25")
    assert not contains("about 180 soldiers", "18")
    assert not contains("the ceasefire", "fire")
    assert not contains("anything", "...")


def test_strip_markers_removes_citation_numbers() -> None:
    assert not contains(strip_markers("It lasts three days [1]."), "1")


def test_issue_example_parses(tmp_path: Path) -> None:
    cases = load_gold([write_jsonl(tmp_path / "g.jsonl", ISSUE_EXAMPLE)])  # type: ignore[arg-type]
    assert [c.id for c in cases] == ["ceasefire-length", "who-leads-then-demands", "football"]
    assert cases[0].expect == (("two to three days", "2-3 days"),)
    assert cases[1].history_dicts() == [
        {"role": "user", "content": "Who leads the Russian delegation?"}
    ]
    assert cases[2].abstain and not cases[2].expect


def test_yaml_with_the_same_fields_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(
        "- id: a\n  question: Who?\n  expect: [[Medinsky]]\n"
        "- id: b\n  question: Football?\n  abstain: true\n",
        encoding="utf-8",
    )
    assert [c.id for c in load_gold([path])] == ["a", "b"]


def test_yaml_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "g.yml"
    path.write_text(
        "- id: a\n  question: Who?\n  expect: [[x]]\n"
        "- id: b\n  question: Q\n  abstain: true\n  query: Q\n"
    )
    with pytest.raises(GoldSetError, match=r"g\.yml line 4, field `query`: unknown field"):
        load_gold([path])


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"id": "a", "question": "Q", "expect": [["x"]], "answer": "x"}, "field `answer`: unknown"),
        ({"id": "a", "expect": [["x"]]}, "field `question`: required field is missing"),
        ({"id": "a", "question": "Q", "expect": ["x"]}, "field `expect[0]`: should be a list"),
        ({"id": "a", "question": "Q", "expect": "x"}, "field `expect`: should be a list of groups"),
        ({"id": "a", "question": "Q", "expect": [[]]}, "field `expect`: group 0 is empty"),
        ({"id": "a", "question": "Q", "expect": [["!"]]}, "no letters or digits"),
        ({"id": "a", "question": "Q", "abstain": "yes"}, "field `abstain`"),
        ({"id": "a", "question": "Q"}, "needs `expect`"),
        ({"id": "a", "question": "Q", "abstain": True, "expect": [["x"]]}, "cannot also have"),
        ({"id": " ", "question": "Q", "abstain": True}, "field `id`: must not be blank"),
        (
            {"id": "a", "question": "Q", "abstain": True, "history": [{"role": "bot"}]},
            "field `history[0].role`",
        ),
        (
            {
                "id": "a",
                "question": "Q",
                "abstain": True,
                "history": [{"role": "user", "content": "x", "text": "y"}],
            },
            "unknown field (allowed: role, content)",
        ),
        ([1, 2], "must be an object"),
    ],
)
def test_malformed_case_names_file_line_and_field(
    tmp_path: Path, record: object, expected: str
) -> None:
    good = {"id": "ok", "question": "Q", "abstain": True}
    message = gold_error(tmp_path, [good, record])
    assert "bad.jsonl line 2" in message
    assert expected in message


def test_invalid_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "Q", "abstain": true}\n\n{"id": "b",\n')
    with pytest.raises(GoldSetError, match=r"bad\.jsonl line 3: not valid JSON"):
        load_gold([path])


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    case = {"id": "same", "question": "Q", "abstain": True}
    message = gold_error(tmp_path, [case, case])
    assert "line 2, field `id`: duplicate id 'same'" in message
    assert "line 1" in message


def test_missing_path_and_empty_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(GoldSetError, match="no such gold file"):
        load_gold([tmp_path / "nope.jsonl"])
    with pytest.raises(GoldSetError, match=r"no \.jsonl or \.yaml gold files"):
        load_gold([tmp_path])
    with pytest.raises(GoldSetError, match="No gold cases"):
        load_gold([])


def test_cases_are_frozen() -> None:
    case = GoldCase(id="a", question="Q", abstain=True)
    with pytest.raises(ValueError, match="frozen"):
        case.id = "b"  # type: ignore[misc]


def test_bundled_gold_set_covers_what_the_issue_asks() -> None:
    cases = load_gold([GOLD_DIR / "istanbul.jsonl"])
    assert len(cases) >= 40
    assert sum(c.abstain for c in cases) >= 10
    assert sum(bool(c.history) for c in cases) >= 5
    assert sum(len(c.expect) >= 2 or len(c.evidence) >= 2 for c in cases) >= 5


def test_bundled_gold_set_is_written_from_the_article() -> None:
    """Every evidence string is article text, and every group has an article phrase."""
    text = ARTICLE.read_text(encoding="utf-8")
    for case in load_gold([GOLD_DIR]):
        for evidence in case.evidence:
            assert contains(text, evidence), (case.id, evidence)
        for group in case.expect:
            assert any(contains(text, phrase) for phrase in group), (case.id, group)
