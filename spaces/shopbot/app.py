"""Shopbot Space: a grounded, streaming shopping chat over the shop knowledge base, with its sources under each
answer, on OpenAI, any OpenAI-compatible server, or the embedded local SmolLM2 (llama.cpp) when neither is set.

UI wiring only: retrieval, prompts, the post-generation check and the fallbacks come from `llmft.chat`, the store
from `llmft.store`. Settings come from the environment (see README.md): OPENAI_API_KEY, OPENAI_BASE_URL,
LLMFT_CHAT_MODEL, LLMFT_CHAT_TIMEOUT, LLMFT_SHOPBOT_STORE, LLMFT_SHOPBOT_ADMIN_PASSWORD, ...

    python spaces/shopbot/app.py            # http://127.0.0.1:7860 (scripts/run.sh serves it on 7862)
"""

from __future__ import annotations

import hmac
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

# From a checkout, `python spaces/shopbot/app.py` uses the repository's package. On the Space, llmft/ is copied
# next to this file (by `python -m llmft.deploy`), and the script's folder is on sys.path already.
_REPO_ROOT = Path(__file__).resolve().parents[2]
if (_REPO_ROOT / "llmft" / "__init__.py").is_file() and str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from llmft.apps.memory import limit_malloc_arenas  # noqa: E402

limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load (see the module)

import gradio as gr  # noqa: E402

from llmft.apps.errors import gradio_errors, user_message  # noqa: E402
from llmft.apps.settings import AppSettings  # noqa: E402
from llmft.chat import ChatSettings, ShopBot, resolve_backend  # noqa: E402
from llmft.chat.render import reply_markdown, sources_html  # noqa: E402
from llmft.errors import LlmftError, StoreError  # noqa: E402
from llmft.feedback import FeedbackStore  # noqa: E402
from llmft.feedback.rows import shopbot_fields  # noqa: E402
from llmft.store import KnowledgeBase  # noqa: E402
from llmft.store.catalogue import CATALOGUE_SUFFIXES  # noqa: E402
from llmft.store.documents import DOCUMENT_SUFFIXES  # noqa: E402

SETTINGS = ChatSettings.from_env()
KB = KnowledgeBase.demo() if SETTINGS.store == "demo" else KnowledgeBase.open()
BACKEND = resolve_backend(SETTINGS)  # the local llama.cpp server, when started here, stops with the process
REWRITE = SETTINGS.rewrite == "llm" or (SETTINGS.rewrite == "auto" and BACKEND.kind in ("openai", "compatible"))
# The backend itself, not its label: before each question the bot asks whether the model can answer now
# (the embedded one may be restarting), and a failure's notice names the backend.
BOT = ShopBot(KB, BACKEND.chat_model(SETTINGS.max_tokens), BACKEND, rewrite_with_model=REWRITE)
EXAMPLES = ["What is the cheapest phone?", "Headphones under $100?", "How many days do I have to return an item?",
            "How much is express shipping?", "Compare the Pacer Run 2 and the Pacer Trail Solar",
            "Do you sell bicycles?"]
FEEDBACK = FeedbackStore()  # LLMFT_FEEDBACK*: votes to a local folder, pushed to a Hub dataset when one is set
# The last answers' status, backend and sources by their text, so a vote on an answer records them (bounded;
# an answer the server no longer knows, e.g. after a restart, is recorded with status 'unknown').
_REPLIES: OrderedDict[str, dict[str, Any]] = OrderedDict()
_MAX_REPLIES = 2000
_REPLIES_LOCK = threading.Lock()  # answers finish in several worker threads at once


def _remember(reply: Any) -> None:
    details = reply.to_dict()
    with _REPLIES_LOCK:
        for text in (reply_markdown(reply).strip(), reply.text.strip()):
            _REPLIES[text] = details
            _REPLIES.move_to_end(text)
        while len(_REPLIES) > _MAX_REPLIES:
            _REPLIES.popitem(last=False)


def _recalled(answer: str) -> dict[str, Any] | None:
    with _REPLIES_LOCK:
        return _REPLIES.get((answer or "").strip())


# --- endpoint functions: their parameter names are the API's -----------------------------------------


def chat(message: str, history: list[dict[str, Any]] | None = None) -> Any:
    """Stream the answer to `message` (markdown), with its sources as HTML; the last pair is the checked answer."""
    try:
        reply = None
        for reply in BOT.stream(message, history or []):
            yield reply_markdown(reply), sources_html(reply)
        if reply is not None:
            _remember(reply)
    except LlmftError as err:  # a generator: gradio_errors cannot wrap it, so the same conversion here
        raise gr.Error(user_message(err), print_exception=False) from err


@gradio_errors
def answer(message: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The checked answer with its sources, status, backend and notices, as JSON (no streaming)."""
    reply = BOT.answer(message, history or [])
    _remember(reply)
    return reply.to_dict()


@gradio_errors
def sources(question: str) -> list[dict[str, Any]]:
    """What the store retrieves for `question` (no model): products and passages with their citations."""
    return [s.to_dict() for s in BOT.sources(question).items]


def backend() -> str:
    """Which model answers (never the key), and when it cannot answer now, why: restarting or down since when."""
    state = BACKEND.state()
    if state.state in ("answering", "unchecked") or BACKEND.kind == "none":  # "none": the label says why
        return BACKEND.label
    return f"{BACKEND.label} · {state.describe()}"


@gradio_errors
def vote(question: str, answer: str, vote: str = "down", comment: str = "") -> str:
    """Record a vote ("up" or "down") on an answer to `question`, with an optional comment; returns where it went.
    The answer's status, backend and sources are recorded when this server gave the answer."""
    if vote not in ("up", "down"):
        raise gr.Error(f"A vote on an answer is 'up' or 'down', not {str(vote)[:40]!r}.", print_exception=False)
    FEEDBACK.record("shopbot", vote, shopbot_fields(question, answer, _recalled(answer)), comment)
    return f"Thanks: your {'👍' if vote == 'up' else '👎'} was recorded. {FEEDBACK.where()}"


def _text_of(content: Any) -> str:
    """A chat message's text: a string, or Gradio's list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return ""


def vote_on_message(history: list[dict[str, Any]] | None, comment: str, data: gr.LikeData) -> Any:
    """The thumbs under an answer: its question is the visitor's message before it."""
    if data.liked not in (True, False):  # a vote taken back: the row already written stays
        return "Your earlier vote stays recorded; a new one adds a row.", gr.skip()
    history = history or []
    index = data.index if isinstance(data.index, int) else data.index[0]
    answer_text = _text_of(history[index].get("content")) if 0 <= index < len(history) else _text_of(data.value)
    question = next((_text_of(m.get("content")) for m in reversed(history[:index]) if m.get("role") == "user"), "")
    return vote(question, answer_text, "up" if data.liked else "down", comment), ""


def index_statistics() -> dict[str, Any]:
    return {"records": KB.count(), "products": len(KB.retriever.products), "store": KB.settings.where}


@gradio_errors
def ingest(files: list[str] | None, password: str = "", progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
    """Admin: ingest catalogue (.csv/.json/.jsonl) and document files into the store; returns the summary."""
    if not SETTINGS.admin_password or not hmac.compare_digest(password or "", SETTINGS.admin_password):
        raise gr.Error("Wrong admin password.", print_exception=False)
    if not files:
        raise StoreError("choose one or more files to ingest first")
    paths = [Path(f) for f in files]
    unsupported = [p.name for p in paths if p.suffix.lower() not in (*CATALOGUE_SUFFIXES, *DOCUMENT_SUFFIXES)]
    if unsupported:  # refused before anything is ingested, so an upload is all or nothing
        supported = ", ".join(sorted({*CATALOGUE_SUFFIXES, *DOCUMENT_SUFFIXES}))
        raise StoreError(f"unsupported file type: {', '.join(unsupported)} (supported: {supported}); nothing was "
                         "ingested")
    catalogues = [p for p in paths if p.suffix.lower() in CATALOGUE_SUFFIXES]
    documents = [p for p in paths if p not in catalogues]
    progress(0, desc="ingesting")
    summary = KB.ingest(catalogues, documents, progress=False)
    progress(1, desc="done")
    return "\n".join(summary.lines()), index_statistics()


# --- the page ---------------------------------------------------------------------------------------------

CSS = """.shop-cards {display: flex; flex-wrap: wrap; gap: 8px}
.shop-card {border: 1px solid #ccc; border-radius: 8px; padding: 8px; max-width: 260px}
.shop-card .price {font-weight: bold}"""
INTRO = """# Shopbot: answers from the store's own data
Ask about products, prices and policies. Each answer is computed from the catalogue and the store's documents,
with a numbered citation per claim; the model only rephrases it, and its wording is shown as **checked** only
when it keeps every product and figure and contradicts nothing. Otherwise you read the computed answer, and why."""

with gr.Blocks(title="Shopbot: grounded shopping chat") as demo:
    gr.Markdown(INTRO)
    backend_box = gr.Markdown(f"**Model answering:** {backend()}", elem_id="shop-backend")
    # Kept current (a crash, a restart) without the queue, so a full queue never blocks or refuses the update.
    gr.Timer(5).tick(lambda: f"**Model answering:** {backend()}", None, backend_box, queue=False,
                     show_progress="hidden", api_visibility="private")
    with gr.Tabs():
        with gr.Tab("Chat"):
            sources_box = gr.HTML("<p>Sources appear here after each answer.</p>", elem_id="shop-sources",
                                  render=False)
            chatbot = gr.Chatbot(elem_id="shop-chat", label="Shopbot", height=420)
            gr.ChatInterface(chat, chatbot=chatbot, additional_outputs=[sources_box], examples=EXAMPLES,
                             api_name="chat", run_examples_on_click=True, cache_examples=False, fill_height=False)
            if FEEDBACK.enabled:  # LLMFT_FEEDBACK=0: no thumbs, no comment box, no word about feedback
                with gr.Row():
                    comment_box = gr.Textbox(label="Comment (optional, sent with your next 👍/👎 on an answer)",
                                             max_length=1000, elem_id="shop-comment", scale=3)
                    vote_note = gr.Markdown(FEEDBACK.where(), elem_id="shop-vote-note")
                chatbot.like(vote_on_message, [chatbot, comment_box], [vote_note, comment_box],
                             api_visibility="private", queue=False)
            gr.Markdown("### Sources of the last answer")
            sources_box.render()
        if SETTINGS.admin_password:  # no password setting: no admin tab at all
            with gr.Tab("Admin"):
                gr.Markdown("Upload a catalogue (.csv, .json, .jsonl) or store documents (.md, .html, .txt, .pdf, "
                            ".docx) to ingest them; ingestion is idempotent.")
                password_box = gr.Textbox(type="password", label="Admin password")
                files_box = gr.File(file_count="multiple", type="filepath", label="Files")
                ingest_button = gr.Button("Ingest", variant="primary")
                ingest_log = gr.Textbox(label="Ingestion", lines=6)
                stats_json = gr.JSON(label="Index statistics")
                ingest_button.click(ingest, [files_box, password_box], [ingest_log, stats_json], api_name="ingest",
                                    concurrency_limit=1)
    with gr.Row(visible=False):  # API-only endpoints: no UI of their own
        question_box = gr.Textbox()
        history_json = gr.JSON()
        answer_json = gr.JSON()
        sources_json = gr.JSON()
        backend_text = gr.Textbox()
        answer_button = gr.Button()
        sources_button = gr.Button()
        backend_button = gr.Button()
        if FEEDBACK.enabled:
            vote_inputs = [gr.Textbox(), gr.Textbox(), gr.Textbox(), gr.Textbox()]
            vote_text = gr.Textbox()
            vote_button = gr.Button()
    answer_button.click(answer, [question_box, history_json], answer_json, api_name="answer")
    sources_button.click(sources, question_box, sources_json, api_name="sources", queue=False)
    backend_button.click(backend, None, backend_text, api_name="backend", queue=False)
    if FEEDBACK.enabled:
        vote_button.click(vote, vote_inputs, vote_text, api_name="vote", queue=False)


# The settings every Space shares: LLMFT_MAX_QUEUE requests wait (more are refused with "Queue is full"; Gradio's
# default queue is unbounded), LLMFT_MAX_SESSIONS visitors' sessions are kept in memory (Gradio's default: 10,000).
SERVING = AppSettings.from_env()
demo.queue(max_size=SERVING.max_queue)

if __name__ == "__main__":
    demo.launch(css=CSS, state_session_capacity=SERVING.max_sessions)
