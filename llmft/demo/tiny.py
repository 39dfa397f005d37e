"""Tiny T5 models built from scratch in seconds: for tests, demos and CI where no Hub is reachable.

A real T5 tokenizer (Unigram, `</s>` appended, `<pad>` = 0) is trained on the fly with the
`tokenizers` library, and a T5 config of a few small layers gets random weights. Both are saved in
Hub format (`config.json`, `model.safetensors`, `tokenizer.json`, ...), so every loading path that
works for `google/flan-t5-base` works for them. Nothing is downloaded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from llmft.data import DialogueExample
from llmft.prompts import INSTRUCTION

_NAMES = ["Anna", "Ben", "Chloe", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack", "Kate", "Leo"]
_PLACES = ["the bank", "the office", "the station", "the market", "the hotel", "the library", "the clinic"]
_THINGS = ["a ticket", "a room", "a coat", "some coffee", "a new phone", "a taxi", "a book", "an appointment"]
_TIMES = ["today", "tomorrow", "on Monday", "this evening", "next week", "at noon"]


def synthetic_dialogues(count: int, seed: int = 0) -> list[DialogueExample]:
    """Deterministic DialogSum-shaped rows (`#Person1#:` turns, a one-sentence summary, a topic)."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        name, place, thing, time = rng.choice(_NAMES), rng.choice(_PLACES), rng.choice(_THINGS), rng.choice(_TIMES)
        turns = [
            f"#Person1#: Hello {name}, are you going to {place} {time}?",
            f"#Person2#: Yes, I need to get {thing} there.",
            f"#Person1#: Can I come with you? I want {rng.choice(_THINGS)} too.",
            f"#Person2#: Sure, let us meet at {rng.choice(_PLACES)} first.",
        ]
        rows.append(
            DialogueExample(
                id=f"synthetic_{index}",
                dialogue="\n".join(turns),
                summaries=[f"{name} is going to {place} {time} to get {thing}."],
                topic=place.removeprefix("the "),
            )
        )
    return rows


def _corpus(examples: Sequence[DialogueExample]) -> list[str]:
    return [INSTRUCTION, "Summary:"] + [e.dialogue for e in examples] + [s for e in examples for s in e.summaries]


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 512):
    """A T5 tokenizer whose Unigram vocabulary is trained on `corpus` (ids 0-2: <pad>, </s>, <unk>)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    specials = ["<pad>", "</s>", "<unk>"]
    trainer_tokenizer = Tokenizer(models.Unigram())
    trainer_tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>", show_progress=False
    )
    trainer_tokenizer.train_from_iterator(list(corpus), trainer=trainer)
    vocab = [(piece, float(score)) for piece, score in json.loads(trainer_tokenizer.to_str())["model"]["vocab"]]
    if [piece for piece, _ in vocab[:3]] != specials:  # T5 wants exactly these ids
        raise RuntimeError(f"unexpected special-token order in trained vocabulary: {vocab[:3]}")
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=512)


def build_tiny_t5(
    out_dir: str | Path,
    examples: Sequence[DialogueExample] | None = None,
    vocab_size: int = 512,
    d_model: int = 64,
    num_layers: int = 2,
    seed: int = 0,
    quiet_special_tokens: bool = True,
    tokenizer: Any = None,
) -> Path:
    """Save a tiny random-weight T5 and its tokenizer to `out_dir` (about 1 MB, under a second).

    `quiet_special_tokens=False` keeps random lm_head rows for <pad>, </s> and <unk>. A base for LoRA
    training needs that: LoRA leaves lm_head frozen, and a </s> logit pinned at 0 is one it cannot learn
    to raise, so the tuned model could never stop. `tokenizer` replaces the one trained on `examples`
    (the demo model brings its English one, `llmft.demo.tokenizer`).
    """
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    out_dir = Path(out_dir)
    if tokenizer is None:
        tokenizer = build_tokenizer(_corpus(examples or synthetic_dialogues(200)), vocab_size)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=d_model // 4,
        d_ff=2 * d_model,
        num_layers=num_layers,
        num_decoder_layers=num_layers,
        num_heads=4,
        feed_forward_proj="gated-gelu",  # as FLAN-T5 (T5 v1.1)
        tie_word_embeddings=False,
        decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    if quiet_special_tokens:
        with torch.no_grad():
            # Random weights would often pick <pad> or </s> first and say nothing; zero logits for the
            # special tokens make an untrained model emit words, so tests can compare real outputs.
            # The bare word boundary "▁" decodes to nothing, so it is quietened too.
            quiet = [tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id]
            quiet += [i for i in [tokenizer.convert_tokens_to_ids("▁")] if i not in (None, tokenizer.unk_token_id)]
            model.lm_head.weight[quiet] = 0.0
    model.generation_config.max_new_tokens = 32
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build_tiny_lora(base_dir: str | Path, out_dir: str | Path, r: int = 4, seed: int = 0) -> Path:
    """Save a LoRA adapter (q, v) for the model in `base_dir`, with random non-zero weights.

    LoRA normally starts with B = 0 (a no-op); random B makes the adapter change generations, so a
    test can tell whether it was applied.
    """
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    torch.manual_seed(seed)
    base = AutoModelForSeq2SeqLM.from_pretrained(base_dir)
    config = LoraConfig(
        task_type=TaskType.SEQ_2_SEQ_LM,
        r=r,
        lora_alpha=4 * r,
        target_modules=["q", "v"],
        lora_dropout=0.0,
        init_lora_weights=False,
    )
    model = get_peft_model(base, config)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out_dir)
    return Path(out_dir)


def write_tiny_project(out_dir: str | Path, rows: int = 64, seed: int = 0) -> tuple[Path, Path]:
    """A tiny model (`out_dir/model`) and DialogSum-shaped data (`out_dir/data/{train,validation,test}.jsonl`).

    Enough to run the training, evaluation and merge scripts end to end on a CPU in about a minute.
    """
    from llmft.data import write_jsonl

    out_dir = Path(out_dir)
    examples = synthetic_dialogues(rows + 32, seed=seed)
    data = out_dir / "data"
    write_jsonl(examples[:rows], data / "train.jsonl")
    write_jsonl(examples[rows : rows + 16], data / "validation.jsonl")
    write_jsonl(examples[rows + 16 :], data / "test.jsonl")
    model = build_tiny_t5(out_dir / "model", examples, seed=seed, quiet_special_tokens=False)
    return model, data


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write a tiny T5 and synthetic dialogues for CPU smoke tests.")
    parser.add_argument("out_dir", nargs="?", default="outputs/tiny")
    parser.add_argument("--rows", type=int, default=64, help="training rows")
    cli = parser.parse_args()
    model_dir, data_dir = write_tiny_project(cli.out_dir, cli.rows)
    print(f"model: {model_dir}\ndata:  {data_dir}")
