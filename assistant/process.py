"""Process-wide limits ``Assistant`` sets before it opens an index: malloc arenas and BLAS threads.

**Malloc arenas.** glibc gives each thread that allocates at the same time as another its
own arena, up to eight per core, and an arena keeps the memory freed in it. Chroma's Rust
threads, ONNX Runtime's threads and Python's all allocate while an index opens and a
question is asked, so freed memory piles up in several arenas: asking 329 questions of a year
of news (165,200 passages) peaked at 1,104 to 1,141 MB with glibc's default and at 1,026 to
1,046 MB with two arenas, at the same speed (docs/benchmarks.md, "Memory at a year of
news"). The limit applies to arenas made after it is set, so ``Assistant`` sets it before it
opens the index or loads a model.

**BLAS threads.** NumPy's OpenBLAS starts a thread per core for a matrix product and keeps
them spinning for a while after it, taking the cores from ONNX Runtime, whose own threads run
the networks. The assistant's products are small (a passage's parts, a question against a few
hundred sentence vectors) and gain nothing from more threads: pooling parts with more than one
made ingest's encoding 25% slower (104 against 140 passages a second, the same network calls),
and warm asks on the odd weeks' news index took a median 143 to 148 ms against 139 to 140 ms
with one.
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


def limit_blas(threads: int) -> bool:
    """Let BLAS libraries (NumPy's OpenBLAS) use at most ``threads`` threads from now on (0
    leaves their own number). Returns whether the limit was set."""
    if not threads:
        return False
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    return True


def limit_arenas(arenas: int) -> bool:
    """Keep at most ``arenas`` malloc arenas from now on (0 leaves the C library's default).

    Returns whether the limit was set: False without glibc, or with 0.
    """
    mallopt = _mallopt()
    if not arenas or mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
