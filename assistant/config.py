"""Settings: defaults < assistant.toml < ASSISTANT_* environment < explicit arguments."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.embedding import Backend
from assistant.errors import ConfigError


class Settings(BaseSettings):
    """Every knob of the assistant, validated.

    Values come from, lowest first: these defaults, ``assistant.toml`` in the working
    directory, ``ASSISTANT_*`` environment variables, and keyword arguments.
    """

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", toml_file="assistant.toml", extra="forbid"
    )

    index_dir: Path = Path("index")
    chroma_url: str | None = Field(
        default=None, description="A Chroma server, e.g. http://127.0.0.1:8000; None = on disk."
    )
    collection: str = "articles"
    passage_chars: int = Field(default=500, ge=100, le=4000)
    top_k: int = Field(default=5, ge=1, le=50)
    candidates: int = Field(default=20, ge=1, le=200)
    max_question_chars: int = Field(default=2000, ge=10)
    max_upload_bytes: int = Field(default=5_000_000, ge=1)
    embed_batch_size: int | None = Field(
        default=None,
        ge=1,
        description="Texts per model call; None = 8 on the CPU, 64 on a GPU. On the CPU small "
        "batches pad less and hold less memory: 8 encodes faster than 64 and holds a quarter of "
        'the memory (docs/benchmarks.md, "Embedding backends").',
    )
    embedding_backend: Backend = Field(
        default="onnx",
        description="How the model runs: onnx (default), onnx-int8 (about 1.6 times as fast to "
        "ingest with) or torch (sentence-transformers). The index works with any of them.",
    )
    malloc_arenas: int = Field(
        default=2,
        ge=0,
        description="glibc malloc arenas the process keeps, set when an Assistant opens; 0 = "
        "the C library's default (8 per core). Two held 80 to 100 MB less asking at a year of "
        'news, at the same speed (docs/benchmarks.md, "Memory at a year of news").',
    )
    blas_threads: int = Field(
        default=1,
        ge=0,
        description="Threads NumPy's BLAS may use, set when an Assistant opens; 0 = its own "
        "number (one per core). One keeps its idle threads from taking the cores from the "
        "networks: ingest encoded 25% faster, asks 4% (assistant/process.py).",
    )
    lock_timeout: float = Field(
        default=60.0, ge=0, description="Seconds a writer waits for another process's write."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1 for Ollama) "
        "that writes the answers; None = the extractive answerer.",
    )
    llm_model: str = Field(default="default", description="The model name the endpoint serves.")
    llm_api_key: SecretStr | None = Field(
        default=None, description="The endpoint's API key; None = OPENAI_API_KEY, if set."
    )
    llm_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for the model before answering without it."
    )
    prompts_dir: Path | None = Field(
        default=None, description="A folder with your own prompt templates; None = prompts/."
    )
    conversations_dir: Path | None = Field(
        default=None,
        description="Where the chat page keeps conversations; None = the user's data folder.",
    )
    page_assistants: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="Assistants the chat page keeps, so that as many people are answered at "
        "once; None = one per core, at most 4. Each shares the models and costs about 160 MB "
        'more at a year of news (docs/benchmarks.md, "Chat page at scale").',
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(**overrides: object) -> Settings:
    """Build ``Settings``, turning validation problems into a one-line ``ConfigError``."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"assistant.toml is not valid TOML ({exc}) - fix or remove it.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"Invalid setting {field!r}: {first['msg']} - fix it in assistant.toml "
            f"or the ASSISTANT_{field.upper()} environment variable."
        ) from None
