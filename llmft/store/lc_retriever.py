"""The knowledge base as a LangChain retriever, for chains that take one (`retriever.invoke(question)`).

    retriever = ShopRetriever(knowledge_base=kb, k=5)                     # or kb.as_retriever(k=5)
    retriever.invoke("cheapest phone under $300")                          # -> list[Document]
    retriever.invoke("which is cheapest?", history=[("user", "tents?")])  # a follow-up, resolved by the store

Each Document carries the hit's metadata plus `citation` and `reason`, so an answer can cite its sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from llmft.store.retrieval import SearchMode


class ShopRetriever(BaseRetriever):
    """`KnowledgeBase.search` behind LangChain's retriever interface."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    knowledge_base: Any  # llmft.store.KnowledgeBase (Any: pydantic need not know the class)
    k: int = 5
    mode: SearchMode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                history: Sequence[Any] = (), rewritten: str | None = None) -> list[Document]:
        result = self.knowledge_base.search(query, k=self.k, history=history, rewritten=rewritten, mode=self.mode)
        return result.documents()
