"""The README stays honest about the commands and the numbers."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from assistant.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


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
    for script in re.findall(r"benchmarks/(\w+\.py)", README):
        assert (Path(__file__).resolve().parents[1] / "benchmarks" / script).exists(), script
