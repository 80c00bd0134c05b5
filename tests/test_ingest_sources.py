"""Which files hold which article: duplicates in one run, edited JSON Lines, bad history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant, ConfigError, InputError
from assistant.config import load_settings

TEXT = "Budget passes\nThe council approved the budget on Monday after a long debate.\n"


def test_same_text_twice_in_one_run_keeps_both_sources(
    fake_assistant: Assistant, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT)
    b.write_text(TEXT)
    report = fake_assistant.ingest([a, b])
    assert [r.status for r in report.results] == ["added", "unchanged"]
    (article,) = fake_assistant.articles()
    assert sorted(fake_assistant.index.sources()[article.id]) == sorted(
        [str(a.resolve()), str(b.resolve())]
    )
    a.write_text("Another story\nThe mayor opened a new library on Friday.\n")
    fake_assistant.ingest([a])
    assert article.id in {x.id for x in fake_assistant.articles()}  # b still holds it
    assert len(fake_assistant.articles()) == 2


def test_record_removed_from_jsonl_is_removed_from_index(
    fake_assistant: Assistant, tmp_path: Path
) -> None:
    path = tmp_path / "n.jsonl"
    first = {"title": "One", "text": "The first story is about rivers and bridges."}
    second = {"title": "Two", "text": "The second story is about schools and teachers."}
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    fake_assistant.ingest([path])
    assert {a.title for a in fake_assistant.articles()} == {"One", "Two"}
    path.write_text(json.dumps(first) + "\n")
    fake_assistant.ingest([path])
    assert [a.title for a in fake_assistant.articles()] == ["One"]
    stats = fake_assistant.stats()
    assert stats.passages == sum(stats.passages_per_article.values())


def test_bad_record_keeps_what_it_gave_before(fake_assistant: Assistant, tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    record = {"title": "One", "text": "The first story is about rivers and bridges."}
    path.write_text(json.dumps(record) + "\n")
    fake_assistant.ingest([path])
    path.write_text("{not json\n")
    report = fake_assistant.ingest([path])
    assert report.skipped == 1
    assert [a.title for a in fake_assistant.articles()] == ["One"]


@pytest.mark.parametrize("history", [5, "Who?", {"role": "user"}])
def test_history_that_is_not_a_list_is_input_error(
    fake_assistant: Assistant, tmp_path: Path, history: object
) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    fake_assistant.ingest([tmp_path / "a.txt"])
    with pytest.raises(InputError, match="history"):
        fake_assistant.ask("Who?", history=history)  # type: ignore[arg-type]


def test_malformed_toml_is_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assistant.toml").write_text("top_k = \n")
    with pytest.raises(ConfigError, match=r"assistant\.toml is not valid TOML"):
        load_settings()
