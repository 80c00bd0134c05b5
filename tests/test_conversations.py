"""The conversation store: real files in tmp_path, one per chat id, per index, capped."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from assistant import ConversationStore, InputError, Settings
from assistant.conversations import conversations_root, index_location

INDEX = "/srv/news/index#articles"
ID = "0f" * 16  # the shape of uuid.uuid4().hex
TURNS: list[dict[str, Any]] = [
    {"role": "user", "text": "Who leads the Russian team?", "sources": []},
    {
        "role": "assistant",
        "text": "Vladimir Medinsky [1]",
        "seconds": 0.42,
        "sources": [{"marker": 1, "title": "Talks «in Istanbul»", "short": [5, 21]}],
        "short": {"text": "Vladimir Medinsky", "marker": 1, "start": 120, "end": 137},
    },
]


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "conversations", INDEX)


def chat_id(n: int) -> str:
    return f"{n:032x}"


def test_saved_turns_load_back_equal(store: ConversationStore) -> None:
    assert store.save(ID, TURNS) is True

    assert store.load(ID) == TURNS
    assert store.load(chat_id(7)) is None  # never saved


def test_a_new_store_on_the_same_folder_finds_saved_conversations(tmp_path: Path) -> None:
    ConversationStore(tmp_path, INDEX).save(ID, TURNS)

    assert ConversationStore(tmp_path, INDEX).load(ID) == TURNS  # as after a restart
    assert ConversationStore(tmp_path, "/other/index#articles").load(ID) is None


def test_each_index_has_its_own_folder_and_a_file_of_another_index_is_not_loaded(
    tmp_path: Path,
) -> None:
    mine, other = ConversationStore(tmp_path, INDEX), ConversationStore(tmp_path, "elsewhere")
    mine.save(ID, TURNS)
    other.folder.mkdir(parents=True)
    (other.folder / f"{ID}.json").write_bytes((mine.folder / f"{ID}.json").read_bytes())

    assert mine.folder != other.folder and mine.folder.parent == tmp_path
    assert other.load(ID) is None
    assert mine.load(ID) == TURNS


def test_saving_again_replaces_the_file_and_leaves_no_temporary_files(
    store: ConversationStore,
) -> None:
    store.save(ID, TURNS)
    store.save(ID, [*TURNS, {"role": "user", "text": "And then?"}])

    assert [p.name for p in store.folder.iterdir()] == [f"{ID}.json"]
    stored = json.loads((store.folder / f"{ID}.json").read_text(encoding="utf-8"))
    assert stored["format"] == 1 and stored["index"] == INDEX and stored["chat_id"] == ID
    assert stored["turns"][-1] == {"role": "user", "text": "And then?"}


def test_a_failed_write_keeps_the_old_file_whole(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(ID, TURNS)

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    assert store.save(ID, [{"role": "user", "text": "lost"}]) is False
    monkeypatch.undo()

    assert [p.name for p in store.folder.iterdir()] == [f"{ID}.json"]
    assert ConversationStore(store.root, INDEX).load(ID) == TURNS  # the file is the old one
    assert store.load(ID) == [{"role": "user", "text": "lost"}]  # this process remembers


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"format": 1, "index": ',
        b"\xff\xfe not utf-8",
        b"[]",
        b'{"format": 2, "index": "x", "chat_id": "y", "turns": []}',
        b'{"format": 1, "index": "/srv/news/index#articles", "chat_id": "' + ID.encode() + b'"}',
        b'{"format": 1, "index": "/srv/news/index#articles", "chat_id": "'
        + ID.encode()
        + b'", "turns": ["not a turn"]}',
    ],
    ids=["empty", "cut short", "not utf-8", "a list", "format 2", "no turns", "bad turns"],
)
def test_a_corrupt_or_unknown_file_reads_as_absent(
    store: ConversationStore, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    store.folder.mkdir(parents=True)
    (store.folder / f"{ID}.json").write_bytes(body)

    with caplog.at_level(logging.WARNING, logger="assistant.conversations"):
        assert store.load(ID) is None

    assert "Ignoring the conversation" in caplog.text
    assert store.save(ID, TURNS) and store.load(ID) == TURNS  # and saving repairs it


def test_a_file_under_another_chat_id_is_not_loaded(store: ConversationStore) -> None:
    store.save(ID, TURNS)
    (store.folder / f"{ID}.json").rename(store.folder / f"{chat_id(1)}.json")

    assert store.load(chat_id(1)) is None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "../../etc/passwd",
        "..",
        "abc",
        "0F" * 16,
        "/tmp/" + ID,
        ID + ".json",
        "a" * 65,
        ID + "\n",
    ],
)
def test_a_bad_chat_id_is_refused_and_nothing_is_written(
    store: ConversationStore, bad: str
) -> None:
    assert not ConversationStore.is_chat_id(bad)
    for call in (store.load, store.delete, lambda c: store.save(c, TURNS)):
        with pytest.raises(InputError, match="not a chat id"):
            call(bad)

    assert not store.root.exists()


def test_uuid_shaped_ids_are_accepted() -> None:
    assert ConversationStore.is_chat_id("123e4567-e89b-42d3-a456-426614174000")
    assert ConversationStore.is_chat_id(ID)


def test_only_the_most_recently_saved_conversations_are_kept(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path, INDEX, keep=3)
    for n in range(3):
        store.save(chat_id(n), TURNS)
        os.utime(store.folder / f"{chat_id(n)}.json", ns=(n * 10**9, n * 10**9))
    store.save(chat_id(0), TURNS)  # saving again makes it the newest
    os.utime(store.folder / f"{chat_id(0)}.json", ns=(9 * 10**9, 9 * 10**9))

    store.save(chat_id(3), TURNS)

    assert sorted(p.stem for p in store.folder.iterdir()) == [chat_id(0), chat_id(2), chat_id(3)]
    assert store.load(chat_id(1)) is None


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ConversationStore(tmp_path, INDEX, keep=0)


def test_delete_forgets_one_and_clear_all_forgets_this_index_only(tmp_path: Path) -> None:
    store, other = ConversationStore(tmp_path, INDEX), ConversationStore(tmp_path, "elsewhere")
    for n in range(3):
        store.save(chat_id(n), TURNS)
    other.save(ID, TURNS)
    (store.folder / f".{chat_id(9)}.leftover.tmp").write_text("{", encoding="utf-8")

    store.delete(chat_id(0))
    store.delete(chat_id(0))  # deleting what is gone is a no-op

    assert store.load(chat_id(0)) is None and store.load(chat_id(1)) == TURNS
    assert store.clear_all() == 2
    assert list(store.folder.iterdir()) == []
    assert store.clear_all() == 0
    assert other.load(ID) == TURNS


def test_clear_all_on_a_store_never_written_forgets_nothing(store: ConversationStore) -> None:
    assert store.clear_all() == 0
    assert not store.root.exists()


def test_a_folder_that_cannot_be_made_keeps_conversations_in_memory_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    store = ConversationStore(blocker / "conversations", INDEX)  # fails even for root

    with caplog.at_level(logging.WARNING, logger="assistant.conversations"):
        assert store.save(ID, TURNS) is False
        assert store.save(chat_id(1), TURNS) is False

    warnings = [r for r in caplog.records if "Cannot save conversations" in r.getMessage()]
    assert len(warnings) == 1
    assert "ASSISTANT_CONVERSATIONS_DIR" in warnings[0].getMessage()
    assert store.load(ID) == TURNS
    assert store.clear_all() == 2
    assert store.load(ID) is None


def test_a_read_only_folder_does_not_raise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() == 0:
        print("skipped: running as root, which writes to read-only folders anyway")
        pytest.skip("running as root, which writes to read-only folders anyway")
    store = ConversationStore(tmp_path, INDEX)
    store.save(chat_id(1), TURNS)
    store.folder.chmod(0o555)
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.conversations"):
            assert store.save(ID, TURNS) is False
        assert store.load(ID) == TURNS
        assert "Cannot save conversations" in caplog.text
        assert sorted(p.name for p in store.folder.iterdir()) == [f"{chat_id(1)}.json"]
    finally:
        store.folder.chmod(0o755)


def test_settings_choose_the_folder_and_the_index(tmp_path: Path) -> None:
    on_disk = Settings(index_dir=tmp_path / "index", conversations_dir=tmp_path / "chats")
    served = Settings(chroma_url="http://127.0.0.1:8000/", collection="news")

    assert conversations_root(on_disk) == (tmp_path / "chats").resolve()
    assert index_location(on_disk) == f"{(tmp_path / 'index').resolve()}#articles"
    assert index_location(served) == "http://127.0.0.1:8000#news"
    store = ConversationStore.for_settings(on_disk)
    assert store.folder.parent == (tmp_path / "chats").resolve()
    assert store.index == index_location(on_disk)


def test_without_a_setting_conversations_go_to_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSISTANT_CONVERSATIONS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    root = conversations_root(Settings())

    assert root.name == "conversations" and root.parent.name == "assistant"
    assert root.is_relative_to(tmp_path)
