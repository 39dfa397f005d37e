"""Summaries per second on this machine: a naive loop vs the project's batched path (fp32, bf16) vs CTranslate2.

    .venv/bin/python bench/summarize_throughput.py --dataset path/to/dialogsum     # 64 DialogSum test dialogues
    .venv/bin/python bench/summarize_throughput.py --paths naive fp32 bf16          # skip CTranslate2

The model has flan-t5-base's architecture (12+12 layers, d_model 768, gated-GELU, 32,128-token vocabulary)
with random weights and an untied `lm_head`, as real FLAN-T5 checkpoints have (transformers 5's `T5Config`
forces the flag to "tied", so the head is untied by hand). The tokenizer is a T5 Unigram tokenizer trained
here on the dataset's dialogues (32,000 pieces), so prompts have about FLAN-T5's token counts. Every path
summarises the same prompts (`llmft.prompts.fit_prompt`) greedily with exactly `--new-tokens` new tokens
(`min_new_tokens = max_new_tokens`), so each does the same work; each is warmed up first, then the paths
take turns on the same chunks of `--round-size` dialogues, so other work on the machine slows them alike.
Paths:

- `naive`: the course labs' loop, one dialogue at a time: tokenize, `model.generate`, decode (the baseline);
- `fp32`: `llmft.models.generate` (batches sorted by length), fp32;
- `bf16`: the same in bfloat16;
- `ct2`: CTranslate2 int8 (`llmft.summarizing.ct2`), batches of `--ct2-batch` sorted by length. Its fp32
  conversion is checked first: greedy outputs and per-token log-probabilities against torch.

Each path prints dialogues/s, its ratio to the baseline and its share of outputs identical to the
baseline's; the last line sums up the ratios.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from llmft.data import load_dialogues  # noqa: E402
from llmft.demo.tiny import build_tokenizer, synthetic_dialogues  # noqa: E402
from llmft.models import GenerationSettings, LoadedModel, generate  # noqa: E402
from llmft.prompts import fit_prompt  # noqa: E402

logger = logging.getLogger("bench")
PATHS = ("naive", "fp32", "bf16", "ct2")


def flan_t5_base(vocab_size: int, seed: int) -> torch.nn.Module:
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_decoder_layers=12, num_heads=12,
        feed_forward_proj="gated-gelu", tie_word_embeddings=False, decoder_start_token_id=0, pad_token_id=0,
        eos_token_id=1,
    )
    assert vocab_size <= config.vocab_size
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    # T5Config forced tie_word_embeddings=True: untie as FLAN-T5 is, with its own head and no output scaling.
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight) * config.d_model**-0.5)
    model.config.tie_word_embeddings = False
    assert model.config.scale_decoder_outputs is False and model.lm_head.weight is not model.shared.weight
    return model.eval()


def check_ct2_fp32(model_dir: Path, model: torch.nn.Module, tokenizer, prompts: list[str], tokens: int) -> str:
    """The fp32 conversion against torch: identical greedy outputs, per-token log-probs within 1e-3."""
    from llmft.summarizing.ct2 import Ct2Summarizer, convert

    out = convert(str(model_dir), model_dir.parent / "ct2-fp32", "float32")
    ct2 = Ct2Summarizer(out, tokenizer, compute_type="float32")
    worst = 0.0
    with torch.inference_mode():
        encoded = tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=512)
        ids = model.generate(**encoded, max_new_tokens=tokens, min_new_tokens=tokens)
        targets = [row[1:].tolist() for row in ids]  # exactly `tokens` each (no end token before that)
        torch_out = [text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]
        ct2_out = ct2.generate(prompts, max_new_tokens=tokens, min_new_tokens=tokens)
        for prompt, target, scores in zip(prompts, targets, ct2.score(prompts, targets), strict=True):
            encoded = tokenizer(prompt, return_tensors="pt", truncation=True, max_length=512)
            logits = model(**encoded, labels=torch.tensor([target])).logits[0].float()
            reference = torch.log_softmax(logits, dim=-1)[range(len(target)), target]
            worst = max(worst, float((reference - torch.tensor(scores)).abs().max()))
    same = sum(a == b for a, b in zip(torch_out, ct2_out, strict=True))
    verdict = "OK" if same == len(prompts) and worst < 1e-3 else "MISMATCH"
    return f"{verdict}: {same}/{len(prompts)} greedy outputs identical, max |log-prob difference| {worst:.2e}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=None, help="DialogSum folder, file or Hub id (default: synthetic)")
    parser.add_argument("--dialogues", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16, help="the project's torch path")
    parser.add_argument("--ct2-batch", type=int, default=16)
    parser.add_argument("--round-size", type=int, default=32, help="dialogues per round (each path in turn)")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(os.cpu_count() or 1)

    if args.dataset:
        rows = load_dialogues(args.dataset, "test", group_references=True)[: args.dialogues]
        corpus = [r.dialogue for r in load_dialogues(args.dataset, "train", limit=4000)]
        source = f"{args.dataset} test split, first {len(rows)}"
    else:
        rows = synthetic_dialogues(args.dialogues, seed=args.seed)
        corpus = [r.dialogue for r in synthetic_dialogues(2000, seed=args.seed + 1)]
        source = f"{len(rows)} synthetic dialogues"
    tokenizer = build_tokenizer(corpus, vocab_size=32000)
    # Fill the vocabulary up to the model's 32,128 rows, as FLAN-T5's <extra_id_N> tokens do: a random head
    # may pick any row, and every path must decode it the same way.
    tokenizer.add_tokens([f"<extra_id_{i}>" for i in range(32128 - len(tokenizer))], special_tokens=True)
    model = flan_t5_base(len(tokenizer), args.seed)
    model.generation_config.min_new_tokens = args.new_tokens  # every path writes exactly --new-tokens tokens
    model.generation_config.max_new_tokens = args.new_tokens
    prompts = [fit_prompt(tokenizer, r.dialogue).text for r in rows]
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    warmup = prompts[:4]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(f"data: {source}; prompt tokens mean {sum(lengths) / len(lengths):.0f}, max {max(lengths)}; "
          f"{args.new_tokens} new tokens each, greedy")

    settings = GenerationSettings(max_new_tokens=args.new_tokens)

    def naive(batch: list[str]) -> list[str]:
        out = []
        for prompt in batch:
            inputs = tokenizer(prompt, return_tensors="pt", truncation=True, max_length=512)
            with torch.inference_mode():
                ids = model.generate(**inputs, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)
            out.append(tokenizer.decode(ids[0], skip_special_tokens=True).strip())
        return out

    def batched(which: torch.nn.Module) -> Callable[[list[str]], list[str]]:
        loaded = LoadedModel(which, tokenizer, "bench", "model", None, "cpu")
        return lambda batch: generate(loaded, batch, settings, batch_size=args.batch_size)

    runners: dict[str, Callable[[list[str]], list[str]]] = {"naive": naive}  # the baseline always runs
    if "fp32" in args.paths:
        runners["fp32"] = batched(model)
    if "bf16" in args.paths:
        runners["bf16"] = batched(copy.deepcopy(model).to(torch.bfloat16))
    work = tempfile.TemporaryDirectory(prefix="llmft-bench-")
    if "ct2" in args.paths:
        from llmft.summarizing.ct2 import Ct2Summarizer, convert

        model_dir = Path(work.name) / "model"
        model.save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
        check = check_ct2_fp32(model_dir, model, tokenizer, prompts[:8], args.new_tokens)
        print(f"ct2 fp32 conversion check: {check}")
        ct2 = Ct2Summarizer(convert(str(model_dir), Path(work.name) / "ct2-int8", "int8"), tokenizer, "int8")
        runners["ct2"] = lambda batch: ct2.generate(
            batch, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, batch_size=args.ct2_batch
        )

    # Rounds: every path runs on the same chunk in turn (the order rotating), so a machine shared with other
    # work slows every path alike instead of whichever happened to run during a busy minute.
    for run in runners.values():
        run(warmup)
    results = {name: ([], 0.0) for name in runners}
    names = list(runners)
    for index, start in enumerate(range(0, len(prompts), args.round_size)):
        chunk = prompts[start : start + args.round_size]
        for name in names[index % len(names):] + names[: index % len(names)]:
            begin = time.perf_counter()
            outputs = runners[name](chunk)
            spent = time.perf_counter() - begin
            results[name] = (results[name][0] + outputs, results[name][1] + spent)
            logger.info("round %d, %s: %.1f s (load average %.1f)", index + 1, name, spent, os.getloadavg()[0])
    work.cleanup()

    baseline_outputs, baseline_seconds = results["naive"]
    summary = []
    for name, (outputs, seconds) in results.items():
        same = sum(a == b for a, b in zip(outputs, baseline_outputs, strict=True))
        ratio = baseline_seconds / seconds
        print(f"{name:6s} {seconds:7.1f} s  {len(prompts) / seconds:6.2f} dialogues/s  {ratio:5.2f}x  "
              f"identical to naive: {same}/{len(prompts)} ({100 * same / len(prompts):.0f}%)")
        if name != "naive":
            summary.append(f"{name} {ratio:.2f}x ({100 * same / len(prompts):.0f}% identical)")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"summary: vs the naive loop: {', '.join(summary)} (load average at the end: {load})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
