"""The README stays honest about the commands and the numbers."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from assistant import Assistant
from assistant.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = README + "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
"""The README and the pages in docs/ it links to: their commands and examples are checked."""


def test_readme_lists_every_cli_command() -> None:
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    documented = set(re.findall(r"^\| `assistant (\w+)", README, re.MULTILINE))
    assert commands == documented


def test_readme_quick_start_is_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick, re.DOTALL)
    assert block is not None
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert lines == ["make run", "make test"]


def test_readme_quotes_benchmark_commands_that_exist() -> None:
    for script in re.findall(r"benchmarks/(\w+\.py)", DOCS):
        assert (Path(__file__).resolve().parents[1] / "benchmarks" / script).exists(), script


def shown_questions() -> list[tuple[str, list[dict[str, str]]]]:
    """The questions the README asks in its examples (``bot.ask(...)``, ``assistant ask``),
    with the history it gives a follow-up, and the chat page's example buttons."""
    spec = importlib.util.spec_from_file_location("chat_app", ROOT / "app.py")
    assert spec is not None and spec.loader is not None
    page = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = page  # dataclasses look their module up while being made
    spec.loader.exec_module(page)
    asked = re.findall(r'(?:bot\.ask\(|assistant ask )"([^"]+\?)"(?!,\s*history)', DOCS)
    found: list[tuple[str, list[dict[str, str]]]] = [
        (q, []) for q in dict.fromkeys(asked) if q not in shown_refusals()
    ]
    for question, before in re.findall(
        r'bot\.ask\("([^"]+\?)",\s*history=\[\{"role": "user", "content": "([^"]+)"', README
    ):
        found.append((question, [{"role": "user", "content": " ".join(before.split())}]))
    found += [(q, []) for group in page.EXAMPLES.values() for q in group]
    return found


def shown_refusals() -> list[str]:
    """The questions the README's command-line example shows refused."""
    return re.findall(r'\$ assistant ask "([^"]+\?)"\nThe articles don\'t say', README)


def test_the_readme_shows_questions_a_follow_up_and_a_refusal() -> None:
    found = shown_questions()
    assert len(found) >= 4
    assert any(history for _, history in found)
    assert shown_refusals()


@pytest.mark.slow
def test_the_readme_and_page_questions_are_not_refused_and_its_refusals_are(
    bundled_assistant: Assistant,
) -> None:
    for question, history in shown_questions():
        reply = bundled_assistant.ask(question, history or None)
        assert reply.status != "refused", (question, reply.text)
        assert reply.citations
    for question in shown_refusals():
        reply = bundled_assistant.ask(question)
        assert reply.status == "refused" and reply.text in README, reply.text
