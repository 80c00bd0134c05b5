"""The assistant against a real Chroma server (``chroma run``) on the loopback interface."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assistant import Assistant, Settings
from assistant.embedding import Embedder

if TYPE_CHECKING:
    from conftest import Loopback

HOST = "127.0.0.1"
STARTUP_SECONDS = 60


def chroma_executable() -> str:
    found = shutil.which("chroma", path=str(Path(sys.prefix) / "bin")) or shutil.which("chroma")
    if found is None:
        pytest.fail("the `chroma` command is not installed (it comes with chromadb)")
    return found


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory, loopback: Loopback) -> Iterator[str]:
    """A fresh ``chroma run`` on a free loopback port, stopped after the module."""
    data = tmp_path_factory.mktemp("chroma-server")
    port = loopback.free_port()
    server = subprocess.Popen(
        [chroma_executable(), "run", "--path", str(data), "--host", HOST, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://{HOST}:{port}"
        loopback.wait(f"{url}/api/v2/heartbeat", server, STARTUP_SECONDS)
        yield url
    finally:
        loopback.stop(server)


@pytest.mark.slow
def test_ingest_and_ask_through_a_chroma_server(
    chroma_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    real_embedder: Embedder,
    bundled_article: Path,
) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma_url)
    monkeypatch.chdir(tmp_path)
    bot = Assistant(index_dir=tmp_path / "unused", embedder=real_embedder)
    assert bot.index.location == chroma_url
    assert bot.ingest([bundled_article]).added == 1

    reply = bot.ask("What did Russia propose on ceasefire length?")
    assert not reply.abstained, reply
    assert "two to three days" in reply.text
    for c in reply.citations:
        assert bot.article(c.article_id).text[c.start : c.end] == c.quote
    assert any("Kremlin" in c.quote for c in reply.citations)

    stats = bot.stats()
    assert stats.articles == 1 and stats.passages > 0
    assert stats.bytes is None
    assert not (tmp_path / "unused").exists()

    again = Assistant(settings=Settings(chroma_url=chroma_url), embedder=real_embedder)
    assert again.ingest([bundled_article]).unchanged == 1
    assert again.stats().passages == stats.passages
