"""The Shopbot page's endpoints (`ShopbotEndpoints`): methods over the services `app.py` made, whose parameter names
are the API's (`/chat`, `/answer`, `/sources`, `/backend`, `/vote`, `/ingest`); `llmft.apps.shopbot` lays them out.

No `from __future__ import annotations` here: `gr.api` reads the types of the API-only endpoints off their
annotations, which must be objects, not strings.
"""

import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from llmft.apps.errors import gradio_errors, user_message
from llmft.apps.serve import vote_thanks
from llmft.apps.services import ShopbotServices
from llmft.chat.render import reply_markdown, sources_html
from llmft.errors import LlmftError, StoreError
from llmft.feedback.rows import shopbot_fields
from llmft.store.catalogue import CATALOGUE_SUFFIXES
from llmft.store.documents import DOCUMENT_SUFFIXES


class RecentReplies:
    """The last answers' status, backend and sources by their text, so a vote on an answer records them (bounded;
    an answer the server no longer knows, e.g. after a restart, is recorded with status 'unknown')."""

    def __init__(self, limit: int = 2000):
        self.limit = limit
        self._replies: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()  # answers finish in several worker threads at once

    def remember(self, reply: Any) -> None:
        details = reply.to_dict()
        with self._lock:
            for text in (reply_markdown(reply).strip(), reply.text.strip()):
                self._replies[text] = details
                self._replies.move_to_end(text)
            while len(self._replies) > self.limit:
                self._replies.popitem(last=False)

    def recall(self, answer: str) -> dict[str, Any] | None:
        with self._lock:
            return self._replies.get((answer or "").strip())


def text_of(content: Any) -> str:
    """A chat message's text: a string, or Gradio's list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return ""


class ShopbotEndpoints:
    """The endpoints over one bot, backend, store and feedback store; `admin_password` empty: no ingestion."""

    def __init__(self, services: ShopbotServices, admin_password: str = ""):
        self.services = services
        self.admin_password = admin_password
        self.replies = RecentReplies()

    def chat(self, message: str, history: list[dict[str, Any]] | None = None) -> Iterator[tuple[str, str]]:
        """Stream the answer to `message` (markdown), with its sources as HTML; the last pair is the checked answer."""
        try:
            reply = None
            for reply in self.services.bot.stream(message, history or []):
                yield reply_markdown(reply), sources_html(reply)
            if reply is not None:
                self.replies.remember(reply)
        except LlmftError as err:  # a generator: gradio_errors cannot wrap it, so the same conversion here
            raise gr.Error(user_message(err), print_exception=False) from err

    @gradio_errors
    def answer(self, message: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The checked answer with its sources, status, backend and notices, as JSON (no streaming)."""
        reply = self.services.bot.answer(message, history or [])
        self.replies.remember(reply)
        return reply.to_dict()

    @gradio_errors
    def sources(self, question: str) -> list[dict[str, Any]]:
        """What the store retrieves for `question` (no model): products and passages with their citations."""
        return [s.to_dict() for s in self.services.bot.sources(question).items]

    def backend(self) -> str:
        """Which model answers (never the key), and when it cannot answer now, why: restarting or down since when."""
        backend = self.services.backend
        state = backend.state()
        if state.state in ("answering", "unchecked") or backend.kind == "none":  # "none": the label says why
            return backend.label
        return f"{backend.label} · {state.describe()}"

    def backend_markdown(self) -> str:
        return f"**Model answering:** {self.backend()}"

    @gradio_errors
    def vote(self, question: str, answer: str, vote: str = "down", comment: str = "") -> str:
        """Record a vote ("up" or "down") on an answer to `question`, with an optional comment; returns where it
        went. The answer's status, backend and sources are recorded when this server gave the answer."""
        feedback = self.services.feedback
        feedback.record("shopbot", vote, shopbot_fields(question, answer, self.replies.recall(answer)), comment)
        return vote_thanks(feedback, vote)

    def vote_on_message(self, history: list[dict[str, Any]] | None, comment: str, data: gr.LikeData) -> Any:
        """The thumbs under an answer: its question is the visitor's message before it."""
        if data.liked not in (True, False):  # a vote taken back: the row already written stays
            return "Your earlier vote stays recorded; a new one adds a row.", gr.skip()
        history = history or []
        index = data.index if isinstance(data.index, int) else data.index[0]
        answer_text = text_of(history[index].get("content")) if 0 <= index < len(history) else text_of(data.value)
        question = next((text_of(m.get("content")) for m in reversed(history[:index]) if m.get("role") == "user"), "")
        return self.vote(question, answer_text, "up" if data.liked else "down", comment), ""

    def index_statistics(self) -> dict[str, Any]:
        store = self.services.store
        return {"records": store.count(), "products": len(store.retriever.products), "store": store.settings.where}

    @gradio_errors
    def ingest(self, files: list[str] | None, password: str = "",
               progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
        """Admin: ingest catalogue (.csv/.json/.jsonl) and document files into the store; returns the summary."""
        if not self.admin_password or not hmac.compare_digest(password or "", self.admin_password):
            raise gr.Error("Wrong admin password.", print_exception=False)
        if not files:
            raise StoreError("choose one or more files to ingest first")
        paths = [Path(f) for f in files]
        supported = (*CATALOGUE_SUFFIXES, *DOCUMENT_SUFFIXES)
        unsupported = [p.name for p in paths if p.suffix.lower() not in supported]
        if unsupported:  # refused before anything is ingested, so an upload is all or nothing
            raise StoreError(f"unsupported file type: {', '.join(unsupported)} (supported: "
                             f"{', '.join(sorted(set(supported)))}); nothing was ingested")
        catalogues = [p for p in paths if p.suffix.lower() in CATALOGUE_SUFFIXES]
        documents = [p for p in paths if p not in catalogues]
        progress(0, desc="ingesting")
        summary = self.services.store.ingest(catalogues, documents, progress=False)
        progress(1, desc="done")
        return "\n".join(summary.lines()), self.index_statistics()
