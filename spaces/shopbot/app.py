"""Shopbot Space: a grounded, streaming shopping chat over the shop knowledge base, with its sources under each
answer, on OpenAI, any OpenAI-compatible server, or the embedded local SmolLM2 (llama.cpp) when neither is set.

`main()` makes the services from the settings (see README.md: OPENAI_API_KEY, OPENAI_BASE_URL, LLMFT_CHAT_MODEL,
LLMFT_SHOPBOT_STORE, LLMFT_SHOPBOT_ADMIN_PASSWORD, ...); the page is `llmft.apps.shopbot.build_app`. Importing
this file starts nothing.

    python spaces/shopbot/app.py            # http://127.0.0.1:7860 (scripts/run.sh serves it on 7862)
"""

from llmft.apps.serve import limit_malloc_arenas
from llmft.apps.services import ShopbotServices
from llmft.apps.shopbot import build_app, launch, rewrite_with_model
from llmft.chat import ShopBot, resolve_backend
from llmft.feedback import FeedbackStore
from llmft.settings import AppSettings, ChatSettings, FeedbackSettings
from llmft.store import KnowledgeBase


def main() -> None:
    limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load
    settings = ChatSettings.from_env()
    store = KnowledgeBase.demo() if settings.store == "demo" else KnowledgeBase.open()
    backend = resolve_backend(settings)  # the local llama.cpp server, when started here, stops with the process
    # The backend itself, not its label: before each question the bot asks whether the model can answer now.
    bot = ShopBot(store, backend.chat_model(settings.max_tokens), backend,
                  rewrite_with_model=rewrite_with_model(settings, backend.kind))
    feedback = FeedbackStore(FeedbackSettings.from_env())  # votes to a folder; to a Hub dataset when one is set
    launch(build_app(settings, ShopbotServices(bot, backend, store, feedback)), AppSettings.from_env())


if __name__ == "__main__":
    main()
