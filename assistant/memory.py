"""How many malloc arenas the process keeps (glibc), which bounds the memory it holds.

glibc gives each thread that allocates at the same time as another its own arena, up to eight
per core, and an arena keeps the memory freed in it. Chroma's Rust threads, ONNX Runtime's
threads and Python's all allocate while an index opens and a question is asked, so freed
memory piles up in several arenas: asking 329 questions of a year of news (165,200 passages)
peaked at 1,104 to 1,141 MB with glibc's default and at 1,026 to 1,046 MB with two arenas, at
the same speed (README, "Memory at a year of news"). The limit applies to arenas made after
it is set, so ``Assistant`` sets it before it opens the index or loads a model.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any

M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter for the most arenas (``malloc.h``)."""


@cache
def _mallopt() -> Any:
    """glibc's ``mallopt``, or None on a C library without it (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        found = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return None
    found.argtypes = (ctypes.c_int, ctypes.c_int)
    found.restype = ctypes.c_int
    return found


def limit_arenas(arenas: int) -> bool:
    """Keep at most ``arenas`` malloc arenas from now on (0 leaves the C library's default).

    Returns whether the limit was set: False without glibc, or with 0.
    """
    mallopt = _mallopt()
    if not arenas or mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
