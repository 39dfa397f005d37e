"""The Shopbot against the real local llama.cpp server (xllamacpp + the packaged SmolLM2-135M GGUF), started once
per session on a free 127.0.0.1 port with one thread and an API key: through the `openai` client, through
LangChain's ChatOpenAI, and through the bot. The 135M model's wording is not asserted, only what code decides:
the computed answer, the check, repeatability at temperature 0, and the fallbacks."""

from __future__ import annotations

import pytest
from openai import AuthenticationError, OpenAI

from llmft.chat import Backend, LocalServer, ShopBot
from llmft.store import KnowledgeBase, StoreSettings, demo_files
from llmft.store.embeddings import Embedder
from tests.support.llm_server import llm_server  # noqa: F401 (a fixture)
from tests.support.silent_server import SilentServer

MAX_TOKENS = 48


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    catalogue, policies = demo_files()
    store = KnowledgeBase(StoreSettings(path=tmp_path_factory.mktemp("chat-llm-store")), Embedder())
    store.ingest(catalogue, policies, progress=False)
    return store


def _local(server: LocalServer, api_key: str | None = None, timeout: float = 60) -> Backend:
    return Backend("local", "SmolLM2-135M-Instruct", server.base_url, api_key or server.api_key, timeout)


def test_openai_client_at_temperature_zero_is_repeatable(llm_server: LocalServer) -> None:  # noqa: F811
    client = OpenAI(base_url=llm_server.base_url, api_key=llm_server.api_key, max_retries=0, timeout=60)
    answers = [client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "Name one fruit."}], max_tokens=16, temperature=0,
        extra_body={"cache_prompt": False}).choices[0].message.content for _ in range(2)]
    assert answers[0] and answers[0] == answers[1]


def test_the_server_wants_its_key(llm_server: LocalServer) -> None:  # noqa: F811
    client = OpenAI(base_url=llm_server.base_url, api_key="sk-wrong-key-000000000000", max_retries=0)
    with pytest.raises(AuthenticationError):
        client.models.list()


def test_langchain_streams_from_the_local_server(llm_server: LocalServer) -> None:  # noqa: F811
    model = _local(llm_server).chat_model(max_tokens=16)
    chunks = [c.content for c in model.stream([("human", "Say hello.")])]
    assert len([c for c in chunks if c]) > 1 and "".join(chunks).strip()


def test_the_local_model_phrases_and_what_is_shown_keeps_the_facts(kb: KnowledgeBase,
                                                                   llm_server: LocalServer) -> None:  # noqa: F811
    backend = _local(llm_server)
    bot = ShopBot(kb, backend.chat_model(max_tokens=MAX_TOKENS), backend)
    replies = list(bot.stream("what is the cheapest phone?"))
    final = replies[-1]
    assert len(replies) > 2 and final.first_token_s is not None
    assert final.computed == "The cheapest smartphone is the Nimbus A5, at $199.00 [1]."
    assert (final.sources.products[0].id, final.sources.products[0].price) == ("SP-101", 199.0)
    if final.status == "grounded":  # the 135M model's wording, checked: it kept the product and the price
        assert final.problems == [] and "Nimbus A5" in final.text and "199" in final.text
    else:
        assert final.status == "replaced" and final.problems and final.text == final.computed


def test_a_wrong_key_gives_the_retrieval_answer_without_the_key(kb: KnowledgeBase, llm_server: LocalServer) -> None:  # noqa: F811
    wrong = "sk-this-key-is-wrong-0123456789"
    reply = ShopBot(kb, _local(llm_server, api_key=wrong).chat_model(MAX_TOKENS), "local").answer(
        "how much is express shipping?")
    assert reply.status == "retrieval-only" and "refused the API key" in reply.notices[0]
    assert wrong not in " ".join(reply.notices) + reply.text
    assert reply.sources.passages[0].file == "shipping.md" and "$14.95" in reply.text


def test_a_model_that_times_out_gives_the_retrieval_answer(kb: KnowledgeBase) -> None:
    with SilentServer() as url:
        hung = Backend("compatible", "m", f"{url}/v1", "sk-x", timeout=1.5).chat_model(MAX_TOKENS)
        reply = ShopBot(kb, hung, "hung").answer("what is the cheapest phone?")
    assert reply.status == "retrieval-only" and "did not answer in time" in reply.notices[0]
    assert reply.text == "The cheapest smartphone is the Nimbus A5, at $199.00 [1]."
