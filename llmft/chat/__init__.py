"""The Shopbot: grounded shopping chat over the shop knowledge base (`llmft.store`), on any OpenAI-compatible model.

    from llmft.chat import ChatSettings, ShopBot, resolve_backend
    from llmft.store import KnowledgeBase
    backend = resolve_backend(ChatSettings.from_env())      # OpenAI, OPENAI_BASE_URL, or the local SmolLM2 server
    bot = ShopBot(KnowledgeBase.demo(), backend.chat_model(), backend.label)
    reply = bot.answer("what is the cheapest phone?")       # .text, .status, .sources, .notices

Modules: `settings` (environment), `local_server` (llama.cpp via xllamacpp + the packaged GGUF), `backends`
(which model answers), `prompts` (rules; shopper text and documents as fenced data), `grounding` (sources,
the grounded answer, the post-generation check), `bot` (retrieval -> model -> check, streaming, fallbacks).
"""

from llmft.chat.backends import Backend, resolve_backend
from llmft.chat.bot import ChatError, Reply, ShopBot, prepare
from llmft.chat.grounding import Source, Sources, check_answer, grounded_answer
from llmft.chat.local_server import LocalServer, gguf_path
from llmft.chat.settings import ChatSettings

__all__ = ["Backend", "ChatError", "ChatSettings", "LocalServer", "Reply", "ShopBot", "Source", "Sources",
           "check_answer", "gguf_path", "grounded_answer", "prepare", "resolve_backend"]
