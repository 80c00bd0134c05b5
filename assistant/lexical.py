"""Lexical search stored with the index: BM25 over stemmed passage words, in SQLite FTS5.

``lexical.sqlite3`` sits next to Chroma's files. It is written in the same write as the
passages (under the index's write lock) and searched with SQLite's own BM25 ranking, so a
question never loads every passage into memory and an added article costs only its own rows.
A write that dies half-way leaves rows that ``Index`` reconciles with Chroma on the next write
(see ``Index._sweep``). Words are the retriever's terms (lemmatised, stemmed, stop words out),
stored space-separated, so FTS5 only has to split on spaces.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import bm25s
import simplemma
import Stemmer


def _english_stop_words() -> list[str]:
    """scikit-learn's English stop words, from their own module file: importing them through
    scikit-learn would import scikit-learn and SciPy, over a second of every start."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("scikit-learn is not installed - run `pip install scikit-learn`.")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "feature_extraction" / "_stop_words.py"
    loaded = importlib.util.spec_from_file_location("_sklearn_stop_words", path)
    if loaded is None or loaded.loader is None:
        raise ImportError(f"scikit-learn's stop words are not at {path}")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return sorted(module.ENGLISH_STOP_WORDS)


FILE = "lexical.sqlite3"
STOPWORDS = _english_stop_words()
BUSY_TIMEOUT = 60.0
"""Seconds a reader waits while another process commits (SQLite's rollback journal: no file
beside the database outlives a write, so a copied or read-only index is always whole)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    day INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages (article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5 (terms, tokenize = 'unicode61');
"""
_PARTS = "CREATE TABLE IF NOT EXISTS parts (n INTEGER PRIMARY KEY, data BLOB NOT NULL);"
"""The answerer's pooled sentence vectors of each passage (``assistant.parts``), by the
passage's ``n``. An index written before this table existed has none: they are computed
when read."""

Row = tuple[str, str, int, Sequence[str]]
"""A passage as stored: id, article id, publication day (``YYYYMMDD``, 0 undated), terms."""


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """The lower-cased content words of ``text`` (English stop words dropped), unstemmed."""
    return list(
        bm25s.tokenize([text], stopwords=STOPWORDS, return_ids=False, show_progress=False)[0]
    )


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of the lemma of one lower-cased word ("led" and "leads": "lead")."""
    return str(_stemmer().stemWord(simplemma.lemmatize(word, lang="en").lower()))


def _stem_all(found: list[str]) -> list[str]:
    return [stem(w) for w in found]


def terms(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed content words of each text (English stop words dropped)."""
    tokens = bm25s.tokenize(
        list(texts), stopwords=STOPWORDS, stemmer=_stem_all, return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


class LexicalStore:
    """The FTS5 table of one on-disk index; safe to share between threads."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE
        self._db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)
            with suppress(sqlite3.OperationalError):  # a read-only index from before the table
                self._db.execute(_PARTS)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # writing ---------------------------------------------------------------------------

    def add(self, rows: Iterable[Row], parts: Mapping[str, bytes] | None = None) -> None:
        """Store passages, replacing any stored under the same ids, with the ``parts`` given
        for them (by passage id); all or nothing."""
        with self._lock, self._transaction():
            for pid, article_id, day, terms in rows:
                self._remove([pid])
                cursor = self._db.execute(
                    "INSERT INTO passages (id, article_id, day) VALUES (?, ?, ?)",
                    (pid, article_id, day),
                )
                self._db.execute("DELETE FROM words WHERE rowid = ?", (cursor.lastrowid,))
                self._db.execute(
                    "INSERT INTO words (rowid, terms) VALUES (?, ?)",
                    (cursor.lastrowid, " ".join(terms)),
                )
                if parts and pid in parts:
                    self._db.execute(
                        "INSERT OR REPLACE INTO parts (n, data) VALUES (?, ?)",
                        (cursor.lastrowid, parts[pid]),
                    )

    def delete(self, ids: Collection[str]) -> None:
        """Forget these passages; unknown ids are ignored."""
        with self._lock, self._transaction():
            self._remove(list(ids))

    def delete_article(self, article_id: str) -> None:
        """Forget every passage of one article."""
        with self._lock, self._transaction():
            for table, key in (("words", "rowid"), ("parts", "n")):
                self._db.execute(
                    f"DELETE FROM {table} WHERE {key} IN "
                    "(SELECT n FROM passages WHERE article_id = ?)",
                    (article_id,),
                )
            self._db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))

    def _remove(self, ids: Sequence[str]) -> None:
        for lo in range(0, len(ids), 500):
            batch = ids[lo : lo + 500]
            marks = ",".join("?" * len(batch))
            for table, key in (("words", "rowid"), ("parts", "n")):
                self._db.execute(
                    f"DELETE FROM {table} WHERE {key} IN "
                    f"(SELECT n FROM passages WHERE id IN ({marks}))",
                    batch,
                )
            self._db.execute(f"DELETE FROM passages WHERE id IN ({marks})", batch)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # reading ---------------------------------------------------------------------------

    def ids(self) -> set[str]:
        """Every stored passage id."""
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM passages")}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM passages").fetchone()[0])

    def parts(self, ids: Sequence[str]) -> dict[str, bytes]:
        """The stored parts of those of these passages that have them."""
        found: dict[str, bytes] = {}
        with self._lock:
            for lo in range(0, len(ids), 500):
                batch = list(ids[lo : lo + 500])
                marks = ",".join("?" * len(batch))
                try:
                    rows = self._db.execute(
                        "SELECT p.id, t.data FROM parts t JOIN passages p ON p.n = t.n "
                        f"WHERE p.id IN ({marks})",
                        batch,
                    ).fetchall()
                except sqlite3.OperationalError:  # no parts table (see _PARTS)
                    return {}
                found.update((str(i), bytes(d)) for i, d in rows)
        return found

    def phrase(self, terms: Sequence[str], k: int, as_of: int | None = None) -> list[str]:
        """Up to ``k`` passages whose words hold ``terms`` in this order, side by side (every
        passage containing a sentence holds that sentence's terms so)."""
        wanted = [t for t in terms if t]
        if not wanted:
            return []
        match = '"' + " ".join(wanted).replace('"', '""') + '"'
        where, params = _filters(as_of, None)
        sql = "SELECT p.id FROM words JOIN passages p ON p.n = words.rowid WHERE words MATCH ?"
        with self._lock:
            rows = self._db.execute(f"{sql}{where} LIMIT ?", [match, *params, k])
            return [str(row[0]) for row in rows]

    def search(
        self,
        terms: Sequence[str],
        k: int,
        as_of: int | None = None,
        only: Collection[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` passages that rank best for ``terms`` by BM25 (higher is better), with
        ``as_of`` only those published by that day or undated, with ``only`` only those of
        these articles."""
        wanted = list(dict.fromkeys(t for t in terms if t))
        if not wanted or (only is not None and not only):
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in wanted)
        where, params = _filters(as_of, only)
        sql = (
            "SELECT p.id, -bm25(words) FROM words JOIN passages p ON p.n = words.rowid "
            f"WHERE words MATCH ?{where} ORDER BY bm25(words) LIMIT ?"
        )
        params = [match, *params, k]
        with self._lock:
            return [(str(i), float(s)) for i, s in self._db.execute(sql, params)]


def _filters(as_of: int | None, only: Collection[str] | None) -> tuple[str, list[object]]:
    """The SQL conditions (and their values) for ``as_of`` and ``only``."""
    sql, params = "", list[object]()
    if as_of is not None:
        sql += " AND p.day <= ?"
        params.append(as_of)
    if only is not None:
        sql += f" AND p.article_id IN ({','.join('?' * len(only))})"
        params.extend(sorted(only))
    return sql, params
