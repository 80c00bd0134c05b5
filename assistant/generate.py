"""The optional language model: numbered source sentences in, a cited reply streamed out.

The model is any OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, LM Studio, a hosted
API), reached through LangChain's ``ChatOpenAI``; the prompt templates live in ``prompts/``.
What it writes is only a draft: ``assistant.verify`` checks every sentence against the
sources it cites before the reply is final.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from langchain_core.runnables import Runnable

from assistant.answerer import Candidate, sentence_text
from assistant.config import Settings
from assistant.errors import AssistantError

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
SOURCES = 6
"""Source sentences given to the model: the answerer's best-scored candidates."""
HISTORY_TURNS = 4
MAX_TOKENS = 400
NOT_IN_SOURCES = "NOT IN SOURCES"
STOP = ["\nQuestion:", "\nSources:"]
"""Where a small model that restates the prompt is cut off."""
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


class ModelError(AssistantError):
    """The language model could not be used; the extractive answer is given instead."""


@dataclass(frozen=True)
class Source:
    """One numbered source sentence, as the model sees it."""

    number: int
    candidate: Candidate
    context: str
    published: str | None
    before: str = ""
    """The article's text before the sentence, where its names may have been given in full."""


def pick_sources(
    scored: Sequence[tuple[Candidate, float]],
    verified: Callable[[Candidate], bool],
    published: Callable[[str], str | None],
    text: Callable[[str], str | None] = lambda _: None,
    limit: int = SOURCES,
) -> list[Source]:
    """The ``limit`` best-scored candidates whose quote verifies, numbered from 1, each with
    what ``text`` (article id -> its text) holds before it."""
    ranked = [c for c, _ in sorted(scored, key=lambda cp: -cp[1]) if verified(c)]
    unique = list({(c.hit.passage.article_id, c.span): c for c in ranked}.values())[:limit]
    sources = []
    for n, c in enumerate(unique, 1):
        article = c.hit.passage.article_id
        before = (text(article) or "")[: c.span.start]
        sources.append(Source(n, c, _previous(c), published(article), before))
    return sources


def _previous(c: Candidate) -> str:
    spans = c.hit.passage.sentences
    at = spans.index(c.span) if c.span in spans else 0
    return sentence_text(c.hit.passage, spans[at - 1]) if at > 0 else ""


def format_sources(sources: Sequence[Source]) -> str:
    """The sources as the prompt shows them: number, sentence, the sentence before, origin."""
    lines = []
    for s in sources:
        origin = s.candidate.hit.title + (f", {s.published}" if s.published else "")
        lines.append(f"[{s.number}] {s.candidate.text}")
        if s.context:
            lines.append(f"    (after: {s.context})")
        lines.append(f"    (from: {origin})")
    return "\n".join(lines)


def load_prompt(folder: Path | None = None) -> ChatPromptTemplate:
    """The chat prompt: ``answer-system.txt``, the earlier turns, ``answer-user.txt``.

    Raises:
        AssistantError: a template file is missing.
    """
    where = folder or PROMPTS
    try:
        system = PromptTemplate.from_file(where / "answer-system.txt", encoding="utf-8")
        user = PromptTemplate.from_file(where / "answer-user.txt", encoding="utf-8")
    except OSError as exc:
        raise AssistantError(
            f"Cannot read the prompt templates in {where}/ ({exc.strerror}) - restore "
            "answer-system.txt and answer-user.txt there, or unset ASSISTANT_PROMPTS_DIR."
        ) from None
    return ChatPromptTemplate.from_messages(
        [
            ("system", system.template),
            MessagesPlaceholder("history"),
            ("human", user.template),
        ]
    )


def history_messages(history: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    """The last turns as chat messages, citation markers removed (they numbered other sources)."""
    turns = list(history)[-HISTORY_TURNS:]
    return [
        ("human" if t["role"] == "user" else "ai", _MARKER.sub("", t["content"])) for t in turns
    ]


class Writer:
    """The model client and its prompt as one LangChain runnable; streams text with deadlines.

    Args:
        settings: ``llm_base_url``, ``llm_model``, ``llm_api_key``, ``llm_timeout`` and
            ``prompts_dir`` are read.
    """

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        assert settings.llm_base_url
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        self.url = settings.llm_base_url
        self.timeout = settings.llm_timeout
        model = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key or os.environ.get("OPENAI_API_KEY") or "not-needed",  # type: ignore[arg-type]
            timeout=settings.llm_timeout,
            max_retries=0,
            temperature=0.0,
            # ``max_tokens`` is what llama.cpp, Ollama, vLLM and LM Studio read (``ChatOpenAI``
            # would send ``max_completion_tokens``, which some of them ignore).
            extra_body={"max_tokens": MAX_TOKENS},
            streaming=True,
        )
        self.chain: Runnable[dict[str, Any], str] = (
            load_prompt(settings.prompts_dir) | model.bind(stop=STOP) | StrOutputParser()
        )

    def stream(
        self,
        question: str,
        history: Sequence[Mapping[str, str]],
        sources: Sequence[Source],
        started: float | None = None,
    ) -> Iterator[str]:
        """The reply's text as it arrives.

        Raises:
            ModelError: the model is unreachable, fails, or sends nothing for ``timeout``
                seconds: counted from ``started`` (a ``time.monotonic()``, when the question
                was asked) to the first token, then between two tokens.
        """
        chunks: queue.Queue[tuple[str, object]] = queue.Queue()
        values = {
            "question": question,
            "sources": format_sources(sources),
            "history": history_messages(history),
        }

        def produce() -> None:
            try:
                for chunk in self.chain.stream(values):
                    chunks.put(("text", chunk))
                chunks.put(("end", None))
            except Exception as exc:  # reported to the consumer, which gives up
                chunks.put(("error", exc))

        threading.Thread(target=produce, daemon=True, name="llm-stream").start()
        deadline = (time.monotonic() if started is None else started) + self.timeout
        while True:
            try:
                kind, value = chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ModelError(
                    f"The language model at {self.url} sent nothing for {self.timeout:g} s"
                ) from None
            if kind == "end":
                return
            if kind == "error":
                raise ModelError(_describe(value, self.url))
            yield str(value)
            deadline = time.monotonic() + self.timeout


def _describe(exc: object, url: str) -> str:
    name = type(exc).__name__
    if "Connect" in name or "Connection" in name:
        return f"The language model at {url} cannot be reached"
    if "Timeout" in name:
        return f"The language model at {url} timed out"
    if "NotFound" in name:
        return f"The language model at {url} does not serve that model (set ASSISTANT_LLM_MODEL)"
    detail = str(exc).splitlines()[0][:160] if str(exc) else name
    return f"The language model at {url} failed ({detail})"
