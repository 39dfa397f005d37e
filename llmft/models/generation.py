"""Generating with a loaded model: decoding settings, and batches of similar length in input order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from llmft.models.loader import LoadedModel


@dataclass
class GenerationSettings:
    """Decoding settings; greedy by default, as the course labs use."""

    max_new_tokens: int = 200
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams}
        if self.do_sample:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p)
        else:
            kwargs["do_sample"] = False
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def generate(
    loaded: LoadedModel,
    prompts: Sequence[str],
    settings: GenerationSettings | None = None,
    batch_size: int = 8,
    max_input_tokens: int = 512,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Generate for each prompt, in batches of similar length (less padding); outputs in input order.

    `progress(done, total)` is called after each batch (tqdm in scripts, `gr.Progress` in apps).
    """
    import torch

    settings = settings or GenerationSettings()
    tokenizer, model = loaded.tokenizer, loaded.model
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    generator_seed = settings.seed
    for start in range(0, len(order), batch_size):
        batch_ids = order[start : start + batch_size]
        batch = tokenizer(
            [prompts[i] for i in batch_ids],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_input_tokens,
        ).to(loaded.device)
        if generator_seed is not None:
            torch.manual_seed(generator_seed + start)  # sampling is reproducible for a given seed
        with torch.inference_mode():
            generated = model.generate(**batch, **settings.generate_kwargs())
        for i, text in zip(batch_ids, tokenizer.batch_decode(generated, skip_special_tokens=True), strict=True):
            outputs[i] = text.strip()
        if progress is not None:
            progress(min(start + batch_size, len(order)), len(order))
    return outputs
