"""Settings precedence: defaults < ./assistant.toml < ASSISTANT_* environment < kwargs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Settings, load_settings
from assistant.errors import AssistantError, ConfigError


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty folder with no ASSISTANT_* variables set."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_toml(folder: Path, body: str) -> None:
    (folder / "assistant.toml").write_text(body, encoding="utf-8")


def test_defaults() -> None:
    settings = load_settings()
    assert settings.index_dir == Path("index")
    assert settings.chroma_url is None
    assert settings.collection == "articles"
    assert settings.passage_chars == 500
    assert settings.top_k == 5
    assert settings.max_question_chars == 2000


def test_toml_in_the_working_directory_overrides_defaults(tmp_path: Path) -> None:
    write_toml(tmp_path, 'top_k = 7\nindex_dir = "elsewhere"\n')
    settings = load_settings()
    assert settings.top_k == 7
    assert settings.index_dir == Path("elsewhere")
    assert settings.candidates == 20  # untouched keys keep their defaults


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, "top_k = 7\ncandidates = 30\n")
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    settings = load_settings()
    assert settings.top_k == 9
    assert settings.candidates == 30


def test_keyword_arguments_override_environment_and_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path, "top_k = 7\n")
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    assert load_settings(top_k=11).top_k == 11
    assert Settings(top_k=12).top_k == 12


def test_none_keyword_arguments_do_not_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", "from-env")
    assert load_settings(index_dir=None).index_dir == Path("from-env")


def test_chroma_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", "http://127.0.0.1:8123")
    assert load_settings().chroma_url == "http://127.0.0.1:8123"


def test_toml_elsewhere_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_toml(other, "top_k = 7\n")
    assert load_settings().top_k == 5


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("env:ASSISTANT_TOP_K=0", "top_k"),
        ("env:ASSISTANT_PASSAGE_CHARS=lots", "passage_chars"),
        ("toml:candidates = 0", "candidates"),
        ("toml:passage_chars = 50", "passage_chars"),
        ("toml:no_such_setting = 1", "no_such_setting"),
        ("kwarg:top_k=-1", "top_k"),
    ],
)
def test_invalid_value_is_a_one_line_config_error(
    source: str, field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, _, spec = source.partition(":")
    kwargs: dict[str, object] = {}
    if kind == "env":
        name, _, value = spec.partition("=")
        monkeypatch.setenv(name, value)
    elif kind == "toml":
        write_toml(tmp_path, spec + "\n")
    else:
        name, _, value = spec.partition("=")
        kwargs[name] = int(value)
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert repr(field) in message
    assert "assistant.toml" in message
    assert isinstance(caught.value, AssistantError)
