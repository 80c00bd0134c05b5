"""The malloc arena limit: set by the Assistant from its settings, and real in glibc."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, memory
from assistant.config import load_settings
from assistant.errors import ConfigError

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

COUNT_ARENAS = """
import ctypes, os, sys, tempfile, threading
from assistant import memory
limit = int(sys.argv[1])
memory.limit_arenas(limit)
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


def arenas_after_threads(limit: int) -> int:
    """How many arenas a fresh process holds after six threads allocated, with ``limit``."""
    done = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, str(limit)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return int(done.stdout.strip())


@glibc
def test_the_limit_bounds_the_arenas_threads_get() -> None:
    assert arenas_after_threads(0) > 2  # the default: a new arena per thread
    assert arenas_after_threads(2) <= 2


@glibc
def test_a_limit_is_set_and_zero_leaves_the_default() -> None:
    assert memory.limit_arenas(2) is True
    assert memory.limit_arenas(0) is False


def test_the_assistant_sets_the_limit_of_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder: Any, fake_reader: Any
) -> None:
    asked: list[int] = []
    monkeypatch.setattr(memory, "limit_arenas", lambda n: asked.append(n) or True)
    settings = load_settings(index_dir=tmp_path / "index", malloc_arenas=3)
    Assistant(settings=settings, embedder=fake_embedder, reader=fake_reader)
    assert asked == [3]


def test_a_negative_limit_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="malloc_arenas"):
        load_settings(malloc_arenas=-1)
