"""assistant: offline question answering over news articles, every claim cited."""

from assistant.api import Assistant, answer
from assistant.config import Settings
from assistant.conversations import ConversationStore
from assistant.errors import (
    ArticleNotFoundError,
    AssistantError,
    ConfigError,
    GoldSetError,
    IndexBusyError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
    ReadOnlyError,
    StoreError,
)
from assistant.evaluate import (
    BaselineDiff,
    CaseResult,
    EvalReport,
    Metrics,
    diff_baseline,
    evaluate,
    load_baseline,
    write_report,
)
from assistant.goldset import GoldCase, load_gold
from assistant.records import (
    Answer,
    Article,
    Citation,
    Event,
    FileResult,
    Hit,
    IndexCheck,
    IndexStats,
    IngestReport,
    Passage,
    Short,
)

__all__ = [
    "Answer",
    "Article",
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
