"""Opening the Chroma store safely, from one process or several.

- **One writer at a time** per on-disk index: a lock file (``write.lock``) is held for a whole
  write, and ``writer.json`` names the process holding it.
- **Readers follow the writer.** Each process keeps Chroma's vector index in memory, so after
  every write the writer rewrites a revision stamp (``revision``); a process whose stamp differs
  reopens the store before it reads.
- **Interrupted writes are noticed.** ``write.pending`` exists while a write is under way; the
  next writer that finds it left behind (the process died) cleans up first.
- **Read-only indexes** (a shared, mounted or packaged folder) are read from a copy in the user's
  cache folder, because Chroma cannot open a database it may not write.
- **Failures are one line.** Chroma errors, a full disk and an unreachable server become a
  ``StoreError`` that says what to do; connection errors are retried a bounded number of times.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlparse

import filelock
import platformdirs

from assistant.errors import AssistantError, IndexBusyError, ReadOnlyError, StoreError

LOCK_FILE = "write.lock"
WRITER_FILE = "writer.json"
STAMP_FILE = "revision"
PENDING_FILE = "write.pending"
BYTES_PER_PASSAGE = 8_000
"""Disk an on-disk index takes per passage (398 MB for 49,835 news passages)."""
WRITE_RESERVE = 256_000
"""Free space kept beyond a write's estimate (SQLite journal, stamps, manifest)."""
RETRIES = (0.2, 0.5, 1.0)
"""Pauses before each retry of a store call that failed for a transient reason."""

log = logging.getLogger("assistant")
P = ParamSpec("P")
R = TypeVar("R")

_CLIENTS: dict[str, tuple[str | None, Any]] = {}
_CLIENTS_LOCK = threading.Lock()


def _settings() -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def read_stamp(folder: Path) -> str | None:
    """The index's revision stamp; ``None`` for an index written before stamps existed."""
    try:
        return (folder / STAMP_FILE).read_text().strip() or None
    except OSError:
        return None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _local_client(path: Path, stamp: str | None, reopen: bool = False) -> Any:
    """The process's Chroma client for ``path``, reopened when the index changed on disk.

    Chroma keeps one client per folder and process; a stale one is dropped from its cache, not
    stopped, so a call still running on it finishes.
    """
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(path.resolve())
    with _CLIENTS_LOCK:
        held = _CLIENTS.get(key)
        if held is not None and held[0] == stamp and not reopen:
            return held[1]
        SharedSystemClient._identifier_to_system.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)
        client = chromadb.PersistentClient(path=key, settings=_settings())
        _CLIENTS[key] = (stamp, client)
        return client


def _note_stamp(path: Path, stamp: str) -> None:
    key = str(path.resolve())
    with _CLIENTS_LOCK:
        held = _CLIENTS.get(key)
        if held is not None:
            _CLIENTS[key] = (stamp, held[1])


def _snapshot(folder: Path, stamp: str | None) -> Path:
    """A private, writable copy of a read-only index, made once per revision."""
    source = folder / "chroma.sqlite3"
    version = stamp or f"{source.stat().st_mtime_ns}-{source.stat().st_size}"
    name = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    root = platformdirs.user_cache_path("assistant") / "read-only" / name
    copy = root / hashlib.sha256(version.encode()).hexdigest()[:16]
    if (copy / "chroma.sqlite3").exists():
        return copy
    log.warning("The index at %s/ is read-only; reading it from a copy in %s", folder, root)
    shutil.rmtree(root, ignore_errors=True)
    partial = root / f".partial-{os.getpid()}"
    shutil.copytree(
        folder, partial, ignore=shutil.ignore_patterns(LOCK_FILE, WRITER_FILE, PENDING_FILE)
    )
    partial.rename(copy)
    return copy


def _writable(folder: Path) -> bool:
    probe = folder if folder.exists() else next(p for p in folder.parents if p.exists())
    database = folder / "chroma.sqlite3"
    return os.access(probe, os.W_OK) and (not database.exists() or os.access(database, os.W_OK))


class Store:
    """Where one index's Chroma data lives: a folder on disk or a Chroma server.

    Args:
        index_dir: the on-disk index folder (unused with ``chroma_url``).
        chroma_url: a Chroma server's address, or ``None`` for the folder.
        lock_timeout: seconds a writer waits for another process's write before giving up.
    """

    def __init__(self, index_dir: Path, chroma_url: str | None, lock_timeout: float) -> None:
        self.url = chroma_url
        self.folder = None if chroma_url else index_dir
        self.location = chroma_url or f"{index_dir}/"
        self.read_only = self.folder is not None and not _writable(self.folder)
        self.stamp: str | None = None
        self.opened: Path | None = None
        """The folder Chroma was opened from: ``folder``, or its copy when read-only."""
        self._lock_timeout = lock_timeout
        self._lock = (
            None
            if self.folder is None or self.read_only
            else filelock.FileLock(self.folder / LOCK_FILE, thread_local=False)
        )
        self._depth = 0
        self._interrupted = False
        self._client: Any = None

    # opening ---------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether there is a store to open (always true for a server)."""
        return self.folder is None or (self.folder / "chroma.sqlite3").exists()

    @property
    def in_write(self) -> bool:
        """Whether this process holds the index for writing now (its stamp is not yet new)."""
        return self._depth > 0

    def changed(self) -> bool:
        """Whether another process wrote the index since this one opened it."""
        return self.folder is not None and read_stamp(self.folder) != self.stamp

    def client(self, reopen: bool = False) -> Any:
        """The Chroma client, reopened when the index changed on disk or ``reopen`` is set."""
        if self.folder is None:
            if self._client is None or reopen:
                self._client = self._server_client()
            return self._client
        if self.folder.exists() and not self.folder.is_dir():
            raise AssistantError(
                f"{self.folder} is a file, not an index folder - choose another path."
            )
        stamp = read_stamp(self.folder)
        path = _snapshot(self.folder, stamp) if self.read_only else self.folder
        self._client = _local_client(path, stamp, reopen=reopen)
        self.stamp = stamp
        self.opened = path
        return self._client

    def _server_client(self) -> Any:
        import chromadb

        url = urlparse(self.url or "")
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=_settings(),
        )

    # writing ---------------------------------------------------------------------------

    def require_writable(self) -> None:
        """Raises:
        ReadOnlyError: the index cannot be written by this user."""
        if self.read_only:
            raise ReadOnlyError(
                f"The index at {self.location} is read-only - asking and listing work; to add "
                "or remove articles, copy it to a folder you can write and use --index."
            )

    @contextmanager
    def writing(self, clean: bool = True) -> Iterator[bool]:
        """Hold the index for writing; yields whether an earlier write was interrupted.

        Re-entrant within one store; other processes wait up to ``lock_timeout`` seconds.
        The interrupted-write marker is cleared when the write succeeds, unless ``clean`` is
        false (the caller only looked).

        Raises:
            ReadOnlyError: the index cannot be written by this user.
            IndexBusyError: another process kept writing past the timeout.
        """
        self.require_writable()
        if self.folder is None or self._lock is None or self._depth:
            self._depth += 1
            try:
                yield False
            finally:
                self._depth -= 1
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise translate(exc, self) from None
        self._acquire()
        self._depth = 1
        try:
            pending = self.folder / PENDING_FILE
            interrupted = self._interrupted = pending.exists()
            try:
                pending.write_text(str(os.getpid()))
            except OSError as exc:
                raise translate(exc, self) from None
            yield interrupted
            if clean or not interrupted:
                pending.unlink(missing_ok=True)
        finally:
            self._depth = 0
            with contextlib.suppress(OSError):
                (self.folder / WRITER_FILE).unlink(missing_ok=True)
            self._lock.release()

    def _acquire(self) -> None:
        assert self._lock is not None and self.folder is not None
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            log.warning("%s - waiting up to %.0f s.", self._busy(), self._lock_timeout)
            try:
                self._lock.acquire(timeout=self._lock_timeout)
            except filelock.Timeout:
                raise IndexBusyError(
                    f"{self._busy()} - wait for it to finish, then run the command again."
                ) from None
        except OSError as exc:
            raise translate(exc, self) from None
        info = {"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            (self.folder / WRITER_FILE).write_text(json.dumps(info))
        except OSError as exc:
            self._lock.release()
            raise translate(exc, self) from None

    def _busy(self) -> str:
        assert self.folder is not None
        try:
            info = json.loads((self.folder / WRITER_FILE).read_text())
            who = f"process {info['pid']} (since {info['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            who = "another process"
        return f"The index at {self.location} is being written by {who}"

    def interrupted(self) -> bool:
        """Whether a write was interrupted (found when this process took the lock, if held)."""
        if self._depth:
            return self._interrupted
        return self.folder is not None and (self.folder / PENDING_FILE).exists()

    def settled(self) -> None:
        """Forget an interrupted write once its leftovers are repaired."""
        self._interrupted = False
        if self.folder is not None:
            (self.folder / PENDING_FILE).unlink(missing_ok=True)

    def ensure_space(self, passages: int) -> None:
        """Refuse a write the disk cannot hold, before anything is written: Chroma logs a write
        first, and a log entry it cannot apply makes every later read fail until space is
        freed.

        Raises:
            StoreError: less free space than about ``BYTES_PER_PASSAGE`` per passage (twice,
                for the write-ahead log) plus ``WRITE_RESERVE``.
        """
        if self.folder is None:
            return
        needed = 2 * BYTES_PER_PASSAGE * passages + WRITE_RESERVE
        where = next(p for p in (self.folder, *self.folder.parents) if p.exists())
        free = shutil.disk_usage(where).free
        if free < needed:
            raise StoreError(
                f"The disk holding the index at {self.location} is full ({free / 1e6:.1f} MB "
                f"free, this write needs about {needed / 1e6:.1f} MB) - free some space, then "
                "run the command again (what was stored before is kept)."
            )

    def wrote(self) -> None:
        """Record a finished write: a new stamp that tells other processes to reopen."""
        if self.folder is None:
            return
        stamp = uuid.uuid4().hex
        _write_atomic(self.folder / STAMP_FILE, stamp)
        _note_stamp(self.folder, stamp)
        self.stamp = stamp


def _is_connection(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError | ConnectionError) or (
        "Could not connect to a Chroma server" in str(exc)
    )


LOW_SPACE = 16 * 2**20
"""Free bytes under which a Chroma failure of an on-disk index is put down to a full disk."""


def _is_disk_full(exc: BaseException, store: Store | None = None) -> bool:
    """Whether ``exc`` comes from a full disk: said outright (``ENOSPC``, SQLite's "database or
    disk is full"), or a Chroma error on a disk with almost no space left (a write Chroma could
    not apply is reported as "Failed to apply logs to the metadata segment", without the cause).
    """
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        "disk is full" in text or "no space left" in text
    ):
        return True
    from chromadb.errors import ChromaError

    return store is not None and isinstance(exc, ChromaError) and _low_on_space(store)


def _low_on_space(store: Store) -> bool:
    """Whether the disk holding an on-disk index has less than ``LOW_SPACE`` bytes free."""
    if store.folder is None:
        return False
    where = next((p for p in (store.folder, *store.folder.parents) if p.exists()), None)
    try:
        return where is not None and shutil.disk_usage(where).free < LOW_SPACE
    except OSError:
        return False


def _is_read_only(exc: BaseException) -> bool:
    text = str(exc).lower()
    return (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES)) or (
        "readonly database" in text or "read-only file system" in text
    )


def translate(exc: BaseException, store: Store) -> StoreError:
    """A one-line error for a store failure, saying what to do."""
    where = store.location
    if store.url and _is_connection(exc):
        return StoreError(
            f"Cannot reach the Chroma server at {store.url} - start it (`chroma run`) or "
            "unset ASSISTANT_CHROMA_URL, then try again."
        )
    if _is_disk_full(exc, store):
        return StoreError(
            f"The disk holding the index at {where} is full - free some space, then run the "
            "command again (what was stored before is kept)."
        )
    if _is_read_only(exc):
        return ReadOnlyError(
            f"The index at {where} cannot be written ({type(exc).__name__}) - check the "
            "folder's permissions, or copy it to a folder you can write and use --index."
        )
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return StoreError(
        f"The index at {where} failed ({detail}) - run `assistant check --repair`, then try again."
    )


def transient(exc: BaseException, store: Store) -> bool:
    """Whether a retry (after reopening the store) may succeed."""
    if isinstance(exc, AssistantError) or _is_disk_full(exc, store) or _is_read_only(exc):
        return False
    if store.url:
        return _is_connection(exc)
    from chromadb.errors import ChromaError

    return isinstance(exc, ChromaError)


def retrying(call: Callable[[], R], store: Store, failed: Callable[[], None]) -> R:
    """``call()``; store failures become ``StoreError`` and transient ones are retried.
    ``failed()`` runs after every failure that is not already an ``AssistantError``."""
    for pause in (*RETRIES, None):
        try:
            return call()
        except AssistantError:
            raise
        except Exception as exc:
            failed()
            if pause is None or not transient(exc, store):
                raise translate(exc, store) from None
            log.debug("Retrying after %s", exc)
            time.sleep(pause)
    raise AssertionError("unreachable")


def guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Run a method of an object with a ``store``, a ``stale`` flag and ``refresh()`` through
    :func:`retrying`, refreshing first and marking the object stale after a failure."""

    @wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        owner: Any = args[0]

        def call() -> R:
            owner.refresh()
            return method(*args, **kwargs)

        def failed() -> None:
            owner.stale = True

        return retrying(call, owner.store, failed)

    return run
