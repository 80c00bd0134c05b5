"""The two OpenAI-compatible test servers, seen through langchain-openai's ``ChatOpenAI``.

The scripted server must look to the client exactly like a real endpoint (streamed chunks,
plain completions, errors, stalls), and the real llama.cpp server must answer with the packaged
Gemma 3 270M; the tests of the LLM answerer rely on both.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import TYPE_CHECKING

import openai
import pytest
from langchain_core.exceptions import ModelAPIError, ModelTimeoutError
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

if TYPE_CHECKING:
    from conftest import StartScriptedLLM

REPORT = "The talks in Istanbul ended after two hours without a ceasefire."


def chat(url: str, timeout: float = 10, retries: int = 0) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=url,
        api_key=SecretStr("unused"),
        model="default",
        timeout=timeout,
        max_retries=retries,
    )


def gemma(url: str) -> ChatOpenAI:
    """The packaged Gemma 3 270M behind ``url``, kept short and deterministic.

    ChatOpenAI sends a length limit as ``max_completion_tokens``, which llama-cpp-python's
    server ignores (it would write up to the whole context); it reads ``max_tokens``.
    """
    return ChatOpenAI(
        base_url=url,
        api_key=SecretStr("unused"),
        model="default",
        timeout=120,
        max_retries=0,
        temperature=0,
        extra_body={"max_tokens": 16},
    )


def test_streamed_chunks_join_to_the_scripted_text(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([REPORT])
    pieces = [str(chunk.content) for chunk in chat(server.url).stream("What happened?")]
    assert "".join(pieces) == REPORT
    assert len([piece for piece in pieces if piece]) == len(REPORT.split())
    assert server.requests()[0]["stream"] is True


def test_a_plain_completion_returns_the_whole_text(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([REPORT])
    reply = chat(server.url).invoke("What happened?")
    assert reply.content == REPORT
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] > 0
    assert server.requests()[0]["stream"] is False


def test_replies_come_in_order_and_the_last_repeats(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm(["first", {"text": "second"}])
    llm = chat(server.url)
    assert [llm.invoke(str(n)).content for n in range(3)] == ["first", "second", "second"]
    assert [r["messages"][0]["content"] for r in server.requests()] == ["0", "1", "2"]


def test_the_request_log_holds_the_messages_sent(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm(["ok"])
    chat(server.url).invoke([SystemMessage("Cite every claim."), HumanMessage("Who met?")])
    (request,) = server.requests()
    assert request["model"] == "default"
    assert request["messages"] == [
        {"role": "system", "content": "Cite every claim."},
        {"role": "user", "content": "Who met?"},
    ]


def test_the_raw_stream_is_server_sent_events_ending_in_done(
    scripted_llm: StartScriptedLLM,
) -> None:
    server = scripted_llm(["two words"])
    body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        f"{server.url}/chat/completions", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = [line for line in response.read().decode().split("\n\n") if line]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    deltas = [chunk["choices"][0]["delta"].get("content") for chunk in chunks]
    assert deltas == ["", "two ", "words", None]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_an_error_status_raises_an_openai_error(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([{"status": 500}])
    with pytest.raises(openai.InternalServerError) as raised:
        chat(server.url).invoke("What happened?")
    assert raised.value.status_code == 500
    assert isinstance(raised.value, ModelAPIError)
    with pytest.raises(openai.InternalServerError):
        next(iter(chat(server.url).stream("What happened?")))


def test_a_retry_takes_the_next_reply(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([{"status": 503}, REPORT])
    assert chat(server.url, retries=1).invoke("What happened?").content == REPORT
    assert len(server.requests()) == 2


@pytest.mark.parametrize("stream", [False, True])
def test_a_late_first_token_times_out_at_the_client_timeout(
    scripted_llm: StartScriptedLLM, stream: bool
) -> None:
    server = scripted_llm([{"text": REPORT, "first_token_delay": 5}])
    llm = chat(server.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError) as raised:
        list(llm.stream("What happened?")) if stream else llm.invoke("What happened?")
    assert time.monotonic() - started < 5, "the client waited for the server, not its timeout"
    assert isinstance(raised.value, ModelTimeoutError)
    assert len(server.requests()) == 1


def test_a_hung_request_times_out(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([{"hang": True}, "after the hang"])
    llm = chat(server.url, timeout=0.5)
    with pytest.raises(openai.APITimeoutError):
        llm.invoke("What happened?")
    assert llm.invoke("Again?").content == "after the hang"


def test_chunks_arrive_as_they_are_sent(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([{"text": "one two three", "chunk_delay": 0.3}])
    started = time.monotonic()
    arrivals = [
        (time.monotonic() - started, chunk.content)
        for chunk in chat(server.url).stream("Count.")
        if chunk.content
    ]
    assert [text for _, text in arrivals] == ["one ", "two ", "three"]
    assert arrivals[-1][0] - arrivals[0][0] >= 0.3, arrivals  # not buffered to the end


def test_a_stream_that_stalls_midway_times_out(scripted_llm: StartScriptedLLM) -> None:
    server = scripted_llm([{"text": "one two", "chunk_delay": 5}])
    pieces: list[str] = []
    with pytest.raises(openai.APITimeoutError):
        for chunk in chat(server.url, timeout=0.5).stream("Count."):
            pieces.append(str(chunk.content))
    assert "".join(pieces) == "one "


@pytest.mark.slow
def test_llama_server_lists_its_model(llama_server: str) -> None:
    models = openai.OpenAI(base_url=llama_server, api_key="unused").models.list()
    assert [model.id for model in models] == ["default"]


@pytest.mark.slow
def test_llama_server_streams_a_reply(llama_server: str) -> None:
    pieces = [
        str(chunk.content) for chunk in gemma(llama_server).stream("Reply with one word: hello")
    ]
    assert "".join(pieces).strip()


@pytest.mark.slow
def test_llama_server_takes_a_system_message(llama_server: str) -> None:
    messages = [SystemMessage("Answer in English."), HumanMessage("Reply with one word: hello")]
    reply = gemma(llama_server).invoke(messages)
    assert str(reply.content).strip()
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] > 15, "the system message is in the prompt"
    assert reply.usage_metadata["output_tokens"] <= 16
