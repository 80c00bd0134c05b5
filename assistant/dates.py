"""News time: publication days, the ``as_of`` cut-off, and questions about the current state.

A publication date is kept on every passage as ``day``, an integer ``YYYYMMDD`` (``0`` when
the article is undated), so that Chroma can filter on it and undated articles always pass an
``as_of`` cut-off.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from assistant.errors import InputError

UNDATED = 0
AsOf = date | datetime | str | None
AgeOf = Callable[[str], int | None]
"""An article's age in days on the day a question is asked, by article id (``None``:
undated)."""

_CURRENT = re.compile(
    r"\b(?:latest|newest|most recent(?:ly)?|now|nowadays|currently|current|so far|to date|"
    r"this (?:week|month|year)|today|as it stands)\b",
    re.I,
)


def day(published: str | None) -> int:
    """``published`` (an ISO date or date-time) as ``YYYYMMDD``; ``UNDATED`` when it is
    missing or not a date."""
    parsed = parse(published)
    return UNDATED if parsed is None else parsed.year * 10_000 + parsed.month * 100 + parsed.day


def parse(published: str | None) -> date | None:
    """The day of an ISO date or date-time string, or ``None``."""
    if not published:
        return None
    try:
        return date.fromisoformat(str(published).strip()[:10])
    except ValueError:
        return None


def as_of(value: AsOf) -> int | None:
    """An ``as_of`` argument as ``YYYYMMDD`` (``None``: no cut-off).

    Raises:
        InputError: ``value`` is neither a date nor an ISO date string.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.year * 10_000 + value.month * 100 + value.day
    parsed = parse(value) if isinstance(value, str) else None
    if parsed is None:
        raise InputError(f"'as of' must be a date such as 2023-06-02, not {value!r} - fix it.")
    return day(parsed.isoformat())


def age(reference: int, published: int) -> int | None:
    """Days from ``published`` to ``reference`` (both ``YYYYMMDD``); ``None`` when either is
    undated. Negative for an article published after ``reference``."""
    if reference == UNDATED or published == UNDATED:
        return None
    return (_date(reference) - _date(published)).days


def _date(value: int) -> date:
    return date(value // 10_000, value // 100 % 100, value % 100)


def label(published: str | None) -> str:
    """A day as people write it in an answer ("2 June 2023"), or "undated"."""
    parsed = parse(published)
    return "undated" if parsed is None else f"{parsed.day} {parsed:%B %Y}"


def asks_current(question: str) -> bool:
    """Whether the question asks for the state of things now ("latest", "so far", ...)."""
    return bool(_CURRENT.search(question))
