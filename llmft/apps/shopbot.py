"""The Shopbot Space's page: `build_app(settings, services)` lays out the chat, its sources, the votes and the admin
tab over the endpoints of `llmft.apps.shopbot_endpoints`; `launch` serves it. `spaces/shopbot/app.py` makes the
services (store, backend, bot, feedback store) in its `main()`; importing this module starts nothing.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from llmft.apps.serve import Serving, serve
from llmft.apps.services import ShopbotServices, Votes
from llmft.apps.shopbot_endpoints import ShopbotEndpoints
from llmft.chat.backends import Kind as BackendKind
from llmft.settings import ChatSettings

CSS = """.shop-cards {display: flex; flex-wrap: wrap; gap: 8px}
.shop-card {border: 1px solid #ccc; border-radius: 8px; padding: 8px; max-width: 260px}
.shop-card .price {font-weight: bold}"""
INTRO = """# Shopbot: answers from the store's own data
Ask about products, prices and policies. Each answer is computed from the catalogue and the store's documents,
with a numbered citation per claim; the model only rephrases it, and its wording is shown as **checked** only
when it keeps every product and figure and contradicts nothing. Otherwise you read the computed answer, and why."""
EXAMPLES = ["What is the cheapest phone?", "Headphones under $100?", "How many days do I have to return an item?",
            "How much is express shipping?", "Compare the Pacer Run 2 and the Pacer Trail Solar",
            "Do you sell bicycles?"]


def rewrite_with_model(settings: ChatSettings, backend_kind: BackendKind) -> bool:
    """Whether follow-ups are rewritten by the model (LLMFT_CHAT_REWRITE; `auto`: on OpenAI and compatible servers,
    not on the 135M local model, which cannot rewrite reliably)."""
    return settings.rewrite == "llm" or (settings.rewrite == "auto" and backend_kind in ("openai", "compatible"))


def build_app(settings: ChatSettings, services: ShopbotServices) -> gr.Blocks:
    """The Shopbot page over `services`; an admin tab when `settings.admin_password` is set."""
    api = ShopbotEndpoints(services, settings.admin_password or "")
    feedback = services.feedback
    with gr.Blocks(title="Shopbot: grounded shopping chat") as demo:
        gr.Markdown(INTRO)
        backend_box = gr.Markdown(api.backend_markdown(), elem_id="shop-backend")
        # Kept current (a crash, a restart) without the queue, so a full queue never blocks or refuses the update.
        gr.Timer(5).tick(api.backend_markdown, None, backend_box, queue=False, show_progress="hidden",
                         api_visibility="private")
        with gr.Tabs():
            with gr.Tab("Chat"):
                _chat(api, feedback)
            if settings.admin_password:  # no password setting: no admin tab at all
                with gr.Tab("Admin"):
                    _admin(api)
        # API-only endpoints: no UI of their own.
        gr.api(api.answer, api_name="answer")
        gr.api(api.sources, api_name="sources", queue=False)
        gr.api(api.backend, api_name="backend", queue=False)
        if feedback.enabled:
            gr.api(api.vote, api_name="vote", queue=False)
    return demo


def _chat(api: ShopbotEndpoints, feedback: Votes) -> None:
    sources_box = gr.HTML("<p>Sources appear here after each answer.</p>", elem_id="shop-sources", render=False)
    chatbot = gr.Chatbot(elem_id="shop-chat", label="Shopbot", height=420)
    gr.ChatInterface(api.chat, chatbot=chatbot, additional_outputs=[sources_box], examples=EXAMPLES,
                     api_name="chat", run_examples_on_click=True, cache_examples=False, fill_height=False)
    if feedback.enabled:  # LLMFT_FEEDBACK=0: no thumbs, no comment box, no word about feedback
        with gr.Row():
            comment_box = gr.Textbox(label="Comment (optional, sent with your next 👍/👎 on an answer)",
                                     max_length=1000, elem_id="shop-comment", scale=3)
            vote_note = gr.Markdown(feedback.where(), elem_id="shop-vote-note")
        chatbot.like(api.vote_on_message, [chatbot, comment_box], [vote_note, comment_box],
                     api_visibility="private", queue=False)
    gr.Markdown("### Sources of the last answer")
    sources_box.render()


def _admin(api: ShopbotEndpoints) -> None:
    gr.Markdown("Upload a catalogue (.csv, .json, .jsonl) or store documents (.md, .html, .txt, .pdf, .docx) to "
                "ingest them; ingestion is idempotent.")
    password_box = gr.Textbox(type="password", label="Admin password")
    files_box = gr.File(file_count="multiple", type="filepath", label="Files")
    ingest_button = gr.Button("Ingest", variant="primary")
    ingest_log = gr.Textbox(label="Ingestion", lines=6)
    stats_json = gr.JSON(label="Index statistics")
    ingest_button.click(api.ingest, [files_box, password_box], [ingest_log, stats_json], api_name="ingest",
                        concurrency_limit=1)


def launch(demo: gr.Blocks, settings: Serving, **kwargs: Any) -> gr.Blocks:
    """Serve the page: the shared queue and sessions settings (LLMFT_MAX_QUEUE, LLMFT_MAX_SESSIONS), its CSS."""
    return serve(demo, settings, css=CSS, **kwargs)
