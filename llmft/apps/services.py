"""What each Space's page needs from the services `app.py` makes in `main()`: the `build_app` functions take these.

Each is a `typing.Protocol`, so a test can pass a small fake (tests/test_*_app.py) and the real classes
(`llmft.chat.ShopBot`, `llmft.chat.Backend`, `llmft.store.KnowledgeBase`, `llmft.feedback.FeedbackStore`,
`llmft.summarizing.Summarizer`, `llmft.prompting.PromptingLab`) fit them without naming them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Votes(Protocol):
    """Where a page's votes go (`llmft.feedback.FeedbackStore`)."""

    @property
    def enabled(self) -> bool: ...

    def where(self) -> str: ...

    def record(self, app: str, vote: str, fields: dict[str, Any], comment: str | None = "") -> dict[str, Any]: ...


# --- Shopbot -------------------------------------------------------------------------------------------


class ChatBot(Protocol):
    """Answers a shopper (`llmft.chat.ShopBot`): replies with `.text` and `.to_dict()`; sources with `.items`."""

    def stream(self, message: Any, history: Sequence[Any] = ()) -> Iterator[Any]: ...

    def answer(self, message: Any, history: Sequence[Any] = ()) -> Any: ...

    def sources(self, question: str, history: Sequence[Any] = ()) -> Any: ...


class ChatBackend(Protocol):
    """Which model answers, and whether it can now (`llmft.chat.Backend`)."""

    kind: str  # `llmft.chat.backends.Kind`; not imported: a Space without the chat must not ship llmft.chat

    @property
    def label(self) -> str: ...

    def state(self) -> Any: ...  # `.state` (answering, restarting, ...) and `.describe()`


class ShopStore(Protocol):
    """The shop's knowledge base, for the admin tab (`llmft.store.KnowledgeBase`)."""

    settings: Any  # `.where`: the store's place, in words

    @property
    def retriever(self) -> Any: ...  # `.products`

    def count(self) -> int: ...

    def ingest(self, catalogues: Any = (), documents: Any = (), sync: bool = False, progress: bool = True) -> Any: ...


@dataclass
class ShopbotServices:
    bot: ChatBot
    backend: ChatBackend
    store: ShopStore
    feedback: Votes


# --- Summarizer ----------------------------------------------------------------------------------------


class SummarizerService(Protocol):
    """The variants and their jobs (`llmft.summarizing.Summarizer`)."""

    examples: Any  # `.get(id)`, `.choices()`
    models: Any  # `.base_loads`

    def specs(self, base: str = "", full: str | None = None, adapters: str | None = None) -> list[Any]: ...

    def status(self, specs: list[Any], load: bool = True) -> list[dict[str, Any]]: ...

    def summarize(self, dialogue: str, reference: Any, specs: Any, names: Any = None, max_new_tokens: Any = None,
                  progress: Any = None) -> Any: ...

    def summarize_file(self, path: str, specs: Any, names: Any = None, max_new_tokens: Any = None,
                       progress: Any = None) -> Any: ...

    def evaluate(self, n_dialogues: Any, specs: Any, names: Any = None, max_new_tokens: Any = None,
                 progress: Any = None) -> Any: ...

    def explain(self, dialogue: str, variant_name: str, specs: Any, summary: str = "",
                max_new_tokens: Any = None) -> Any: ...


@dataclass
class SummarizerServices:
    summarizer: SummarizerService
    feedback: Votes


# --- Prompting -----------------------------------------------------------------------------------------


class PromptingService(Protocol):
    """The dataset, shots and models behind the columns (`llmft.prompting.PromptingLab`)."""

    def topics(self) -> list[str]: ...

    def example_choices(self, topic: str = "") -> list[tuple[str, str]]: ...

    def example(self, example_id: str = "", topic: str = "", pick_random: bool = False) -> Any: ...

    def compare(self, dialogue: str, references: Any, configs: Any, settings: Any = None, model: str | None = None,
                progress: Any = None) -> Any: ...

    def evaluate(self, n_dialogues: Any, configs: Any, settings: Any = None, model: str | None = None,
                 progress: Any = None) -> Any: ...


@dataclass
class PromptingServices:
    lab: PromptingService
    feedback: Votes
