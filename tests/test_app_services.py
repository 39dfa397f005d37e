"""The real services fit what the pages ask of them (`llmft.apps.services`): each Protocol method's parameters are
the first parameters of the real class's method, by name and in order (no type checker runs here)."""

from __future__ import annotations

import inspect

import pytest

from llmft.apps import services
from llmft.chat import Backend, ShopBot
from llmft.feedback import FeedbackStore
from llmft.prompting import PromptingLab
from llmft.store import KnowledgeBase
from llmft.summarizing import Summarizer

PAIRS = [(services.ChatBot, ShopBot), (services.ChatBackend, Backend), (services.ShopStore, KnowledgeBase),
         (services.Votes, FeedbackStore), (services.SummarizerService, Summarizer),
         (services.PromptingService, PromptingLab)]


@pytest.mark.parametrize(("protocol", "real"), PAIRS, ids=lambda x: x.__name__)
def test_the_real_service_fits_its_protocol(protocol: type, real: type) -> None:
    methods = {name: member for name, member in vars(protocol).items() if inspect.isfunction(member)
               and not name.startswith("_")}
    assert methods
    for name, method in methods.items():
        wanted = list(inspect.signature(method).parameters)
        given = list(inspect.signature(getattr(real, name)).parameters)
        assert given[: len(wanted)] == wanted, f"{real.__name__}.{name}{given} does not take {wanted}"
        extra = [p for p in list(inspect.signature(getattr(real, name)).parameters.values())[len(wanted):]]
        assert all(p.default is not inspect.Parameter.empty for p in extra), f"{real.__name__}.{name} needs more"
    for name in ("enabled", "label", "retriever"):
        if name in vars(protocol):
            assert hasattr(real, name)
