"""Shared fixtures: the repo's paths, a deterministic fake embedder, and the real model.

Unit tests use ``fake_embedder`` (a hashing bag of words) and ``fake_reader`` (word
overlap): fast, deterministic, no model.
Tests marked ``slow`` share one real embedder and one index of the bundled article per
session, so the model loads once. The chat page's conversations go to a temporary folder,
never to the user's data folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llm_servers import (
    ScriptedLLM,
    assemble_gemma,
    llama_command,
    llama_env,
    scripted_command,
)

from assistant import Assistant, embedding
from assistant.embedding import Embedder, Vectors

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_ARTICLE = ROOT / "articles" / "ukraine-russia-istanbul-talks.txt"
_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """A bag of words hashed into ``dimension`` buckets, scaled to unit length.

    Texts sharing words get similar vectors; the same text always gets the same vector.
    A text without words maps to a fixed unit vector, so every row has length 1.
    """

    def __init__(self, dimension: int = 64, name: str = "test/hashing-bow") -> None:
        self._dimension = dimension
        self._name = name
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode()).digest()[:4], "big")
                out[row, bucket % self._dimension] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out


class OverlapReader:
    """A stand-in answer reader for unit tests: the share of the question's words that the
    sentence has. Deterministic, no model."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        self.calls += 1
        asked = set(_WORD.findall(question.lower()))
        return np.asarray(
            [len(asked & set(_WORD.findall(s.lower()))) / (len(asked) or 1) for s in sentences],
            dtype=np.float64,
        )


@pytest.fixture(scope="session", autouse=True)
def conversations_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where every test's chat page (in process or a server it starts) keeps conversations."""
    path = tmp_path_factory.mktemp("conversations")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASSISTANT_CONVERSATIONS_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout this test suite belongs to."""
    return ROOT


@pytest.fixture(scope="session")
def bundled_article() -> Path:
    """The article shipped in ``articles/``."""
    return BUNDLED_ARTICLE


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def make_embedder() -> type[HashingEmbedder]:
    """The fake embedder's class, for tests that need another name or dimension."""
    return HashingEmbedder


@pytest.fixture
def fake_reader() -> OverlapReader:
    return OverlapReader()


@pytest.fixture
def fake_assistant(
    tmp_path: Path, fake_embedder: HashingEmbedder, fake_reader: OverlapReader
) -> Assistant:
    """An assistant over an empty index in ``tmp_path``, with the fake embedder and reader."""
    return Assistant(index_dir=tmp_path / "index", embedder=fake_embedder, reader=fake_reader)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2 through the default backend (ONNX Runtime); it loads
    on first use, once per session."""
    return embedding.make_embedder()


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """An index of the bundled article built with the real model."""
    path = tmp_path_factory.mktemp("bundled") / "index"
    report = Assistant(index_dir=path, embedder=real_embedder).ingest([BUNDLED_ARTICLE])
    assert report.added == 1, report
    return path


@pytest.fixture(scope="session")
def bundled_assistant(bundled_index: Path, real_embedder: Embedder) -> Assistant:
    """The real model and real Chroma over ``bundled_index``."""
    return Assistant(index_dir=bundled_index, embedder=real_embedder, create=False)


@pytest.fixture
def read_only_index(
    tmp_path: Path,
    bundled_article: Path,
    real_embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """An index of the bundled article that this process cannot write: a read-only bind mount
    when root, else permissions. Its readable copy goes to a cache folder in ``tmp_path``."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "index"
    Assistant(index_dir=source, embedder=real_embedder).ingest([bundled_article])
    if os.geteuid() != 0:
        for path in [source, *source.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        yield source
        for path in [source, *source.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        return
    target = tmp_path / "mounted"
    target.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount as root here: {mounted.stderr.decode().strip()}")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(target)]
        subprocess.run(remount, check=True, capture_output=True)
        yield target
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


class Loopback:
    """Servers that tests start on this machine: a free port, and waiting until one answers."""

    host = "127.0.0.1"

    def free_port(self) -> int:
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            return int(probe.getsockname()[1])

    def wait(
        self, url: str, server: subprocess.Popen[bytes], seconds: float, log: Path | None = None
    ) -> None:
        """Return once ``url`` answers 200; fail if the server exits or time runs out."""

        def detail() -> str:
            return f":\n{log.read_text()}" if log and log.exists() else ""

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"the server for {url} exited with code {server.returncode}{detail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"{url} did not answer within {seconds} s{detail()}")

    def stop(self, server: subprocess.Popen[bytes]) -> None:
        """Terminate ``server``, killing it if it has not exited after 10 s."""
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def loopback() -> Loopback:
    return Loopback()


ScriptReply = str | dict[str, Any]
StartScriptedLLM = Callable[[list[ScriptReply]], ScriptedLLM]


@pytest.fixture
def scripted_llm(
    tmp_path_factory: pytest.TempPathFactory, loopback: Loopback
) -> Iterator[StartScriptedLLM]:
    """Start a scripted OpenAI-compatible server: ``scripted_llm(replies) -> ScriptedLLM``.

    Each reply is its text, or a dict with optional ``text``, ``first_token_delay``,
    ``chunk_delay``, ``status`` and ``hang`` (see ``llm_servers``). Every request takes the next
    reply, the last one repeating. The servers stop when the test ends.
    """
    servers: list[subprocess.Popen[bytes]] = []

    def start(replies: list[ScriptReply]) -> ScriptedLLM:
        folder = tmp_path_factory.mktemp("scripted-llm")
        script, output = folder / "script.json", folder / "server.log"
        script.write_text(json.dumps(replies))
        port = loopback.free_port()
        command = scripted_command(script, folder / "requests.jsonl", port)
        with output.open("wb") as out:
            servers.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
        url = f"http://{loopback.host}:{port}/v1"
        loopback.wait(f"{url}/models", servers[-1], 10, output)
        return ScriptedLLM(url=url, log=folder / "requests.jsonl")

    try:
        yield start
    finally:
        for server in servers:
            loopback.stop(server)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory, loopback: Loopback) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with the packaged Gemma 3 270M, for the session.

    Yields the base URL (ending ``/v1``); the model answers to the name ``default``.
    """
    folder = tmp_path_factory.mktemp("llama")
    model = assemble_gemma(folder)
    port = loopback.free_port()
    output = folder / "server.log"
    with output.open("wb") as out:
        command = llama_command(model, port)
        server = subprocess.Popen(command, env=llama_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://{loopback.host}:{port}/v1"
        loopback.wait(f"{url}/models", server, 180, output)
        yield url
    finally:
        loopback.stop(server)
