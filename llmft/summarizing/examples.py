"""The dataset's test dialogues for the Summarizer's menus, `/load_example` and `/evaluate`: loaded once, lazily.

A failed load (no network, a bad path) is remembered for `retry_after_s`, so page views do not hammer a
source that is down; after that the next request tries again.
"""

from __future__ import annotations

import threading
import time

from llmft.data import DialogueExample, load_dialogues
from llmft.errors import DataError


class TestDialogues:
    """The test split of `dataset`, one example per dialogue with all its references."""

    __test__ = False  # a name pytest would otherwise collect

    def __init__(self, dataset: str, retry_after_s: float = 30.0):
        self.dataset = dataset
        self.retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._examples: list[DialogueExample] | None = None
        self._error: tuple[float, DataError] | None = None

    def all(self) -> list[DialogueExample]:
        with self._lock:
            if self._examples is not None:
                return self._examples
            if self._error and time.monotonic() - self._error[0] < self.retry_after_s:
                raise self._error[1]
        try:
            examples = load_dialogues(self.dataset, "test", group_references=True)
        except DataError as err:
            with self._lock:
                self._error = (time.monotonic(), err)
            raise
        with self._lock:
            self._examples = examples
        return examples

    def get(self, example_id: str) -> DialogueExample:
        example_id = (example_id or "").strip()
        if not example_id:
            raise DataError("Choose a test dialogue: give its id.")
        examples = self.all()
        for example in examples:
            if example.id == example_id:
                return example
        raise DataError(
            f"No test dialogue with id '{example_id}' in {self.dataset} (ids look like '{examples[0].id}')."
        )

    def choices(self) -> list[tuple[str, str]]:
        """(label, id) pairs for a menu."""
        return [(f"{e.id} · {e.topic}" if e.topic else e.id, e.id) for e in self.all()]
