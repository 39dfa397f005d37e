"""The end that train.py and merge.py share: score the saved model on the test split, then publish it.

The card carries only what this run measured: the scores of `evaluate_and_publish`'s own evaluation (none when
it did not evaluate), never numbers copied from elsewhere. Publishing happens after the evaluation succeeded,
from the main process only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.data import DialogueExample
from llmft.training.arguments import EvalArguments, PushArguments

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelToPublish:
    """What the card says of a saved model folder, besides its scores."""

    folder: Path
    name: str  # its column in eval/ (`full`, `lora`, `merged`)
    method: str  # the card's training method (`full`, `lora`, `lora-merged`)
    base_model: str | None  # a Hub id, or None: the card leaves base_model out
    dataset: str
    recipe: Mapping[str, Any]
    commit_message: str
    trainable: tuple[int, int] | None = None
    training_rows: int | None = None


def evaluate_and_publish(
    model: ModelToPublish,
    test_rows: Sequence[DialogueExample] | None,
    evaluation: EvalArguments,
    push: PushArguments,
    max_input_tokens: int,
    processes: Any | None = None,
) -> dict[str, Any] | None:
    """Score `model.folder` on `test_rows` (None: no evaluation) as the apps load and run it, writing its `eval/`;
    then, with `push.push_to_hub`, push it with a card of those scores. Returns the results (the main process's).

    `processes`: an Accelerator whose processes all call this (each generates its shard of the rows, the main one
    scores, writes and pushes), or None for one process.
    """
    results = None
    if test_rows is not None:
        from llmft.evaluation import evaluate_saved_model

        results = evaluate_saved_model(
            model.folder,
            model.name,
            test_rows,
            model.dataset,
            evaluation.test_split,
            evaluation.generation_settings(),
            batch_size=evaluation.per_device_eval_batch_size,
            max_input_tokens=max_input_tokens,
            device=None if processes is None else str(processes.device),
            processes=processes,
        )
    if processes is not None:
        processes.wait_for_everyone()
    if push.push_to_hub and (processes is None or processes.is_main_process):
        from llmft.hub import publish_model

        assert push.hub_model_id is not None  # check_push_settings ran before any work
        publish_model(
            model.folder,
            push.hub_model_id,
            model.method,
            base_model=model.base_model,
            dataset=model.dataset,
            results=results,
            recipe=model.recipe,
            trainable=model.trainable,
            training_rows=model.training_rows,
            private=push.hub_private,
            commit_message=model.commit_message,
        )
    return results
