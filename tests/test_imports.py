"""The public surface: ``assistant.__all__`` is pinned, and every name in it imports."""

from __future__ import annotations

import importlib

import assistant

EXPECTED_ALL = [
    "Answer",
    "Article",
    "ArticleInfo",
    "ArticleNotFoundError",
    "Assistant",
    "AssistantError",
    "BaselineDiff",
    "CaseResult",
    "Citation",
    "ConfigError",
    "ConversationStore",
    "EvalReport",
    "Event",
    "FileResult",
    "GoldCase",
    "GoldSetError",
    "Hit",
    "IndexBusyError",
    "IndexCheck",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStats",
    "IngestReport",
    "InputError",
    "Metrics",
    "ModelMissingError",
    "Passage",
    "ReadOnlyError",
    "Settings",
    "Short",
    "StoreError",
    "answer",
    "diff_baseline",
    "evaluate",
    "load_baseline",
    "load_gold",
    "write_report",
]


def test_all_is_pinned() -> None:
    assert sorted(assistant.__all__) == sorted(EXPECTED_ALL)
    assert len(assistant.__all__) == len(set(assistant.__all__))


def test_every_public_name_imports() -> None:
    module = importlib.import_module("assistant")
    for name in EXPECTED_ALL:
        assert getattr(module, name, None) is not None, name


def test_errors_share_one_base_class() -> None:
    for name in EXPECTED_ALL:
        if name.endswith("Error") and name != "AssistantError":
            assert issubclass(getattr(assistant, name), assistant.AssistantError), name
