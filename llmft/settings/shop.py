"""What the Shopbot reads: its chat model (`ChatSettings`), the embedded llama.cpp server's supervision
(`SupervisorSettings`, and `LocalServerChild`, what the app hands the server process it starts), and the
knowledge base (`StoreSettings`: an on-disk Chroma store or a Chroma server, and its embedder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, get_args

from llmft.embedding_model import default_embedding_model
from llmft.errors import StoreError
from llmft.settings.env import EnvSettings, setting

DEFAULT_CHAT_MODEL = "gpt-3.5-turbo"  # the course's model
RewriteMode = Literal["auto", "llm", "store"]
StoreChoice = Literal["demo", "env"]
EmbeddingDtype = Literal["auto", "float32", "bfloat16"]
EmbeddingBackend = Literal["auto", "onnx-int8", "torch"]
DEFAULT_COLLECTION = "shop"
DEFAULT_CHUNK_CHARS = 1000  # about 200 MiniLM tokens: one section of a policy page or manual, rarely cut
MAX_QUESTION_CHARS = 2000  # a question longer than this is a pasted document, not a question


@dataclass(frozen=True)
class ChatSettings(EnvSettings):
    """The Shopbot's model: OpenAI, any OpenAI-compatible server, or (neither set) the embedded local one."""

    api_key: str | None = setting("OPENAI_API_KEY", None, "OpenAI's API (backend \"openai\"), unless "
                                  "`OPENAI_BASE_URL` is set too", secret=True)
    base_url: str | None = setting("OPENAI_BASE_URL", None, "any OpenAI-compatible server (vLLM, Ollama, llama.cpp, "
                                   "hosted endpoints): backend \"compatible\"")
    model: str = setting("LLMFT_CHAT_MODEL", DEFAULT_CHAT_MODEL, "the chat model's name for those two backends")
    timeout: float = setting("LLMFT_CHAT_TIMEOUT", 30.0, "seconds to wait for the model before answering from the "
                             "computed answer alone", positive=True)
    max_tokens: int = setting("LLMFT_CHAT_MAX_TOKENS", 256, "most tokens per answer", minimum=1)
    rewrite: RewriteMode = setting("LLMFT_CHAT_REWRITE", "auto", "follow-up rewriting: `auto` (the model on remote "
                                   "backends, the store's history join on the local 135M one), `llm` or `store`")
    store: StoreChoice = setting("LLMFT_SHOPBOT_STORE", "demo", "`demo`: the demo shop shipped in the package, "
                                 "filled on first start; `env`: the store `LLMFT_STORE_PATH` / `LLMFT_CHROMA_*` name")
    admin_password: str | None = setting("LLMFT_SHOPBOT_ADMIN_PASSWORD", None, "opens the admin tab (upload and "
                                         "ingest files); unset: no admin tab", secret=True)


@dataclass(frozen=True)
class SupervisorSettings(EnvSettings):
    """How the embedded llama.cpp server is watched and restarted."""

    max_restarts: int = setting("LLMFT_LOCAL_LLM_MAX_RESTARTS", 3, "restarts allowed within any minute; one crash "
                                "more: marked down")
    backoff_s: float = setting("LLMFT_LOCAL_LLM_BACKOFF_S", 1.0, "seconds before the first restart; doubled for each "
                               "restart within the last minute")
    hang_s: float = setting("LLMFT_LOCAL_LLM_HANG_S", 60.0, "seconds a live server may fail every health check "
                            "before it is killed and restarted")
    check_every_s: float = 1.0
    start_timeout_s: float = 60.0


@dataclass(frozen=True)
class LocalServerChild(EnvSettings):
    """What the app hands the llama.cpp server process it starts (by environment: a key never goes in argv)."""

    api_key: str | None = setting("LLMFT_LOCAL_LLM_KEY", None, "the server's API key", secret=True, internal=True)
    parent_pid: int | None = setting("LLMFT_LOCAL_LLM_PARENT", None, "the app's pid: the server ends when it does",
                                     internal=True)


@dataclass
class StoreSettings(EnvSettings):
    """One knowledge base: an on-disk store (`path`) or a Chroma server (`host`, `port`), and its embedder."""

    error: ClassVar[type[StoreError]] = StoreError

    path: Path = setting("LLMFT_STORE_PATH", factory=lambda: Path.home() / ".cache" / "llmft" / "store",
                         shown="`~/.cache/llmft/store`", meaning="folder of the embedded (persistent) Chroma store")
    host: str | None = setting("LLMFT_CHROMA_HOST", None, "a Chroma server (`chroma run`); when set, the store "
                               "lives there, not on disk")
    port: int = setting("LLMFT_CHROMA_PORT", 8000, "the server's port", minimum=1)
    timeout: float = setting("LLMFT_CHROMA_TIMEOUT", 10.0, "seconds a Chroma server may take to answer a call, "
                             "connecting included", positive=True)
    collection: str = setting("LLMFT_STORE_COLLECTION", DEFAULT_COLLECTION, "the collection holding products and "
                              "document chunks")
    embedding_model: str = setting("LLMFT_EMBEDDING_MODEL", factory=default_embedding_model,
                                   shown="packaged all-MiniLM-L6-v2", meaning="a sentence-transformers id or folder")
    embedding_dtype: EmbeddingDtype = setting("LLMFT_EMBEDDING_DTYPE", "auto", "`auto` (bfloat16 where computed "
                                              "natively, else float32), `float32`, `bfloat16`")
    embedding_backend: EmbeddingBackend = setting("LLMFT_EMBEDDING_BACKEND", "auto", "`auto` (ONNX int8 where it "
                                                  "runs, else torch), `onnx-int8`, `torch`")
    chunk_chars: int = field(default=DEFAULT_CHUNK_CHARS)

    def __post_init__(self) -> None:
        self.path = Path(self.path).expanduser()
        dtypes = get_args(EmbeddingDtype)
        if self.embedding_dtype not in dtypes:  # a value from code; from_env has checked the variable's
            raise StoreError(f"embedding dtype {self.embedding_dtype!r}: use one of {', '.join(dtypes)}.")
        if not 200 <= self.chunk_chars <= 8000:
            raise StoreError(f"chunk size {self.chunk_chars} characters is outside 200..8000")

    @property
    def where(self) -> str:
        """Where the data lives, for messages and summaries."""
        return f"Chroma server {self.host}:{self.port}" if self.host else f"store folder {self.path}"
