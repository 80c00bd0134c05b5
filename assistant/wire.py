"""Wire copies: the same agency text under several mastheads.

Two fingerprints, both on word sequences with case and punctuation folded (so a curly quote
or a doubled space does not hide a copy):

- ``key``: of a passage, the hash of its longest sentence. Stored with every passage, it finds
  the copies of a passage across the index (ingest counts them) even when the copies' passage
  boundaries differ.
- ``similar``: whether two passages share most of their word trigrams, for collapsing copies
  among the passages retrieved for one question.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

MIN_KEY_WORDS = 8
"""A passage whose longest sentence is shorter has no key (too common to mean a copy)."""
SIMILAR = 0.5
"""Shared word trigrams (Jaccard) from which two passages are copies of each other."""

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, punctuation dropped."""
    return _WORD.findall(text.lower())


def normal(text: str) -> str:
    """``text`` with case, punctuation and spacing folded: the form copies share."""
    return " ".join(words(text))


def key(sentences: Sequence[str]) -> str:
    """The fingerprint of a passage given its sentences ("" when none is long enough)."""
    longest = max((words(s) for s in sentences), key=len, default=[])
    if len(longest) < MIN_KEY_WORDS:
        return ""
    return hashlib.sha1(" ".join(longest).encode()).hexdigest()[:16]


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + 3]) for i in range(max(len(w) - 2, 1))}


def similar(a: str, b: str, threshold: float = SIMILAR) -> bool:
    """Whether passages ``a`` and ``b`` are copies of each other (or of one text)."""
    ta, tb = _trigrams(a), _trigrams(b)
    if not ta or not tb:
        return False
    return len(ta & tb) / len(ta | tb) >= threshold
