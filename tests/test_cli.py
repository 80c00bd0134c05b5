"""The command line, through typer's runner: exit codes and output."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from assistant.cli import app, print_answer
from assistant.records import Answer, Citation, Short

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "articles"
runner = CliRunner()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("cli") / "index"
    result = runner.invoke(app, ["ingest", str(ARTICLES), "--index", str(where)])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 unchanged, 0 skipped." in result.output
    assert "Embedding with onnx on the CPU." in result.stderr
    assert "Embedding with" not in result.stdout
    return where


@pytest.mark.slow
def test_reingest_is_unchanged(index: Path) -> None:
    result = runner.invoke(app, ["ingest", str(ARTICLES), "--index", str(index)])
    assert result.exit_code == 0
    assert "0 added, 0 updated, 1 unchanged, 0 skipped." in result.output


@pytest.mark.slow
def test_ask_prints_answer_and_citation(index: Path) -> None:
    question = "What did Russia propose on ceasefire length?"
    result = runner.invoke(app, ["ask", question, "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "two to three days" in result.output
    assert "[1] Ukrainian and Russian Delegations Meet in Istanbul" in result.output


@pytest.mark.slow
def test_ask_json_shape(index: Path) -> None:
    result = runner.invoke(
        app, ["ask", "Who won the football match?", "--json", "--index", str(index)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {
        "text",
        "status",
        "confidence",
        "abstained",
        "citations",
        "short",
        "mode",
        "notice",
        "unsupported",
    }
    assert data["status"] == "refused" and data["confidence"] == 0.0
    assert data["abstained"] is True and data["citations"] == [] and data["short"] is None
    assert data["mode"] == "extractive" and data["notice"] is None


def test_a_tentative_answer_is_prefixed_with_its_confidence() -> None:
    citation = Citation(1, "a", "Title", 0, 10, "It may be.")
    reply = Answer("q", "The closest: It may be. [1]", False, (citation,), confidence=0.31)
    printed = printed_by(replace(reply, status="tentative"))
    assert printed.startswith("Tentative (confidence 31%): The closest: It may be. [1]")
    assert printed_by(reply).startswith("The closest: It may be. [1]")


def printed_by(reply: Answer) -> str:
    """What ``print_answer`` writes for ``reply``."""
    command = typer.Typer()
    command.command()(lambda: print_answer(reply))
    return runner.invoke(command, []).output


@pytest.mark.slow
def test_ask_json_citations_point_into_article(index: Path) -> None:
    result = runner.invoke(
        app, ["ask", "Who leads the Russian negotiating team?", "--json", "--index", str(index)]
    )
    data = json.loads(result.output)
    text = (ARTICLES / "ukraine-russia-istanbul-talks.txt").read_text()
    assert data["citations"], data
    for c in data["citations"]:
        assert set(c) == {
            "marker",
            "article_id",
            "title",
            "start",
            "end",
            "quote",
            "published",
            "also_in",
            "speaker",
        }
        assert f"[{c['marker']}]" in data["text"]
        assert text[c["start"] : c["end"]] == c["quote"]
    assert data["status"] in ("answered", "tentative") and 0.0 < data["confidence"] <= 1.0
    assert any("Medinsky" in c["quote"] for c in data["citations"])
    short = data["short"]  # a short answer comes with a sure reply only
    assert (short is not None) == (data["status"] == "answered")
    assert short is None or text[short["start"] : short["end"]] == short["text"] == (
        "Vladimir Medinsky"
    )


@pytest.mark.slow
def test_ask_prints_the_short_answer_or_says_it_is_unsure_first(index: Path) -> None:
    question = "What did Russia propose on ceasefire length?"
    result = runner.invoke(app, ["ask", question, "--index", str(index), "--json"])
    status = json.loads(result.output)["status"]
    result = runner.invoke(app, ["ask", question, "--index", str(index)])
    assert result.exit_code == 0, result.output
    first = {
        "answered": "Short answer: two to three days [1]\n",
        "tentative": "Tentative (confidence ",
    }[status]
    assert result.output.startswith(first)
    assert "two to three days" in result.output


def test_the_short_answer_is_printed_first_and_marked_in_its_quote() -> None:
    citation = Citation(1, "a", "Title", 0, 27, "It lasts two to three days.")
    reply = Answer(
        "q", "It lasts two to three days. [1]", False, (citation,), short=Short("two", 1, 9, 12)
    )
    printed = printed_by(reply)
    assert printed.startswith("Short answer: two [1]\n")
    assert "It lasts two to three days." in printed


@pytest.mark.slow
def test_articles_lists_the_bundled_article(index: Path) -> None:
    result = runner.invoke(app, ["articles", "--index", str(index)])
    assert result.exit_code == 0
    assert "Ukrainian and Russian Delegations Meet in Istanbul" in result.output
    assert "passages" in result.output


@pytest.mark.slow
def test_remove_unknown_id_is_one_line_error(index: Path) -> None:
    result = runner.invoke(app, ["remove", "nope", "--index", str(index)])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "assistant articles" in result.output


@pytest.mark.slow
def test_remove_then_ingest_again(tmp_path: Path) -> None:
    where = str(tmp_path / "index")
    runner.invoke(app, ["ingest", str(ARTICLES), "--index", where])
    listed = runner.invoke(app, ["articles", "--index", where]).output
    article_id = listed.split()[0]
    removed = runner.invoke(app, ["remove", article_id, "--index", where])
    assert removed.exit_code == 0 and article_id in removed.output
    assert runner.invoke(app, ["articles", "--index", where]).output.strip() == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "x" * 2001], "limit is 2,000"),
    ],
)
@pytest.mark.slow
def test_bad_questions(index: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, [*args, "--index", str(index)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_index_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "Who?", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "run `assistant ingest articles/` first" in result.output
    assert not (tmp_path / "none").exists()


def test_missing_path_ingests_nothing(tmp_path: Path) -> None:
    where = tmp_path / "index"
    result = runner.invoke(app, ["ingest", str(tmp_path / "nowhere.txt"), "--index", str(where)])
    assert result.exit_code == 1
    assert "No such file or folder" in result.output


def test_bad_file_in_folder_is_skipped_good_one_added(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("A headline\nThe council met on Monday to vote.\n")
    (folder / "empty.md").write_text("   \n")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02")
    result = runner.invoke(app, ["ingest", str(folder), "--index", str(tmp_path / "index")])
    assert result.exit_code == 1  # something was skipped
    assert "1 added" in result.output and "2 skipped" in result.output
    assert "the file is empty" in result.output and "binary" in result.output


def test_every_command_has_help() -> None:
    for command in ("ingest", "ask", "articles", "remove"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "--index" in result.output
