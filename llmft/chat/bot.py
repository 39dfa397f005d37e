"""`ShopBot`: a question (and the conversation) -> retrieval -> the model phrases the facts -> the check.

    bot = ShopBot(KnowledgeBase.demo(), backend.chat_model(), backend.label)
    for reply in bot.stream("what is the cheapest phone?", history):   # partial replies, then the final one
        print(reply.text)
    reply.status   # "grounded" (model answer passed the check), "replaced" (it failed: the grounded answer),
                   # "retrieval-only" (no model answered), or "no-model"

The model only phrases: structured answers (cheapest, price limits, in stock, "do you sell X") are computed by
the retriever, and every price, product name and policy figure in the model's text must be in its sources,
or the answer is replaced by the one built from the sources (`llmft.chat.grounding`). Chat never writes to
the store: the bot holds only the knowledge base's search.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmft.apps.errors import redact
from llmft.chat.grounding import Sources, check_answer, grounded_answer
from llmft.chat.prompts import answer_messages, rewrite_messages
from llmft.errors import LlmftError
from llmft.store.retrieval import conversation_turns
from llmft.store.settings import MAX_QUESTION_CHARS

logger = logging.getLogger(__name__)

MAX_REWRITE_CHARS = 300  # a "rewrite" longer than this is the model chatting, not a question


class ChatError(LlmftError, ValueError):
    """A chat message the bot cannot take (empty); the message says what to do."""


@dataclass
class Reply:
    text: str
    sources: Sources
    backend: str
    status: str = "streaming"
    notices: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what the check found in the model's answer
    model_text: str = ""  # the model's own answer, kept when it was replaced
    first_token_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.text, "status": self.status, "backend": self.backend, "notices": self.notices,
                "problems": self.problems, "query": self.sources.question, "note": self.sources.note,
                "sources": [s.to_dict() for s in self.sources.items]}


def prepare(message: Any) -> tuple[str, list[str]]:
    """The message to answer and the notices about it (trimmed); ChatError when there is nothing to answer."""
    if not isinstance(message, str) or not message.strip():
        raise ChatError("the message is empty: ask about a product, a price or a store policy")
    text = " ".join(message.split())
    if len(text) > MAX_QUESTION_CHARS:
        notice = (f"Your message had {len(text):,} characters; only the first {MAX_QUESTION_CHARS:,} were read "
                  "(ask about one thing at a time).")
        return text[:MAX_QUESTION_CHARS], [notice]
    return text, []


def model_failure(err: BaseException) -> str:
    """Why the model did not answer, in words a person can act on (never the key)."""
    name = type(err).__name__
    if "Authentication" in name or "PermissionDenied" in name:
        why = "the model server refused the API key (check OPENAI_API_KEY)"
    elif "Timeout" in name:
        why = "the model did not answer in time (LLMFT_CHAT_TIMEOUT)"
    elif "Connection" in name:
        why = "the model server could not be reached (is it running? check OPENAI_BASE_URL)"
    else:
        why = f"the model server failed ({name})"
    return redact(why)


class ShopBot:
    def __init__(self, knowledge_base: Any, model: Any = None, backend: str = "no model", k: int = 5,
                 rewrite_with_model: bool = False):
        self.kb = knowledge_base
        self.model = model
        self.backend = backend
        self.k = k
        self.rewrite_with_model = rewrite_with_model

    def catalogue_titles(self) -> list[str]:
        return [str(r.metadata.get("title")) for r in self.kb.retriever.products if r.metadata.get("title")]

    def rewrite(self, question: str, turns: list[tuple[str, str]]) -> str | None:
        """A standalone question from the model, or None: the store then joins the follow-up to the last turn."""
        if not (self.rewrite_with_model and self.model is not None and turns):
            return None
        try:
            text = self.model.invoke(rewrite_messages(question, turns)).content
        except Exception as err:  # noqa: BLE001 - any model failure falls back to the store's join
            logger.warning("follow-up rewrite failed, using the conversation join: %s", model_failure(err))
            return None
        text = " ".join(str(text).split()).strip("\"' ")
        return text if 0 < len(text) <= MAX_REWRITE_CHARS else None

    def sources(self, question: str, history: Sequence[Any] = ()) -> Sources:
        turns = conversation_turns(history)
        rewritten = self.rewrite(question, turns)
        result = self.kb.search(question, k=self.k, history=[t for t in turns if t[0] == "user"], rewritten=rewritten)
        return Sources.from_result(result, self.catalogue_titles())

    def fact(self, sources: Sources) -> str:
        """The structured answer computed from the catalogue, when the question asked for one."""
        products = sources.products
        if products and any(w in products[0].reason for w in ("cheapest", "most expensive", "best rated")):
            top = products[0]
            return f"the answer is {top.title} (id {top.id}) at ${top.price:.2f} ({top.reason})."
        if sources.nothing_fits:
            return "nothing in the store matches: say that the store does not sell it."
        return ""

    def stream(self, message: Any, history: Sequence[Any] = ()) -> Iterator[Reply]:
        """Partial replies while the model writes, then the final, checked one."""
        question, notices = prepare(message)
        sources = self.sources(question, history)
        reply = Reply("", sources, self.backend, notices=notices)
        if self.model is None:
            reply.text, reply.status = grounded_answer(sources), "no-model"
            yield reply
            return
        started = time.perf_counter()
        try:
            for chunk in self.model.stream(answer_messages(question, sources.context(), self.fact(sources))):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece and reply.first_token_s is None:
                    reply.first_token_s = time.perf_counter() - started
                reply.text += piece
                if piece:
                    yield reply
        except Exception as err:  # noqa: BLE001 - any failure of the model: answer from retrieval alone
            why = model_failure(err)
            logger.warning("model failed, answering from retrieval: %s", why)
            reply.model_text, reply.status = reply.text, "retrieval-only"
            reply.notices.append(f"The language model did not answer: {why}. Here is what the store's data says.")
            reply.text = grounded_answer(sources)
            yield reply
            return
        yield self.checked(reply)

    def checked(self, reply: Reply) -> Reply:
        """The post-generation check: a model answer with anything not in its sources is replaced."""
        reply.model_text = reply.text
        reply.problems = check_answer(reply.text, reply.sources)
        if not reply.text.strip():
            reply.problems.append("the model gave an empty answer")
        if reply.problems:
            reply.status = "replaced"
            reply.notices.append("The model's answer was replaced by the answer built from the store's data, "
                                 "because it was not supported by the sources: " + "; ".join(reply.problems[:3]))
            reply.text = grounded_answer(reply.sources)
        else:
            reply.status = "grounded"
        return reply

    def answer(self, message: Any, history: Sequence[Any] = ()) -> Reply:
        *_, final = self.stream(message, history)  # the last reply is the final, checked one
        return final
