"""Are the Shopbot's answers right? Scored against facts written by hand (bench/shopbot_questions.jsonl), not
against the bot's own check.

    python bench/shopbot_eval.py                                # every backend: none, scripted, local
    python bench/shopbot_eval.py --backends none --verbose       # print each wrong answer

Stores: the demo shop (llmft/store/demo), and ../shared/data/products' DummyJSON catalogue (products.json) and
Contoso shop (products.csv and its 20 manuals), each built with `KnowledgeBase.ingest` in a temporary folder.
Questions: 117, of nine kinds (a product by description; an attribute of a named product; a list under
constraints; a superlative; a store policy; a comparison; a product the store does not sell; a follow-up, asked
after its conversation's earlier turns were answered by the same bot; a prompt injection). Each lists facts the
answer must contain (alternatives split by "|") and facts it must not contain. Matching is case-insensitive on
whole words, with hyphens as spaces, thousands separators and ".00" cents dropped ("$1,099.00" matches "1099").

Backends: `none` (no model: the computed answer), `scripted` (tests/support/scripted_model_server.py on
127.0.0.1, script "mixed": half the answers faithful rephrasings, half a weak model's failures: denials, other
products, wrong or other-field figures, wrong brands, flipped yes/no, loops, markup, dropped names), and `local`
(SmolLM2-135M-Instruct on llama.cpp, one thread).
Reported per backend and kind: right (the share of answers with every must-fact and no must-not fact);
checked-but-wrong (answers marked "checked", i.e. status grounded, that are wrong: the badge on a wrong answer);
replaced (the model's wording set aside by the check); time to first visible word (p50/p90, from the message,
retrieval included). Targets (issue 16): right >= 0.9 on every backend, checked-but-wrong <= 0.02, first word p50
<= 1.5 s with the local model. The last line says whether each is met.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rag_eval import DATA, build  # noqa: E402

from llmft.chat import Backend, LocalServer, ShopBot  # noqa: E402
from llmft.chat.local_server import MODEL_NAME  # noqa: E402
from llmft.store import KnowledgeBase, StoreSettings, demo_files  # noqa: E402
from llmft.store.embeddings import Embedder  # noqa: E402
from tests.support.scripted_model_server import ScriptedModelServer  # noqa: E402

QUESTIONS = ROOT / "bench" / "shopbot_questions.jsonl"
BACKENDS = ("none", "scripted", "local")
TARGET_RIGHT, TARGET_CHECKED_WRONG, TARGET_FIRST_WORD_S = 0.9, 0.02, 1.5


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"(?<=\d)\.00(?!\d)", "", text)
    return " ".join(re.sub(r"[-\u2013\u2014]", " ", text).split())


def has(text: str, fact: str) -> bool:
    """Any of the fact's "|" alternatives, as whole words (a number not followed by more digits or cents)."""
    return any(re.search(rf"(?<![a-z0-9]){re.escape(normalise(alt))}(?![a-z0-9]|\.\d)", text)
               for alt in fact.split("|"))


def right(answer: str, question: dict[str, Any]) -> bool:
    text = normalise(answer)
    return all(has(text, f) for f in question["must"]) and not any(has(text, f) for f in question["must_not"])


def ask(bot: ShopBot, question: dict[str, Any]) -> Any:
    history: list[dict[str, str]] = []
    for earlier in question.get("history", []):  # the conversation, answered by the same bot
        reply = bot.answer(earlier, history)
        history += [{"role": "user", "content": earlier}, {"role": "assistant", "content": reply.text}]
    return bot.answer(question["question"], history)


def run(bots: dict[str, ShopBot], questions: list[dict[str, Any]], verbose: bool) -> list[dict[str, Any]]:
    rows = []
    for question in questions:
        reply = ask(bots[question["store"]], question)
        ok = right(reply.text, question)
        rows.append({"kind": question["kind"], "right": ok, "status": reply.status,
                     "checked_wrong": reply.status == "grounded" and not ok, "first_word_s": reply.first_token_s})
        if verbose and not ok:
            print(f"  WRONG {question['id']} [{reply.status}] {question['question']}\n    -> {reply.text[:300]}"
                  f"\n    model: {reply.model_text[:200]!r}")
    return rows


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=10)[int(q * 10) - 1] if len(values) > 1 else values[0]


def report(backend: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    print(f"\nbackend: {backend}")
    print(f"{'kind':<12} {'n':>3} {'right':>6} {'checked-but-wrong':>18} {'replaced':>9} {'first word p50/p90':>19}")
    for kind, group in [*by_kind.items(), ("all", rows)]:
        n = len(group)
        times = sorted(r["first_word_s"] for r in group if r["first_word_s"] is not None)
        median = statistics.median(times) if times else float("nan")
        print(f"{kind:<12} {n:>3} {sum(r['right'] for r in group) / n:>6.2f} "
              f"{sum(r['checked_wrong'] for r in group) / n:>18.2f} "
              f"{sum(r['status'] == 'replaced' for r in group) / n:>9.2f} "
              f"{f'{median:.2f} / {quantile(times, 0.9):.2f} s':>19}")
    times = sorted(r["first_word_s"] for r in rows if r["first_word_s"] is not None)
    p50, p90 = (statistics.median(times) if times else float("nan")), quantile(times, 0.9)
    statuses = {s: sum(r["status"] == s for r in rows) for s in dict.fromkeys(r["status"] for r in rows)}
    print(f"first visible word: p50 {p50:.2f} s, p90 {p90:.2f} s; statuses {statuses}")
    n = len(rows)
    return {"right": sum(r["right"] for r in rows) / n, "checked_wrong": sum(r["checked_wrong"] for r in rows) / n,
            "p50": p50}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--verbose", action="store_true", help="print every wrong answer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(message)s")
    backends = [b for b in args.backends.split(",") if b]
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}; questions: {len(questions)}")
    embedder = Embedder()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="shopbot-eval-") as scratch:
        stores = build(Path(scratch), args.data, embedder)
        demo = KnowledgeBase(StoreSettings(path=Path(scratch) / "demo"), embedder)
        catalogue, policies = demo_files()
        demo.ingest(catalogue, policies, progress=False)
        stores["demo"] = demo
        for backend in backends:
            started = time.perf_counter()
            if backend == "none":
                rows = run({n: ShopBot(kb) for n, kb in stores.items()}, questions, args.verbose)
            elif backend == "scripted":
                with ScriptedModelServer(script="mixed") as server:
                    model = Backend("compatible", "scripted", server.url, "sk-none", 30).chat_model()
                    rows = run({n: ShopBot(kb, model, "scripted") for n, kb in stores.items()}, questions,
                               args.verbose)
            else:
                with LocalServer(threads=1) as server:
                    local = Backend("local", MODEL_NAME, server.base_url, server.api_key, 120)
                    rows = run({n: ShopBot(kb, local.chat_model(), local) for n, kb in stores.items()}, questions,
                               args.verbose)
            results[backend] = report(backend, rows)
            print(f"({time.perf_counter() - started:.0f} s)")
    met_right = all(r["right"] >= TARGET_RIGHT for r in results.values())
    met_checked = all(r["checked_wrong"] <= TARGET_CHECKED_WRONG for r in results.values())
    local_p50 = results.get("local", {}).get("p50", float("nan"))
    parts = [f"{b} right {r['right']:.2f} checked-but-wrong {r['checked_wrong']:.2f}" for b, r in results.items()]
    print(f"\nsummary: {'; '.join(parts)}; local first word p50 {local_p50:.2f} s; targets: right >= {TARGET_RIGHT} "
          f"{'met' if met_right else 'NOT met'}, checked-but-wrong <= {TARGET_CHECKED_WRONG} "
          f"{'met' if met_checked else 'NOT met'}, local first word p50 <= {TARGET_FIRST_WORD_S} s "
          f"{'met' if local_p50 <= TARGET_FIRST_WORD_S else 'NOT met' if 'local' in results else 'not run'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
