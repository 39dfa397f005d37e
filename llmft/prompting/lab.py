"""The shared state of a Prompting Space server: dataset, shot pool, embedder and models, and its two jobs.

`PromptingLab` holds what a server shares across requests: the test dialogues and the shot pool (loaded
lazily, once), the embedding index, and the models (through `models.load_model`'s process cache). It
never imports Gradio; `spaces/prompting/app.py` only wires it to the UI.

Shot pool: the dataset's train split (its first `shot_pool_size` rows). A source without a train split
(a single file, or a folder with only a test file) lends its test rows instead; the pickers never use
the dialogue being summarised as its own example (`prompts.pick_shots` leaves out equal dialogues).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.apps.demo_note import loaded_model_note
from llmft.data import DialogueExample, load_dialogues
from llmft.errors import DataError, PromptError
from llmft.models import MODEL_CACHE, GenerationSettings, LoadedModel, load_model
from llmft.prompting.comparison import Comparison, run_column
from llmft.prompting.controls import FIELD_LABELS, ColumnConfig, Decoding, checked_number
from llmft.prompting.sweep import Evaluation, ProgressFn, evaluate_columns, no_progress
from llmft.prompts import SimilarityIndex, check_dialogue, parse_references
from llmft.settings import AppSettings, PromptingSettings

logger = logging.getLogger(__name__)


@dataclass
class ShotPool:
    examples: list[DialogueExample]
    description: str


class PromptingLab:
    """Dataset, shot pool, embedder and models, loaded lazily once per process and shared by requests.

    Nothing is loaded at construction, so a server starts even when the Hub cannot be reached; each
    request that needs the missing thing gets its `DataError` / `ModelLoadError` message. A failed load
    is remembered for `retry_after_s` so a broken source is not hammered by every page view.
    """

    def __init__(
        self,
        settings: PromptingSettings | AppSettings | None = None,
        embedder: SimilarityIndex | None = None,
        retry_after_s: float = 30.0,
    ):
        # Shared settings alone (another Space's launcher) get this Space's defaults for the rest.
        self.settings = PromptingSettings.from_app(settings) if settings else PromptingSettings.from_env()
        self.embedder = embedder or SimilarityIndex()
        self.retry_after_s = retry_after_s
        self._data_lock = threading.RLock()  # the pool may load the test split inside its own load
        self._loaded: dict[str, Any] = {}
        self._failed: dict[str, tuple[float, DataError]] = {}

    # data

    def _once(self, key: str, loader: Callable[[], Any]) -> Any:
        with self._data_lock:
            if key in self._loaded:
                return self._loaded[key]
            failed = self._failed.get(key)
            if failed and time.monotonic() - failed[0] < self.retry_after_s:
                raise failed[1]
            try:
                value = loader()
            except DataError as err:
                self._failed[key] = (time.monotonic(), err)
                raise
            self._failed.pop(key, None)
            self._loaded[key] = value
            return value

    def test_examples(self) -> list[DialogueExample]:
        """The test split, one example per dialogue with all its references."""
        return self._once("test", lambda: load_dialogues(self.settings.dataset, "test", group_references=True))

    def shot_pool(self) -> ShotPool:
        return self._once("pool", self._load_pool)

    def _load_pool(self) -> ShotPool:
        source = self.settings.dataset
        path = Path(source).expanduser()
        if path.is_file():
            examples = self.test_examples()
            description = f"the other dialogues of {path.name} (a single file has no train split)"
        else:
            try:
                examples = load_dialogues(source, "train")
                description = f"{source} train split"
            except DataError as train_error:
                try:
                    examples = self.test_examples()
                except DataError:
                    raise train_error from None
                reason = str(train_error).splitlines()[0]
                description = f"{source} test split minus the dialogue being summarised (no train split: {reason})"
                logger.info("shot pool: %s", description)
        if len(examples) > self.settings.shot_pool_size:
            examples = examples[: self.settings.shot_pool_size]
            description += f", first {len(examples)}"
        return ShotPool(examples=list(examples), description=description)

    def topics(self) -> list[str]:
        return sorted({e.topic for e in self.test_examples() if e.topic})

    def example_choices(self, topic: str = "") -> list[tuple[str, str]]:
        """(label, id) pairs for a dropdown: every test dialogue, or those of one topic."""
        return [
            (f"{e.id} · {e.topic}" if e.topic else e.id, e.id)
            for e in self.test_examples()
            if not topic or e.topic == topic
        ]

    def example(
        self, example_id: str = "", topic: str = "", pick_random: bool = False, seed: int | None = None
    ) -> DialogueExample:
        """A test dialogue by id; else the first (or, with `pick_random`, a random) one of `topic`; else a
        random one when `pick_random`. Unseeded random picks differ from call to call, as a dice button should."""
        examples = self.test_examples()
        example_id, topic = (example_id or "").strip(), (topic or "").strip()
        if example_id:
            for example in examples:
                if example.id == example_id:
                    return example
            raise DataError(
                f"No test dialogue with id '{example_id}' in {self.settings.dataset} "
                f"(ids look like '{examples[0].id}')."
            )
        if topic:
            examples = [e for e in examples if e.topic == topic]
            if not examples:
                raise DataError(f"No test dialogue has the topic '{topic}'.")
        elif not pick_random:
            raise DataError("Choose a dialogue: give its id, a topic, or ask for a random one.")
        return random.Random(seed).choice(examples) if pick_random else examples[0]

    # models

    def model(self, source: str | None = None) -> LoadedModel:
        """The model for `source` (the default when empty), if this app offers it (`AppSettings.model_policy`).

        Models come from the process-wide cache, which keeps at most `max_models` of them and drops the least
        recently used (requests still running keep theirs until they finish).
        """
        MODEL_CACHE.max_models = self.settings.max_models
        return load_model((source or "").strip() or self.settings.base_model, policy=self.settings.model_policy())

    def _pool_for(self, configs: Sequence[ColumnConfig]) -> ShotPool:
        if not any(c.shots for c in configs):
            return ShotPool([], "not needed (every column is zero-shot)")
        try:
            return self.shot_pool()
        except DataError as err:
            raise DataError(
                f"{err}\nColumns with shots need examples from the dataset; set their shots to 0 to compare "
                "zero-shot prompts only."
            ) from err

    # the two jobs

    def compare(
        self,
        dialogue: str,
        references: str | Sequence[str] | None,
        configs: Sequence[ColumnConfig],
        settings: GenerationSettings | None = None,
        model: str | None = None,
        progress: ProgressFn | None = None,
    ) -> Comparison:
        """Run every column on one dialogue; ROUGE against `references` when there are any."""
        progress = progress or no_progress
        # The references too: a reference with no dialogue gets its own message (as in the Summarizer).
        dialogue = check_dialogue(dialogue, references if isinstance(references, str) else "\n".join(references or []))
        configs = [c.checked() for c in configs]
        if not configs:
            raise PromptError("Nothing to compare: configure at least one column.")
        refs = parse_references(references)
        settings = settings or Decoding().settings()  # the page's defaults
        steps = len(configs) + 1
        source = (model or "").strip() or self.settings.base_model
        progress(0, steps, f"Loading {source}")
        loaded = self.model(source)
        pool = self._pool_for(configs)
        columns = []
        for index, config in enumerate(configs, start=1):
            note = " (the first 'most similar' request embeds the shot pool)" if config.strategy == "similar" else ""
            progress(index, steps, f"{config.label}: picking shots{note}, generating")
            columns.append(
                run_column(loaded, dialogue, refs, pool.examples, config, settings, embedder=self.embedder)
            )
        progress(steps, steps, "done")
        return Comparison(
            model=source, settings=settings.to_dict(), references=refs, shot_pool=pool.description, columns=columns,
            model_note=loaded_model_note(loaded),
        )

    def evaluate(
        self,
        n_dialogues: int,
        configs: Sequence[ColumnConfig],
        settings: GenerationSettings | None = None,
        model: str | None = None,
        progress: ProgressFn | None = None,
    ) -> Evaluation:
        """Run every column over the first `n_dialogues` test dialogues (all of them, if there are fewer)."""
        n = checked_number(n_dialogues, FIELD_LABELS["n_dialogues"], 1, self.settings.max_eval_dialogues, whole=True)
        configs = [c.checked() for c in configs]
        if not configs:
            raise PromptError("Nothing to evaluate: configure at least one column.")
        examples = self.test_examples()[:n]
        source = (model or "").strip() or self.settings.base_model
        (progress or no_progress)(0, n * len(configs), f"Loading {source}")
        loaded = self.model(source)
        pool = self._pool_for(configs)
        evaluation = evaluate_columns(
            loaded,
            examples,
            pool.examples,
            configs,
            settings,
            embedder=self.embedder,
            progress=progress,
            model_name=source,
            dataset_name=f"{self.settings.dataset} test split, first {len(examples)}",
            pool_description=pool.description,
        )
        evaluation.model_note = loaded_model_note(loaded)
        return evaluation
