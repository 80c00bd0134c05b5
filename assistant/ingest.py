"""Files and uploads -> Article records: parse txt/md/html/json/jsonl, normalise, hash."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import trafilatura

from assistant.errors import InputError
from assistant.records import Article

SUPPORTED = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


@dataclass(frozen=True)
class Parsed:
    """One article read from a source, or the reason it could not be read.

    ``key`` names where it came from (a file, or a record inside a file); re-reading the
    same key later replaces what it gave before.
    """

    label: str
    key: str
    article: Article | None = None
    reason: str | None = None


def normalise(text: str) -> str:
    """Unicode NFC, one space between words, no trailing spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def article_id(text: str) -> str:
    """The content hash that identifies an article: same text, same id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def collect(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into the files to ingest, checking that every path exists.

    Raises:
        InputError: a path does not exist (nothing is ingested then).
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"No such file or folder: {raw} - check the path and try again.")
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in SUPPORTED
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def read_file(path: Path) -> list[Parsed]:
    """Parse one file into articles; problems become ``Parsed`` entries with a reason."""
    key = str(path.resolve())
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Parsed(str(path), key, reason=f"cannot be read ({exc.strerror})")]
    return parse(str(path), key, data, path=str(path))


def parse(label: str, key: str, data: bytes, path: str | None = None) -> list[Parsed]:
    """Parse the bytes of one file named ``label`` (only its extension is used)."""
    suffix = Path(label).suffix.lower()
    if suffix not in SUPPORTED:
        return [
            Parsed(
                label,
                key,
                reason=f"unsupported type {suffix or '(none)'!r}; use " + ", ".join(SUPPORTED),
            )
        ]
    if not data.strip():
        return [Parsed(label, key, reason="the file is empty")]
    if b"\x00" in data:
        return [Parsed(label, key, reason="the file is binary, not text")]
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [Parsed(label, key, reason="the file is not UTF-8 text; save it as UTF-8")]
    if suffix in (".json", ".jsonl"):
        return list(_records(label, key, raw, suffix, path))
    if suffix in (".html", ".htm"):
        return [_from_html(label, key, raw, path)]
    text = normalise(_MD_HEADING.sub("", raw) if suffix == ".md" else raw)
    return [_article(label, key, text, {"path": path})]


def _article(label: str, key: str, text: str, meta: dict[str, Any]) -> Parsed:
    if not text:
        return Parsed(label, key, reason="no text after cleaning")
    title = meta.get("title") or text.split("\n", 1)[0]
    article = Article(
        id=article_id(text),
        title=normalise(str(title))[:300],
        text=text,
        published=meta.get("published"),
        source=meta.get("source"),
        url=meta.get("url"),
        path=meta.get("path"),
    )
    return Parsed(label, key, article=article)


def _from_html(label: str, key: str, raw: str, path: str | None) -> Parsed:
    extracted = trafilatura.bare_extraction(
        raw, with_metadata=True, include_comments=False, include_tables=False, as_dict=True
    )
    doc: dict[str, Any] = extracted if isinstance(extracted, dict) else {}
    if not doc.get("text"):
        return Parsed(label, key, reason="no article text found in the HTML")
    meta = {
        "title": doc.get("title"),
        "published": doc.get("date"),
        "source": doc.get("sitename"),
        "url": doc.get("url"),
        "path": path,
    }
    return _article(label, key, normalise(str(doc["text"])), meta)


def _records(label: str, key: str, raw: str, suffix: str, path: str | None) -> Iterator[Parsed]:
    if suffix == ".jsonl":
        for n, line in enumerate(raw.split("\n"), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Parsed(f"{label}:{n}", f"{key}#{n}", reason=f"invalid JSON ({exc.msg})")
                continue
            yield _record(f"{label}:{n}", f"{key}#{n}", record, path)
        return
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        yield Parsed(label, key, reason=f"invalid JSON at line {exc.lineno} ({exc.msg})")
        return
    for n, record in enumerate(value if isinstance(value, list) else [value], 1):
        yield _record(f"{label}:{n}", f"{key}#{n}", record, path)


def _record(label: str, key: str, record: Any, path: str | None) -> Parsed:
    if not isinstance(record, dict):
        return Parsed(label, key, reason="a record must be a JSON object with a 'text' field")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Parsed(label, key, reason="the record has no 'text' field; add the article text")
    published = record.get("published")
    if published is not None:
        try:
            date.fromisoformat(str(published)[:10])
        except ValueError:
            return Parsed(label, key, reason=f"'published' is not an ISO date: {published!r}")
    meta = {name: record.get(name) for name in ("title", "published", "source", "url")}
    meta = {k: (str(v) if v is not None else None) for k, v in meta.items()}
    meta["path"] = path
    return _article(label, key, normalise(text), meta)
