"""Conversations kept on disk: one JSON file per chat id, written atomically, the newest kept.

A ``ConversationStore`` holds the conversations of one index. Its folder is
``<root>/<16 hex digits of the SHA-256 of the index location>``, so every index has its own
folder, cap and "forget all"; each file also records the index location, and a file that names
another index is not loaded. The index location is the resolved ``index_dir`` (or the Chroma
server's URL) and the collection name.

The store knows nothing of the chat page's types: a conversation is a list of JSON-able dicts
(turns). A file that is not JSON, or not in this module's format, reads as absent. When the
folder cannot be written, a save logs one warning and the store keeps that conversation in
memory instead, so the page goes on working until the server stops.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.config import Settings
from assistant.errors import AssistantError, InputError

FORMAT = 1
DEFAULT_KEEP = 1000
_CHAT_ID = re.compile(r"[0-9a-f]{8,64}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_SUFFIX = ".json"

log = logging.getLogger(__name__)

Turns = list[dict[str, Any]]


class _StoredConversation(BaseModel):
    """The shape of one conversation file; anything else is ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1]
    index: str
    chat_id: str
    turns: list[dict[str, Any]]


def index_location(settings: Settings) -> str:
    """Where ``settings``' index lives: its resolved folder or server URL, and its collection."""
    if settings.chroma_url:
        return f"{settings.chroma_url.rstrip('/')}#{settings.collection}"
    return f"{settings.index_dir.expanduser().resolve()}#{settings.collection}"


def conversations_root(settings: Settings) -> Path:
    """``settings.conversations_dir``, or ``conversations`` in the user's data folder."""
    root = settings.conversations_dir
    if root is None:
        root = platformdirs.user_data_path("assistant") / "conversations"
    return root.expanduser().resolve()


class ConversationStore:
    """The conversations of one index, one JSON file per chat id, the newest ``keep`` kept.

    Chat ids are lowercase hex (8 to 64 digits) or a hyphenated UUID, never a path. Thread-safe:
    sessions of one server may share a store.
    """

    def __init__(self, root: Path, index: str, keep: int = DEFAULT_KEEP) -> None:
        """A store under ``root`` for the index at ``index``; nothing is read or written yet.

        Args:
            root: the folder that holds one folder of conversations per index.
            index: the index location (see ``index_location``).
            keep: how many conversations to keep; saving one more drops the least recently
                saved.
        """
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.root = root
        self.index = index
        self.keep = keep
        self.folder = root / hashlib.sha256(index.encode()).hexdigest()[:16]
        self._memory: OrderedDict[str, Turns] = OrderedDict()  # what could not be written
        self._warned = False
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings, keep: int = DEFAULT_KEEP) -> ConversationStore:
        """The store for ``settings``' index under ``settings.conversations_dir``."""
        return cls(conversations_root(settings), index_location(settings), keep)

    @staticmethod
    def is_chat_id(text: str) -> bool:
        """Whether ``text`` can name a conversation (hex or a UUID, lowercase)."""
        return _CHAT_ID.fullmatch(text) is not None

    def load(self, chat_id: str) -> Turns | None:
        """The turns saved under ``chat_id``; None when there are none or they cannot be read.

        Raises:
            InputError: ``chat_id`` is not a chat id.
        """
        path = self._path(chat_id)
        with self._lock:
            if chat_id in self._memory:
                return [dict(turn) for turn in self._memory[chat_id]]
        try:
            stored = _StoredConversation.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError) as error:
            log.warning("Ignoring the conversation in %s: %s", path, _why(error))
            return None
        if stored.index != self.index or stored.chat_id != chat_id:
            log.warning("Ignoring the conversation in %s: it belongs elsewhere", path)
            return None
        return stored.turns

    def save(self, chat_id: str, turns: Sequence[Mapping[str, Any]]) -> bool:
        """Save ``turns`` under ``chat_id``, replacing what was there, in one atomic step.

        Returns:
            True when the conversation is on disk; False when the folder could not be written
            and it is kept in memory instead (the first such failure logs a warning).

        Raises:
            InputError: ``chat_id`` is not a chat id.
            TypeError: a turn holds a value JSON cannot represent.
        """
        path = self._path(chat_id)
        kept = [dict(turn) for turn in turns]
        body = json.dumps(
            {"format": FORMAT, "index": self.index, "chat_id": chat_id, "turns": kept},
            ensure_ascii=False,
        ).encode()
        try:
            self._write(path, body)
        except OSError as error:
            self._remember(chat_id, kept, error)
            return False
        with self._lock:
            self._memory.pop(chat_id, None)
        self._prune(keeping=path)
        return True

    def delete(self, chat_id: str) -> None:
        """Forget the conversation ``chat_id``; forgetting one that is not there does nothing.

        Raises:
            InputError: ``chat_id`` is not a chat id.
            AssistantError: its file could not be removed.
        """
        path = self._path(chat_id)
        with self._lock:
            self._memory.pop(chat_id, None)
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise AssistantError(
                f"Could not delete {path} ({error.strerror}) - check that folder's permissions."
            ) from None

    def clear_all(self) -> int:
        """Forget every conversation of this index; returns how many there were.

        Raises:
            AssistantError: a file could not be removed.
        """
        with self._lock:
            forgotten = set(self._memory)
            self._memory.clear()
        if not self.folder.is_dir():
            return len(forgotten)
        try:
            for path in self.folder.iterdir():
                if path.suffix == _SUFFIX and self.is_chat_id(path.stem):
                    forgotten.add(path.stem)
                    path.unlink(missing_ok=True)
                elif path.name.endswith(".tmp"):  # left by a write that was cut short
                    path.unlink(missing_ok=True)
        except OSError as error:
            raise AssistantError(
                f"Could not delete the conversations in {self.folder} ({error.strerror}) - "
                "check that folder's permissions."
            ) from None
        return len(forgotten)

    def _path(self, chat_id: str) -> Path:
        if not self.is_chat_id(chat_id):
            raise InputError(f"{chat_id[:80]!r} is not a chat id - use the id of a chat page URL.")
        return self.folder / f"{chat_id}{_SUFFIX}"

    def _write(self, path: Path, body: bytes) -> None:
        """Write ``body`` to a temporary file beside ``path``, then rename it over ``path``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.folder, prefix=f".{path.stem}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _remember(self, chat_id: str, turns: Turns, error: OSError) -> None:
        """Keep a conversation that could not be written in memory, the newest ``keep``."""
        with self._lock:
            if not self._warned:
                self._warned = True
                log.warning(
                    "Cannot save conversations in %s (%s); keeping them in memory until the "
                    "server stops - set ASSISTANT_CONVERSATIONS_DIR to a writable folder.",
                    self.folder,
                    error.strerror or error,
                )
            self._memory[chat_id] = turns
            self._memory.move_to_end(chat_id)
            while len(self._memory) > self.keep:
                self._memory.popitem(last=False)

    def _prune(self, keeping: Path) -> None:
        """Drop the least recently saved conversations beyond ``keep``, never ``keeping``."""
        saved: list[tuple[int, str, Path]] = []
        for path in self.folder.glob(f"*{_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):  # another session pruned it
                if path != keeping and self.is_chat_id(path.stem):
                    saved.append((path.stat().st_mtime_ns, path.name, path))
        saved.sort()
        for _, _, path in saved[: max(0, len(saved) + 1 - self.keep)]:
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                log.warning("Could not drop the old conversation %s: %s", path, error)


def _why(error: OSError | ValidationError) -> str:
    """One line on why a file could not be read."""
    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return f"{problem['msg']}{' at ' + where if where else ''}"
    return error.strerror or str(error)
