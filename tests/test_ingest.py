"""Files -> articles: parsing each format, skip reasons, content-hash ids, and re-ingesting.

Parsing is tested on its own; ingesting goes through ``Assistant`` with the fake embedder and
a real Chroma index in ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import ArticleNotFoundError, InputError
from assistant.ingest import Parsed, article_id, collect, normalise, parse, read_file
from assistant.records import Article

STORY = (
    "Council approves the river bridge\n"
    "The city council approved the new river bridge on Monday after a long debate.\n"
    "Construction will start next spring and should take two years.\n"
)
OTHER = (
    "Library opens late on Fridays\n"
    "The central library will stay open until ten on Fridays from next month.\n"
)


def one(parsed: list[Parsed]) -> Article:
    assert len(parsed) == 1, parsed
    assert parsed[0].article is not None, parsed[0].reason
    return parsed[0].article


def reason(parsed: list[Parsed]) -> str:
    assert len(parsed) == 1, parsed
    assert parsed[0].article is None
    assert parsed[0].reason
    return parsed[0].reason


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# parsing --------------------------------------------------------------------------------


def test_txt_title_is_the_first_non_empty_line() -> None:
    article = one(parse("story.txt", "k", ("\n\n   \n" + STORY).encode()))
    assert article.title == "Council approves the river bridge"
    assert article.text.startswith("Council approves the river bridge\nThe city council")
    assert article.id == article_id(article.text)


def test_md_heading_markers_are_dropped() -> None:
    md = "# Council approves the bridge\n\n## Details\n\nThe council voted **yes** on Monday.\n"
    article = one(parse("story.md", "k", md.encode()))
    assert article.title == "Council approves the bridge"
    assert "#" not in article.text
    assert "Details" in article.text


def test_html_keeps_the_article_and_drops_navigation_scripts_and_styles() -> None:
    page = (
        "<html><head><title>Bridge approved</title><style>.hidden{color:red}</style>"
        "<script>var trackingSecret = 1;</script></head><body>"
        "<nav>Home | Sports | Weather | Contact us</nav><article><h1>Bridge approved</h1>"
        "<p>The city council approved the new river bridge on Monday after a long debate.</p>"
        "<p>Construction will start next spring and should take two years to complete.</p>"
        "</article></body></html>"
    )
    article = one(parse("page.html", "k", page.encode()))
    assert article.title == "Bridge approved"
    assert "approved the new river bridge on Monday" in article.text
    assert "two years to complete" in article.text
    for junk in ("trackingSecret", "color:red", "Weather", "Contact us"):
        assert junk not in article.text


def test_html_without_article_text_is_skipped() -> None:
    page = b"<html><head><script>var x = 1;</script></head><body></body></html>"
    assert "HTML" in reason(parse("empty.htm", "k", page))


def test_json_object_carries_its_metadata() -> None:
    record = {
        "title": "Bridge approved",
        "text": "The council approved the bridge.",
        "published": "2025-06-02",
        "source": "City Gazette",
        "url": "https://example.org/bridge",
    }
    article = one(parse("a.json", "k", json.dumps(record).encode()))
    assert (article.title, article.published, article.source, article.url) == (
        "Bridge approved",
        "2025-06-02",
        "City Gazette",
        "https://example.org/bridge",
    )
    assert article.text == "The council approved the bridge."


def test_json_list_gives_one_article_per_record_with_its_own_key() -> None:
    records = [{"text": "First story text."}, {"text": "Second story text.", "title": "Two"}]
    parsed = parse("many.json", "file", json.dumps(records).encode())
    assert [p.article.title for p in parsed if p.article] == ["First story text.", "Two"]
    assert [p.label for p in parsed] == ["many.json:1", "many.json:2"]
    assert len({p.key for p in parsed}) == 2


def test_jsonl_records_skip_blank_lines_and_report_bad_ones() -> None:
    lines = [
        json.dumps({"text": "Alpha story.", "published": "2025-01-02T10:00:00Z"}),
        "",
        "{not json",
        json.dumps({"title": "No text here"}),
        json.dumps({"text": "Bad date story.", "published": "last Tuesday"}),
        json.dumps(["not", "an", "object"]),
    ]
    parsed = parse("feed.jsonl", "k", "\n".join(lines).encode())
    assert parsed[0].article is not None
    assert parsed[0].article.published == "2025-01-02T10:00:00Z"
    reasons = {p.label: p.reason for p in parsed[1:]}
    assert set(reasons) == {"feed.jsonl:3", "feed.jsonl:4", "feed.jsonl:5", "feed.jsonl:6"}
    assert "invalid JSON" in str(reasons["feed.jsonl:3"])
    assert "'text'" in str(reasons["feed.jsonl:4"])
    assert "ISO date" in str(reasons["feed.jsonl:5"]) and "last Tuesday" in str(
        reasons["feed.jsonl:5"]
    )
    assert "JSON object" in str(reasons["feed.jsonl:6"])


def test_invalid_json_file_names_the_line() -> None:
    assert "line 2" in reason(parse("a.json", "k", b'{\n "text": oops}'))


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\t\n", "empty"),
        ("nul.txt", b"text\x00with a NUL byte", "binary"),
        ("latin1.txt", "Café crème".encode("latin-1"), "UTF-8"),
        ("picture.png", b"\x89PNG...", "unsupported type '.png'"),
        ("noext", b"Some words.", "unsupported type '(none)'"),
        ("headings.md", b"#\n# \n", "no text"),
    ],
)
def test_unusable_files_are_skipped_with_a_reason(name: str, data: bytes, expected: str) -> None:
    assert expected in reason(parse(name, "k", data))


def test_utf8_bom_is_not_part_of_the_text() -> None:
    article = one(parse("bom.txt", "k", b"\xef\xbb\xbf" + STORY.encode()))
    assert article.title == "Council approves the river bridge"


def test_normalise_nfc_spaces_and_blank_lines() -> None:
    raw = "Cafe\u0301  crowded\u00a0 today \r\n\r\n\r\n\r\nNext\tline  \n"
    assert normalise(raw) == "Café crowded today\n\nNext line"


def test_article_id_is_a_content_hash() -> None:
    assert article_id("same text") == article_id("same text")
    assert article_id("same text") != article_id("same text!")
    assert len(article_id("x")) == 16


def test_same_text_with_different_whitespace_gets_the_same_id() -> None:
    a = one(parse("a.txt", "a", STORY.encode()))
    b = one(parse("b.txt", "b", STORY.replace(" ", "  ").replace("\n", "\r\n").encode()))
    assert a.id == b.id


def test_read_file_labels_with_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    article = one(read_file(path))
    assert article.path == str(path)


def test_collect_expands_folders_skipping_hidden_and_unsupported(tmp_path: Path) -> None:
    write(tmp_path, "b.txt", STORY)
    write(tmp_path, "sub/a.md", OTHER)
    write(tmp_path, "notes.docx", "x")
    write(tmp_path, ".hidden/c.txt", STORY)
    found = collect([tmp_path, tmp_path / "b.txt"])
    assert found == [tmp_path / "b.txt", tmp_path / "sub" / "a.md"]


def test_collect_missing_path_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No such file or folder"):
        collect([tmp_path, tmp_path / "missing.txt"])


# ingesting ------------------------------------------------------------------------------


def test_ingest_adds_then_reports_unchanged(tmp_path: Path, fake_assistant: Assistant) -> None:
    path = write(tmp_path, "story.txt", STORY)
    first = fake_assistant.ingest([path])
    assert [r.status for r in first.results] == ["added"]
    stats = fake_assistant.stats()
    second = fake_assistant.ingest([path])
    assert [r.status for r in second.results] == ["unchanged"]
    assert second.results[0].article_id == first.results[0].article_id
    assert fake_assistant.stats().passages == stats.passages
    assert len(fake_assistant.articles()) == 1


def test_same_text_under_two_names_is_one_article(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    a = write(tmp_path, "a.txt", STORY)
    b = write(tmp_path, "b.md", STORY)
    report = fake_assistant.ingest([a, b])
    assert [r.status for r in report.results] == ["added", "unchanged"]
    assert len(fake_assistant.articles()) == 1


def test_edited_file_is_updated_and_the_old_article_leaves_no_orphans(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    path = write(tmp_path, "story.txt", STORY)
    old_id = fake_assistant.ingest([path]).results[0].article_id
    assert old_id is not None
    path.write_text(STORY + "A third sentence was added later.\n", encoding="utf-8")
    report = fake_assistant.ingest([path])
    assert [r.status for r in report.results] == ["updated"]
    new_id = report.results[0].article_id
    assert new_id is not None
    assert new_id != old_id
    assert [a.id for a in fake_assistant.articles()] == [new_id]
    with pytest.raises(ArticleNotFoundError):
        fake_assistant.article(old_id)
    passages = fake_assistant.index.passages()
    assert passages and {p.article_id for p in passages} == {new_id}
    stats = fake_assistant.stats()
    assert stats.passages == stats.passages_per_article[new_id] == len(passages)


def test_edited_file_keeps_the_old_text_another_file_still_holds(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    a = write(tmp_path, "a.txt", STORY)
    b = write(tmp_path, "b.txt", STORY)
    fake_assistant.ingest([a])
    assert [r.status for r in fake_assistant.ingest([b]).results] == ["unchanged"]
    a.write_text(OTHER, encoding="utf-8")
    report = fake_assistant.ingest([a])
    assert [r.status for r in report.results] == ["updated"]
    titles = sorted(x.title for x in fake_assistant.articles())
    assert titles == ["Council approves the river bridge", "Library opens late on Fridays"]


def test_remove_deletes_the_article_and_its_passages(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    report = fake_assistant.ingest(
        [write(tmp_path, "a.txt", STORY), write(tmp_path, "b.txt", OTHER)]
    )
    gone, kept = (r.article_id for r in report.results)
    assert gone is not None and kept is not None
    fake_assistant.remove(gone)
    assert [a.id for a in fake_assistant.articles()] == [kept]
    assert {p.article_id for p in fake_assistant.index.passages()} == {kept}
    assert fake_assistant.stats().articles == 1


def test_remove_unknown_id_raises_and_changes_nothing(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    fake_assistant.ingest([write(tmp_path, "a.txt", STORY)])
    before = fake_assistant.stats()
    with pytest.raises(ArticleNotFoundError, match="assistant articles"):
        fake_assistant.remove("0000000000000000")
    after = fake_assistant.stats()
    assert (after.articles, after.passages) == (before.articles, before.passages)


def test_nonexistent_path_raises_and_ingests_nothing(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    good = write(tmp_path, "a.txt", STORY)
    with pytest.raises(InputError, match=r"missing\.txt"):
        fake_assistant.ingest([good, tmp_path / "missing.txt"])
    assert fake_assistant.articles() == []
    assert fake_assistant.stats().passages == 0


def test_one_bad_file_in_a_folder_does_not_stop_the_good_ones(
    tmp_path: Path, fake_assistant: Assistant
) -> None:
    folder = tmp_path / "news"
    write(folder, "a.txt", STORY)
    write(folder, "b-binary.txt", b"\x00\x01\x02")
    write(folder, "c-latin1.txt", "Caf\xe9".encode("latin-1"))
    write(folder, "d.json", json.dumps([{"text": OTHER}, {"title": "no text"}]))
    report = fake_assistant.ingest([folder])
    statuses = {Path(r.path).name: r.status for r in report.results}
    assert statuses == {
        "a.txt": "added",
        "b-binary.txt": "skipped",
        "c-latin1.txt": "skipped",
        "d.json:1": "added",
        "d.json:2": "skipped",
    }
    assert all(r.reason for r in report.results if r.status == "skipped")
    assert len(fake_assistant.articles()) == 2


def test_ingest_reports_progress_per_file(tmp_path: Path, fake_assistant: Assistant) -> None:
    write(tmp_path / "news", "a.txt", STORY)
    write(tmp_path / "news", "b.txt", OTHER)
    seen: list[tuple[int, int]] = []
    fake_assistant.ingest(
        [tmp_path / "news"], progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 2), (2, 2)]


def test_stored_article_keeps_its_metadata(tmp_path: Path, fake_assistant: Assistant) -> None:
    record = {"title": "Bridge", "text": STORY, "published": "2025-06-02", "source": "Gazette"}
    path = write(tmp_path, "a.json", json.dumps(record))
    article_id_ = fake_assistant.ingest([path]).results[0].article_id
    assert article_id_ is not None
    stored = fake_assistant.article(article_id_)
    assert (stored.title, stored.published, stored.source, stored.url) == (
        "Bridge",
        "2025-06-02",
        "Gazette",
        None,
    )
    assert stored.text == normalise(STORY)


def test_upload_uses_only_the_file_name(fake_assistant: Assistant) -> None:
    report = fake_assistant.ingest_data("../../etc/story.txt", STORY.encode())
    assert [(r.path, r.status) for r in report.results] == [("story.txt", "added")]
    article = fake_assistant.articles()[0]
    assert article.path is None


def test_upload_over_the_size_limit_is_skipped(tmp_path: Path, fake_embedder: object) -> None:
    from assistant.config import Settings

    small = Assistant(
        settings=Settings(index_dir=tmp_path / "index", max_upload_bytes=10),
        embedder=fake_embedder,  # type: ignore[arg-type]
    )
    report = small.ingest_data("story.txt", STORY.encode())
    assert report.skipped == 1
    assert "larger than" in str(report.results[0].reason)
    assert small.articles() == []
