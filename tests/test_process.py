"""Process-wide limits: malloc arenas (real in glibc) and BLAS threads, set from the settings."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, process
from assistant.config import load_settings
from assistant.errors import ConfigError

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

COUNT_ARENAS = """
import ctypes, os, sys, tempfile, threading
from assistant import process
limit = int(sys.argv[1])
process.limit_arenas(limit)
held = []
together = threading.Barrier(6)
def allocate():
    together.wait()  # all alive at once, so none reuses an exited thread's arena
    held.append(bytearray(64 * 1024))  # under the mmap threshold: from the thread's arena
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
path = os.path.join(tempfile.mkdtemp(), "info.xml")
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(open(path).read().count("<heap nr="))
"""


def printed(script: str, limit: int) -> int:
    """The number ``script`` prints, run in a fresh process with ``limit`` as its argument."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(limit)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return int(done.stdout.strip())


def arenas_after_threads(limit: int) -> int:
    """How many arenas a fresh process holds after six threads allocated, with ``limit``."""
    return printed(COUNT_ARENAS, limit)


@glibc
def test_the_limit_bounds_the_arenas_threads_get() -> None:
    assert arenas_after_threads(0) > 2  # the default: a new arena per thread
    assert arenas_after_threads(2) <= 2


@glibc
def test_a_limit_is_set_and_zero_leaves_the_default() -> None:
    assert process.limit_arenas(2) is True
    assert process.limit_arenas(0) is False


def test_the_assistant_sets_the_limit_of_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder: Any, fake_reader: Any
) -> None:
    asked: list[tuple[str, int]] = []
    monkeypatch.setattr(process, "limit_arenas", lambda n: asked.append(("arenas", n)) or True)
    monkeypatch.setattr(process, "limit_blas", lambda n: asked.append(("blas", n)) or True)
    settings = load_settings(index_dir=tmp_path / "index", malloc_arenas=3, blas_threads=2)
    Assistant(settings=settings, embedder=fake_embedder, reader=fake_reader)
    assert asked == [("arenas", 3), ("blas", 2)]


def test_a_negative_limit_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="malloc_arenas"):
        load_settings(malloc_arenas=-1)
    with pytest.raises(ConfigError, match="blas_threads"):
        load_settings(blas_threads=-1)


COUNT_BLAS = """
import sys
import numpy as np
from threadpoolctl import threadpool_info
from assistant import process
process.limit_blas(int(sys.argv[1]))
print(min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))
"""


def blas_threads_after(limit: int) -> int:
    """The threads NumPy's BLAS may use in a fresh process after ``limit_blas(limit)``."""
    return printed(COUNT_BLAS, limit)


def test_the_blas_limit_is_what_numpy_uses() -> None:
    assert blas_threads_after(1) == 1
    if len(os.sched_getaffinity(0)) > 1 and "OPENBLAS_NUM_THREADS" not in os.environ:
        assert blas_threads_after(0) > 1  # untouched: one a core
    assert process.limit_blas(0) is False
