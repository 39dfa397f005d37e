"""The Shopbot: grounded shopping chat over the shop knowledge base (`llmft.store`), on any OpenAI-compatible model.

    from llmft.chat import ChatSettings, ShopBot, resolve_backend
    from llmft.store import KnowledgeBase
    backend = resolve_backend(ChatSettings.from_env())      # OpenAI, OPENAI_BASE_URL, or the local SmolLM2 server
    bot = ShopBot(KnowledgeBase.demo(), backend.chat_model(), backend)
    reply = bot.answer("what is the cheapest phone?")       # .text, .status, .sources, .notices, .computed

Modules, in the order an answer goes through them: `shop` (the store's products, documents and names),
`intent` (what is asked, and the product in focus), `fields` / `extract` / `lists` / `answers` (the answer
computed from records and quoted from documents, with citations; `sources` numbers them), `prompts` (the short
rephrasing prompt), `check` (the phrasing against the computed answer), `bot` (all of it, streaming, fallbacks).
The model side: `settings`, `local_server` (llama.cpp via xllamacpp + the packaged GGUF), `backends`, `failures`.
"""

from llmft.chat.answers import Answer
from llmft.chat.backends import Backend, resolve_backend
from llmft.chat.bot import ChatError, Reply, ShopBot, prepare
from llmft.chat.check import check_phrasing
from llmft.chat.local_server import LocalServer, gguf_path
from llmft.chat.sources import Source, Sources
from llmft.settings import ChatSettings

__all__ = ["Answer", "Backend", "ChatError", "ChatSettings", "LocalServer", "Reply", "ShopBot", "Source", "Sources",
           "check_phrasing", "gguf_path", "prepare", "resolve_backend"]
