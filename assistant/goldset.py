"""The gold-set format: questions with the phrases a correct answer must contain.

A gold file is JSON Lines, one case per line (a ``.yaml``/``.yml`` file holding a list of
the same mappings is accepted too)::

    {"id": "ceasefire-length", "question": "What did Russia propose on ceasefire length?",
     "expect": [["two to three days", "2-3 days"]],
     "evidence": ["limited ceasefire lasting two to three days"]}
    {"id": "talks-china", "question": "What did China say about the talks?", "abstain": true}
    {"id": "football", "question": "Who won the football match?", "refuse": true}

``expect`` is a list of groups: every group must match, and a group lists accepted
alternatives; the reply may be ``answered`` or ``tentative`` (``Answer.status``).
``evidence`` is text that must lie inside the quotes of the answer's citations.
``abstain: true`` marks a question on the articles' subject that they do not answer: the
reply must not be ``answered`` (``refused`` or ``tentative`` pass). ``refuse: true`` marks a
question about a subject the articles are not about: the reply must be ``refused``.
``history`` holds earlier
turns in the API's history format. Matching ignores case, punctuation and repeated spaces
(see :func:`normalize`).

This module is the trust boundary for gold files: everything is validated here, and a bad
file or case raises :class:`~assistant.errors.GoldSetError` naming the file, line and field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import GoldSetError

GOLD_SUFFIXES = (".jsonl", ".yaml", ".yml")

_MARKER = re.compile(r"\[\d+\]")
_NOT_WORD = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Fold text for matching: lower case, punctuation to spaces, single spaces.

    Args:
        text: Any text: an answer, a quote, an expected phrase.

    Returns:
        The folded text, e.g. ``"Two-to-Three  Days!"`` -> ``"two to three days"``.
    """
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text.casefold())).strip()


def strip_markers(text: str) -> str:
    """Remove ``[n]`` citation markers, so that they never match an expected number."""
    return _MARKER.sub(" ", text)


def contains(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words, after :func:`normalize`.

    Args:
        text: The text searched (an answer or a quote).
        phrase: The phrase looked for.

    Returns:
        True when the normalised phrase is a run of whole words of the normalised text, so
        ``"18"`` does not match ``"180"``.
    """
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {normalize(text)} "


class Turn(BaseModel):
    """One earlier turn of a conversation, in the API's history format."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class GoldCase(BaseModel):
    """One question of a gold set and what a correct reply to it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    expect: tuple[tuple[str, ...], ...] = ()
    evidence: tuple[str, ...] = ()
    abstain: bool = Field(default=False, strict=True)
    refuse: bool = Field(default=False, strict=True)
    history: tuple[Turn, ...] = ()

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("expect")
    @classmethod
    def _groups_usable(cls, groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for n, group in enumerate(groups):
            if not group:
                raise ValueError(f"group {n} is empty: list at least one accepted phrase")
            for phrase in group:
                if not normalize(phrase):
                    raise ValueError(f"group {n} has a phrase with no letters or digits")
        return groups

    @field_validator("evidence")
    @classmethod
    def _evidence_usable(cls, evidence: tuple[str, ...]) -> tuple[str, ...]:
        if any(not normalize(text) for text in evidence):
            raise ValueError("an evidence string has no letters or digits")
        return evidence

    @model_validator(mode="after")
    def _one_kind(self) -> GoldCase:
        if self.abstain and self.refuse:
            raise ValueError("a case is either `abstain: true` or `refuse: true`, not both")
        unanswered = "abstain" if self.abstain else "refuse" if self.refuse else None
        if unanswered and (self.expect or self.evidence):
            raise ValueError(
                f"a case with `{unanswered}: true` cannot also have `expect` or `evidence`"
            )
        if not unanswered and not self.expect:
            raise ValueError(
                "a case needs `expect` (phrases the answer must hold), `abstain: true` or "
                "`refuse: true`"
            )
        return self

    @property
    def answerable(self) -> bool:
        """Whether the articles answer this case (neither ``abstain`` nor ``refuse``)."""
        return not (self.abstain or self.refuse)

    def history_dicts(self) -> list[dict[str, str]]:
        """The history as the plain dicts ``Assistant.ask`` takes."""
        return [{"role": turn.role, "content": turn.content} for turn in self.history]


def load_gold(paths: Iterable[str | Path]) -> list[GoldCase]:
    """Read and validate gold files.

    Args:
        paths: Gold files (``.jsonl``, ``.yaml``, ``.yml``) or folders holding them.

    Returns:
        Every case, in file order.

    Raises:
        GoldSetError: A file is missing or unreadable, a line is not valid JSON, a case has a
            wrong, missing or unknown field, or two cases share an id. The message names the
            file, the line and the field.
    """
    cases: list[GoldCase] = []
    seen: dict[str, str] = {}
    files = list(_gold_files(paths))
    if not files:
        raise GoldSetError("No gold cases given - pass one or more .jsonl or .yaml gold files.")
    for path in files:
        for line, record in _records(path):
            case = _validate(record, path, line)
            where = f"{path} line {line}"
            if case.id in seen:
                raise GoldSetError(
                    f"{where}, field `id`: duplicate id {case.id!r} (first at {seen[case.id]})"
                    " - give every case its own id."
                )
            seen[case.id] = where
            cases.append(case)
    return cases


def _gold_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in GOLD_SUFFIXES)
            if not found:
                raise GoldSetError(f"{path}: no .jsonl or .yaml gold files in this folder.")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise GoldSetError(f"{path}: no such gold file - check the path.")


def _records(path: Path) -> Iterator[tuple[int, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldSetError(f"{path}: cannot read this gold file ({exc}).") from exc
    if path.suffix in (".yaml", ".yml"):
        yield from _yaml_records(path, text)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldSetError(
                f"{path} line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
                " - each line must be one JSON object."
            ) from exc


def _yaml_records(path: Path, text: str) -> Iterator[tuple[int, object]]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - PyYAML comes with chromadb
        raise GoldSetError(f"{path}: reading YAML needs PyYAML - `pip install pyyaml`.") from exc
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return
        if not isinstance(root, yaml.SequenceNode):
            line = root.start_mark.line + 1
            raise GoldSetError(f"{path} line {line}: a YAML gold file must be a list of cases.")
        for node in root.value:
            yield node.start_mark.line + 1, loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise GoldSetError(f"{path}: not valid YAML ({exc}).") from exc
    finally:
        loader.dispose()


def _validate(record: object, path: Path, line: int) -> GoldCase:
    where = f"{path} line {line}"
    if not isinstance(record, dict):
        raise GoldSetError(f"{where}: a case must be an object with `id` and `question`.")
    try:
        return GoldCase.model_validate(record)
    except ValidationError as exc:
        raise GoldSetError(f"{where}, {_describe(exc.errors()[0])}") from exc


def _describe(error: Any) -> str:
    loc = list(error["loc"])
    field = ""
    for part in loc:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        allowed = "role, content" if len(loc) > 1 else ", ".join(GoldCase.model_fields)
        message = f"unknown field (allowed: {allowed})"
    if error["type"] == "missing":
        message = "required field is missing"
    if error["type"] == "tuple_type":
        message = "should be a list"
        if loc and loc[0] == "expect":
            message += ' of groups, each a list of accepted phrases: [["2 days", "two days"]]'
    return f"field `{field}`: {message}" if field else message
