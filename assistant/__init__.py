"""assistant: offline question answering over news articles, every claim cited."""

from assistant.api import Assistant, answer
from assistant.config import Settings
from assistant.errors import (
    ArticleNotFoundError,
    AssistantError,
    ConfigError,
    GoldSetError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
)
from assistant.records import (
    Answer,
    Article,
    Citation,
    FileResult,
    Hit,
    IndexStats,
    IngestReport,
    Passage,
)

__all__ = [
    "Answer",
    "Article",
    "ArticleNotFoundError",
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigError",
    "FileResult",
    "GoldSetError",
    "Hit",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStats",
    "IngestReport",
    "InputError",
    "Passage",
    "Settings",
    "answer",
]
