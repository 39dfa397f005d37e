"""`ShopBot`: a question (and the conversation) -> retrieval -> what is asked -> the answer computed from the
store's data -> the model phrases it -> the check.

    bot = ShopBot(KnowledgeBase.demo(), backend.chat_model(), backend)       # or a label instead of the backend
    for reply in bot.stream("what is the cheapest phone?", history):        # partial replies, then the final one
        print(reply.text)

`Reply.status` is one of:
- "grounded": the model's phrasing passed the check (`llmft.chat.check`); the page says "checked";
- "replaced": it did not; the shopper reads the computed answer, and the notices say why the model's was set aside;
- "retrieval-only": the model did not answer (down, slow, a refused key); the computed answer, with the reason;
- "no-model": no model is configured; the computed answer.
Facts come from code: the model never decides a price, a product, a figure or a yes/no. Chat never writes to the
store: the bot holds only the knowledge base's search.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from llmft.chat.answers import Answer, Answers
from llmft.chat.check import check_phrasing
from llmft.chat.extract import SentencePicker
from llmft.chat.failures import model_failure
from llmft.chat.intent import AskKind, read_question
from llmft.chat.prompts import phrase_messages, rewrite_messages
from llmft.chat.shop import Shop
from llmft.chat.sources import Source, Sources
from llmft.errors import LlmftError
from llmft.settings.shop import MAX_QUESTION_CHARS
from llmft.store.filters import parse_constraints
from llmft.store.retrieval import conversation_turns

if TYPE_CHECKING:
    from llmft.chat.backends import Backend
    from llmft.store import Retriever, SearchResult
    from llmft.store.embeddings import Embedder

logger = logging.getLogger(__name__)

Status = Literal["streaming", "grounded", "replaced", "retrieval-only", "no-model"]
MAX_REWRITE_CHARS = 300  # a "rewrite" longer than this is the model chatting, not a question


class KnowledgeBaseLike(Protocol):
    """What the bot reads from a knowledge base (`llmft.store.KnowledgeBase`): its search, its records, its
    embedder. Chat never writes to the store."""

    embedder: Embedder

    @property
    def retriever(self) -> Retriever: ...

    def search(self, question: str, k: int = 5, history: Sequence[str] = (), rewritten: str | None = None
               ) -> SearchResult: ...


class ChatModelLike(Protocol):
    """What the bot asks of a chat model (a LangChain `ChatOpenAI`, or a scripted one in tests)."""

    def invoke(self, messages: Any) -> Any: ...  # `.content`: the text

    def stream(self, messages: Any, **kwargs: Any) -> Iterator[Any]: ...  # chunks with `.content`


class ChatError(LlmftError, ValueError):
    """A chat message the bot cannot take (empty); the message says what to do."""


@dataclass
class Reply:
    text: str
    sources: Sources
    backend: str
    status: Status = "streaming"
    notices: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what the check found in the model's phrasing
    model_text: str = ""  # the model's own phrasing, kept when it was set aside
    computed: str = ""  # the answer computed from the store's data
    kind: AskKind | Literal[""] = ""  # what was asked ("": nothing yet)
    first_token_s: float | None = None  # from the message to the first visible word

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.text, "status": self.status, "kind": self.kind, "computed": self.computed,
                "backend": self.backend, "notices": self.notices, "problems": self.problems,
                "query": self.sources.question, "note": self.sources.note,
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


def _phrase_tokens(answer: Answer) -> int:
    """A budget for rephrasing: about the computed answer's length, so a loop stops early."""
    return min(256, 32 + len(answer.text) // 3)


class ShopBot:
    def __init__(self, knowledge_base: KnowledgeBaseLike, model: ChatModelLike | None = None,
                 backend: str | Backend = "no model", k: int = 5,
                 rewrite_with_model: bool = False):
        self.kb = knowledge_base
        self.model = model
        self._backend = backend
        self.k = k
        self.rewrite_with_model = rewrite_with_model
        self._picker = SentencePicker(knowledge_base.embedder)
        self._shop: tuple[Any, Shop] | None = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self._backend if isinstance(self._backend, str) else self._backend.label

    def shop(self) -> Shop:
        """The store as answers read it, rebuilt after an ingestion."""
        retriever = self.kb.retriever
        with self._lock:
            if self._shop is None or self._shop[0] != (id(retriever), retriever.version, len(retriever.records)):
                self._shop = ((id(retriever), retriever.version, len(retriever.records)),
                              Shop.from_records(retriever.records))
            return self._shop[1]

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

    def search(self, question: str, history: Sequence[Any] = ()) -> Any:
        turns = conversation_turns(history)
        rewritten = self.rewrite(question, turns)
        return self.kb.search(question, k=self.k, history=[t for t in turns if t[0] == "user"], rewritten=rewritten)

    def sources(self, question: str, history: Sequence[Any] = ()) -> Sources:
        """What the store retrieves for the question (no answer): the `/sources` endpoint."""
        result = self.search(question, history)
        return Sources(result.query, [Source.of_hit(h) for h in result.hits], result.note)

    def compute(self, question: str, history: Sequence[Any] = ()) -> tuple[Answer, Sources]:
        """The answer computed from the store's data, with the sources it cites."""
        result = self.search(question, history)
        shop = self.shop()
        own = parse_constraints(question, self.kb.retriever.vocabulary)
        ask = read_question(question, conversation_turns(history), shop, result.constraints, own)
        answer = Answers(shop, self._picker).build(question, ask, result)
        return answer, Sources(result.query, answer.sources, result.note)

    def stream(self, message: Any, history: Sequence[Any] = ()) -> Iterator[Reply]:
        """Partial replies while the model writes, then the final, checked one."""
        started = time.perf_counter()
        question, notices = prepare(message)
        answer, sources = self.compute(question, history)
        reply = Reply("", sources, self.backend, notices=notices, computed=answer.text, kind=answer.kind)
        unavailable = self._backend.unavailable() if not isinstance(self._backend, str) else None
        if self.model is None or unavailable:
            reply.text, reply.status = answer.text, "no-model" if self.model is None else "retrieval-only"
            if unavailable:
                reply.notices.append(f"The language model is not answering: {unavailable}. Here is the answer "
                                     "computed from the store's data.")
            reply.first_token_s = time.perf_counter() - started
            yield reply
            return
        try:
            messages = phrase_messages(question, answer.text, sources.context())
            for chunk in self.model.stream(messages, max_tokens=_phrase_tokens(answer)):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece and reply.first_token_s is None:
                    reply.first_token_s = time.perf_counter() - started
                reply.text += piece
                if piece:
                    yield reply
        except Exception as err:  # noqa: BLE001 - any failure of the model: the computed answer stands alone
            why = model_failure(err, None if isinstance(self._backend, str) else self._backend)
            logger.warning("model failed, answering from the store's data: %s", why)
            reply.model_text, reply.status = reply.text, "retrieval-only"
            reply.notices.append(f"The language model did not answer: {why}. Here is the answer computed from the "
                                 "store's data.")
            reply.text = answer.text
            yield reply
            return
        yield self.checked(reply, answer)

    def checked(self, reply: Reply, answer: Answer) -> Reply:
        """The model's phrasing, if it passes the check; else the computed answer, saying why."""
        reply.model_text = reply.text
        reply.problems = check_phrasing(reply.text, answer, self.shop(), reply.sources)
        if reply.problems:
            reply.status = "replaced"
            reply.notices.append("The model's wording was set aside, because " + "; ".join(reply.problems[:3]) +
                                 ". This is the answer computed from the store's data.")
            reply.text = answer.text
            return reply
        reply.status = "grounded"
        text = " ".join(reply.text.split())
        markers = [f"[{n}]" for n in range(1, len(reply.sources.items) + 1) if f"[{n}]" not in text]
        reply.text = f"{text} {' '.join(markers)}".strip() if markers else text
        return reply

    def answer(self, message: Any, history: Sequence[Any] = ()) -> Reply:
        *_, final = self.stream(message, history)  # the last reply is the final, checked one
        return final
