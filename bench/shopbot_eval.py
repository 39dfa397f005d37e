"""The Shopbot with the local model (SmolLM2-135M on llama.cpp, one thread) over the knowledge-base benchmark's
questions (bench/rag_questions.jsonl, the stores of bench/rag_eval.py).

    python bench/shopbot_eval.py                    # all 69 questions, 64 tokens per answer
    python bench/shopbot_eval.py --limit 20 --max-tokens 48

Figures: the share of answers whose prices, product names and policy figures are all in their sources
(`llmft.chat.check_answer`) before the post-generation check (the model's own text) and after it (what the
shopper sees: 100% by construction, measured anyway); refusals on products the store does not sell (the
"not_sold" questions whose final answer names no catalogue product and no price); and time to first token
(p50 and p90, from the request to the first streamed token, retrieval excluded).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rag_eval import DATA, QUESTIONS, build  # noqa: E402

from llmft.chat import Backend, LocalServer, ShopBot, check_answer  # noqa: E402
from llmft.chat.grounding import _PRICE  # noqa: E402
from llmft.chat.local_server import MODEL_NAME  # noqa: E402
from llmft.store.embeddings import Embedder  # noqa: E402


def refused(text: str, titles: frozenset[str]) -> bool:
    return not _PRICE.search(text) and not any(t.lower() in text.lower() for t in titles)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="the first N questions only (0: all)")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    if args.limit:
        not_sold = [q for q in questions if q["type"] == "not_sold"]
        questions = questions[: args.limit] + [q for q in not_sold if q not in questions[: args.limit]]
    with tempfile.TemporaryDirectory(prefix="shopbot-eval-") as tmp, LocalServer(threads=1) as server:
        stores = build(Path(tmp), args.data, Embedder())
        model = Backend("local", MODEL_NAME, server.base_url, server.api_key, 120).chat_model(args.max_tokens)
        bots = {name: ShopBot(kb, model, "local") for name, kb in stores.items()}
        before, after, ttft, refusals, statuses = [], [], [], [], {}
        started = time.perf_counter()
        for question in questions:
            history = [("user", text) for text in question.get("history", [])]
            reply = bots[question["store"]].answer(question["question"], history)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
            before.append(not check_answer(reply.model_text, reply.sources) and bool(reply.model_text.strip()))
            after.append(not check_answer(reply.text, reply.sources))
            if reply.first_token_s is not None:
                ttft.append(reply.first_token_s)
            if question["type"] == "not_sold":
                refusals.append(refused(reply.text, reply.sources.catalogue_titles))
        elapsed = time.perf_counter() - started
    n = len(questions)
    quantiles = statistics.quantiles(ttft, n=10) if len(ttft) > 1 else [float("nan")] * 9
    machine = platform.processor() or platform.machine()
    print(f"{MODEL_NAME} on llama.cpp (xllamacpp), 1 thread, {args.max_tokens} tokens max; {machine}")
    print(f"questions                     {n}")
    print(f"grounded before the check     {sum(before) / n:.0%} ({sum(before)}/{n})")
    print(f"grounded after the check      {sum(after) / n:.0%} ({sum(after)}/{n})")
    print(f"statuses                      {statuses}")
    print(f"refusals on products not sold {sum(refusals)}/{len(refusals)}")
    print(f"time to first token           p50 {statistics.median(ttft):.2f} s, p90 {quantiles[8]:.2f} s")
    print(f"total                         {elapsed:.0f} s ({elapsed / n:.1f} s per question)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
