"""Training batches: dialogues -> token ids (the prompt fitted as the apps fit it), padding, data loaders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmft.data import DialogueExample
from llmft.prompts import fit_prompt
from llmft.training.arguments import DataArguments, TrainArguments


def tokenize_examples(
    tokenizer: Any, examples: Sequence[DialogueExample], max_source_length: int, max_target_length: int
) -> list[dict[str, list[int]]]:
    """Prompt -> input ids, first reference summary -> labels.

    The prompt is the apps' zero-shot prompt fitted by `llmft.prompts.fit_prompt`: a dialogue too long for
    `max_source_length` loses its end, never the `Summary:` suffix, so the model learns on the ids it is
    later scored and used on. Labels are right-truncated to `max_target_length` (a cut summary still ends
    with the end-of-sequence token).
    """
    if not examples:
        return []
    sources = [fit_prompt(tokenizer, example.dialogue, max_tokens=max_source_length).input_ids for example in examples]
    targets = tokenizer(
        text_target=[example.summary for example in examples], max_length=max_target_length, truncation=True
    )
    return [
        {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
        for ids, labels in zip(sources, targets["input_ids"], strict=True)
    ]


class LengthGroupedBatches:
    """Batches of rows of similar length, in an order drawn from (seed, epoch): less padding per batch.

    Each epoch the rows are shuffled, cut into groups of `batch_size x group_batches` rows, each group sorted by
    length (prompt + summary tokens) and cut into batches, and the batches shuffled again, so a batch's rows are
    alike in length while the order of batches stays random. The transformers Trainer's `group_by_length`
    does the same. The order depends only on the seed and the epoch (Accelerate calls `set_epoch`), so a
    resumed run skips exactly the batches the stopped one trained on; under several processes Accelerate
    hands each one every n-th batch.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, group_batches: int = 50):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group_batches = group_batches
        self.epoch = 0
        self.sampler = self  # Accelerate's DataLoaderShard also calls `batch_sampler.sampler.set_epoch`
        self.drop_last = False

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self) -> Any:
        import torch

        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        group = self.batch_size * self.group_batches
        batches = []
        for start in range(0, len(order), group):
            rows = sorted(order[start:start + group], key=lambda i: -self.lengths[i])
            batches += [rows[i:i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        for index in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[index]


class Seq2SeqCollator:
    """Pads a micro-batch to its longest row: inputs with <pad>, labels with -100 (ignored by the loss)."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, rows: Sequence[Mapping[str, list[int]]]) -> dict[str, Any]:
        import torch

        def pad(key: str, value: int) -> Any:
            width = max(len(row[key]) for row in rows)
            return torch.tensor([list(row[key]) + [value] * (width - len(row[key])) for row in rows])

        return {
            "input_ids": pad("input_ids", self.pad_token_id),
            "attention_mask": pad("attention_mask", 0),
            "labels": pad("labels", -100),
        }


def build_dataloaders(
    tokenizer: Any,
    train_rows: Sequence[DialogueExample],
    eval_rows: Sequence[DialogueExample],
    data_args: DataArguments,
    args: TrainArguments,
) -> tuple[Any, Any]:
    """Shuffled training batches and in-order validation batches, padded per batch (not yet prepared).

    With `args.group_by_length`, training batches hold rows of similar length (`LengthGroupedBatches`).

    Each loader has a generator of its own. A loader without one draws a number from the global RNG each
    time an iteration starts; a resumed run starts one where the stopped run did not (mid-epoch), which
    would shift every later dropout mask, and the resume would not be exact.
    """
    import torch
    from torch.utils.data import DataLoader

    lengths = (data_args.max_source_length, data_args.max_target_length)
    collate = Seq2SeqCollator(tokenizer.pad_token_id)
    features = tokenize_examples(tokenizer, train_rows, *lengths)
    if args.group_by_length:
        sizes = [len(row["input_ids"]) + len(row["labels"]) for row in features]
        batches = LengthGroupedBatches(sizes, args.per_device_train_batch_size, args.seed)
        train = DataLoader(features, batch_sampler=batches, collate_fn=collate)
    else:
        train = DataLoader(
            features,
            shuffle=True,
            collate_fn=collate,
            batch_size=args.per_device_train_batch_size,
            generator=torch.Generator().manual_seed(args.seed),
        )
    evaluation = DataLoader(
        tokenize_examples(tokenizer, eval_rows, *lengths),
        collate_fn=collate,
        batch_size=args.per_device_eval_batch_size,
        generator=torch.Generator().manual_seed(args.seed),
    )
    return train, evaluation
