"""Timing and memory helpers shared by the benchmarks (``core.py``, ``scale.py``).

The floor is what any question costs before the assistant reads anything: one query
embedding plus one Chroma query for the ``k`` nearest passages.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant import Assistant


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` took."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def p50_p95(seconds: Sequence[float]) -> tuple[float, float]:
    """The median and 95th percentile of ``seconds``, in milliseconds."""
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    return float(p50), float(p95)


def percentiles(seconds: Sequence[float]) -> str:
    p50, p95 = p50_p95(seconds)
    return f"p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   (n={len(seconds)})"


def floor(assistant: Assistant, question: str, k: int) -> None:
    """One query embedding and one Chroma query of ``k`` passages on ``assistant``'s index."""
    vector = assistant.embedder.embed([question])[0]
    assistant.index.query(vector, k)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f} MB"


def rss_now() -> int:
    """The resident set size of this process now, in bytes (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def rss_peak() -> int:
    """The high-water mark of the resident set size, in bytes (``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"
