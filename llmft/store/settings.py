"""Where the knowledge base lives and which embedder it uses: defaults, overridable by environment variables.

| variable | default | meaning |
|---|---|---|
| `LLMFT_STORE_PATH` | `~/.cache/llmft/store` | folder of the embedded (persistent) Chroma store |
| `LLMFT_CHROMA_HOST` | unset | a Chroma server (`chroma run`); when set, the store lives there, not on disk |
| `LLMFT_CHROMA_PORT` | `8000` | the server's port |
| `LLMFT_STORE_COLLECTION` | `shop` | the collection holding products and document chunks |
| `LLMFT_EMBEDDING_MODEL` | packaged all-MiniLM-L6-v2 | a sentence-transformers id or local folder |
| `LLMFT_EMBEDDING_DTYPE` | `auto` | `auto` (bfloat16 where computed natively, else float32), `float32`, `bfloat16` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from llmft.embedding_model import default_embedding_model
from llmft.errors import StoreError

DEFAULT_COLLECTION = "shop"
DEFAULT_CHUNK_CHARS = 1000  # about 200 MiniLM tokens: one section of a policy page or manual, rarely cut
MAX_QUESTION_CHARS = 2000  # a question longer than this is a pasted document, not a question


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass
class StoreSettings:
    """One knowledge base: an on-disk store (`path`) or a Chroma server (`host`, `port`), and its embedder."""

    path: Path = field(default_factory=lambda: Path.home() / ".cache" / "llmft" / "store")
    host: str | None = None
    port: int = 8000
    collection: str = DEFAULT_COLLECTION
    embedding_model: str = field(default_factory=default_embedding_model)
    embedding_dtype: str = "auto"
    chunk_chars: int = DEFAULT_CHUNK_CHARS

    def __post_init__(self) -> None:
        self.path = Path(self.path).expanduser()
        if self.embedding_dtype not in ("auto", "float32", "bfloat16"):
            raise StoreError(f"LLMFT_EMBEDDING_DTYPE={self.embedding_dtype!r} is not auto, float32 or bfloat16")
        if not 200 <= self.chunk_chars <= 8000:
            raise StoreError(f"chunk size {self.chunk_chars} characters is outside 200..8000")

    @property
    def where(self) -> str:
        """Where the data lives, for messages and summaries."""
        return f"Chroma server {self.host}:{self.port}" if self.host else f"store folder {self.path}"

    @classmethod
    def from_env(cls, **overrides: object) -> StoreSettings:
        """Settings from the `LLMFT_*` variables; keyword arguments that are not None win over them."""
        values: dict[str, object] = {}
        if path := _env("LLMFT_STORE_PATH"):
            values["path"] = Path(path)
        if host := _env("LLMFT_CHROMA_HOST"):
            values["host"] = host
        if port := _env("LLMFT_CHROMA_PORT"):
            if not port.isdigit():
                raise StoreError(f"LLMFT_CHROMA_PORT={port!r} is not a port number")
            values["port"] = int(port)
        if collection := _env("LLMFT_STORE_COLLECTION"):
            values["collection"] = collection
        if model := _env("LLMFT_EMBEDDING_MODEL"):
            values["embedding_model"] = model
        if dtype := _env("LLMFT_EMBEDDING_DTYPE"):
            values["embedding_dtype"] = dtype
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
