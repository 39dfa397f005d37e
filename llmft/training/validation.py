"""Validation during training: loss over every process, and ROUGE on the first rows with the apps' generate,
generation sharded across the processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmft.data import DialogueExample
from llmft.training.arguments import DataArguments, TrainArguments


def validation_metrics(
    accelerator: Any,
    model: Any,
    tokenizer: Any,
    eval_loader: Any,
    eval_rows: Sequence[DialogueExample],
    args: TrainArguments,
    data_args: DataArguments,
) -> dict[str, float]:
    """Validation loss (token-weighted, over all processes) and ROUGE on the first rows (in the main process's
    metrics only).

    Every process must call it. ROUGE uses `llmft.evaluation.evaluate_model`, the apps' generate + ROUGE: each
    process generates its shard of the rows, and the main process scores them all.
    """
    import torch
    import torch.nn.functional as F

    from llmft.evaluation import evaluate_model
    from llmft.models import GenerationSettings, LoadedModel

    model.eval()
    loss_sum = torch.zeros((), device=accelerator.device)
    token_count = torch.zeros((), device=accelerator.device)
    for batch in eval_loader:
        with torch.no_grad():
            logits = model(**batch).logits.float()
        token_losses = F.cross_entropy(logits.transpose(1, 2), batch["labels"], reduction="none")  # 0 at -100
        # Per row, so gather_for_metrics can drop the rows repeated to even out the last batch across processes.
        row_losses, row_tokens = accelerator.gather_for_metrics(
            (token_losses.sum(dim=1), (batch["labels"] != -100).sum(dim=1))
        )
        loss_sum += row_losses.sum()
        token_count += row_tokens.sum()
    metrics = {"eval/loss": (loss_sum / token_count.clamp(min=1)).item()}
    if args.eval_generate_samples and eval_rows:
        unwrapped = accelerator.unwrap_model(model)
        loaded = LoadedModel(unwrapped, tokenizer, "training", "model", None, str(accelerator.device))
        settings = GenerationSettings(
            max_new_tokens=args.generation_max_new_tokens, num_beams=args.generation_num_beams
        )
        scored = evaluate_model(
            loaded,
            eval_rows[: args.eval_generate_samples],
            settings=settings,
            batch_size=args.per_device_eval_batch_size,
            max_input_tokens=data_args.max_source_length,
            processes=accelerator,
        )
        if scored is not None:  # the main process
            metrics.update({f"eval/{name}": value for name, value in scored.single.mean.items()})
    accelerator.wait_for_everyone()
    model.train()
    return metrics
