"""Retrieval quality of the shop knowledge base on ../shared/data/products, against plain vector top-k.

    python bench/rag_eval.py                      # builds two stores in a temporary folder, then scores
    python bench/rag_eval.py --store-dir /tmp/kb  # keep (and reuse) the stores

Two stores: `dummyjson` (products.json, 194 products) and `contoso` (products.csv, 20 products, and their 20
Markdown manuals). The questions, written by hand in bench/rag_questions.jsonl, are of eight kinds: lookups by
description and by paraphrase, attribute questions, price and category constraints, superlatives, policies from
the manuals, follow-ups (with the conversation so far), and products the store does not sell.

A hit is right when it is one of the expected products (for Contoso, the product's manual counts too), or, for a
passage, the expected manual file with the expected section in its heading. Scores: hit@1, hit@5 and MRR (over
the top 5), for `hybrid` (filters + BM25 + vectors), `fusion` (BM25 + vectors), `bm25` and `vector` (plain vector
top-k on the question as asked: the baseline). For "not sold", the figure is the share of questions whose best
vector similarity is below 0.5, i.e. where a bot could tell that nothing fits; it is not in the overall scores.
Target (issue 9): hybrid hit@5 >= 0.9 overall, and at least 0.1 above plain vector top-k.
The last line is a one-line summary with the ratio hybrid / vector of hit@5.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmft.store import KnowledgeBase, StoreSettings  # noqa: E402
from llmft.store.embeddings import Embedder  # noqa: E402
from llmft.store.retrieval import Hit  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "products"
QUESTIONS = Path(__file__).resolve().parent / "rag_questions.jsonl"
MODES = ("hybrid", "fusion", "bm25", "vector")
K = 5
NOT_SOLD_SIMILARITY = 0.5


def build(store_dir: Path, data: Path, embedder: Embedder) -> dict[str, KnowledgeBase]:
    stores = {}
    for name, catalogue, documents in (("dummyjson", data / "dummyjson" / "products.json", []),
                                       ("contoso", data / "contoso" / "products.csv", [data / "contoso" / "manuals"])):
        kb = KnowledgeBase(StoreSettings(path=store_dir / name), embedder)
        summary = kb.ingest(catalogue, documents, sync=True, progress=False)
        rate = f", {summary.records_added / summary.embed_seconds:.1f} records/s" if summary.embed_seconds else ""
        print(f"store {name}: {summary.total_records} records ({summary.records_added} embedded in "
              f"{summary.embed_seconds:.1f} s{rate})")
        stores[name] = kb
    return stores


def right(hit: Hit, question: dict[str, Any]) -> bool:
    meta = hit.metadata
    if "passage" in question:
        file, section = question["passage"]
        return meta.get("file") == file and section in str(meta.get("heading", ""))
    expected = set(question["products"])
    if hit.kind == "product":
        return str(meta.get("product_id")) in expected
    return question["store"] == "contoso" and meta.get("file") in {f"product_info_{i}.md" for i in expected}


def evaluate(stores: dict[str, KnowledgeBase], questions: list[dict[str, Any]]) -> dict[str, dict[str, list]]:
    """mode -> type -> list of (hit@1, hit@5, reciprocal rank) or, for not_sold, (abstained,)."""
    scores: dict[str, dict[str, list]] = {mode: defaultdict(list) for mode in MODES}
    for question in questions:
        kb = stores[question["store"]]
        history = [{"role": "user", "content": text} for text in question.get("history", [])]
        for mode in MODES:
            # The baseline embeds the question as asked; the history is the hybrid retriever's to use.
            result = kb.search(question["question"], k=K, history=history if mode == "hybrid" else [], mode=mode)
            if question["type"] == "not_sold":
                best = max((h.similarity for h in result.hits if h.similarity is not None), default=0.0)
                scores[mode]["not_sold"].append((best < NOT_SOLD_SIMILARITY,))
                continue
            ranks = [rank for rank, hit in enumerate(result.hits, start=1) if right(hit, question)]
            first = ranks[0] if ranks else None
            scores[mode][question["type"]].append((first == 1, first is not None, 1.0 / first if first else 0.0))
            if mode == "hybrid" and first != 1:
                logging.info("hybrid miss (rank %s): %s -> %s", first, question["question"],
                             [h.citation for h in result.hits[:3]])
    return scores


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--store-dir", type=Path, help="where to build the stores (default: a temporary folder)")
    parser.add_argument("--verbose", action="store_true", help="log each hybrid miss")
    parser.add_argument("--bm25-weight", type=float, help="weight of the BM25 ranks in the fusion (default 1.0)")
    args = parser.parse_args()
    if args.bm25_weight is not None:
        import llmft.store.retrieval as retrieval

        retrieval.BM25_WEIGHT = args.bm25_weight
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not (args.data / "dummyjson" / "products.json").is_file():
        print(f"error: {args.data} does not hold the product catalogues (see its MANIFEST.tsv)", file=sys.stderr)
        return 2
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}; questions: {len(questions)}")
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as scratch:
        stores = build(args.store_dir or Path(scratch), args.data, embedder)
        started = time.perf_counter()
        scores = evaluate(stores, questions)
        print(f"{len(questions) * len(MODES)} searches in {time.perf_counter() - started:.1f} s")
    types = [t for t in dict.fromkeys(q["type"] for q in questions) if t != "not_sold"]
    print(f"\n{'type':<12} {'n':>3}  " + "  ".join(f"{m + ' h@1/h@5/MRR':>24}" for m in MODES))
    overall: dict[str, list] = {mode: [] for mode in MODES}
    for kind in types:
        row = []
        for mode in MODES:
            values = scores[mode][kind]
            overall[mode] += values
            row.append(f"{mean([v[0] for v in values]):.2f}/{mean([v[1] for v in values]):.2f}/"
                       f"{mean([v[2] for v in values]):.2f}")
        print(f"{kind:<12} {len(scores['hybrid'][kind]):>3}  " + "  ".join(f"{cell:>24}" for cell in row))
    totals = {mode: [mean([v[i] for v in overall[mode]]) for i in range(3)] for mode in MODES}
    print(f"{'overall':<12} {len(overall['hybrid']):>3}  " + "  ".join(
        f"{'/'.join(f'{x:.2f}' for x in totals[mode]):>24}" for mode in MODES))
    not_sold = {mode: mean([v[0] for v in scores[mode]["not_sold"]]) for mode in MODES}
    print(f"{'not sold':<12} {len(scores['hybrid']['not_sold']):>3}  " + "  ".join(
        f"{f'{not_sold[mode]:.2f} below {NOT_SOLD_SIMILARITY}':>24}" for mode in MODES))
    hybrid, vector = totals["hybrid"][1], totals["vector"][1]
    print(f"\nsummary: hit@5 hybrid {hybrid:.2f} vs plain vector top-{K} {vector:.2f} (+{hybrid - vector:.2f}), "
          f"hybrid/vector = {hybrid / vector:.2f}; hit@1 {totals['hybrid'][0]:.2f} vs {totals['vector'][0]:.2f}; "
          f"MRR {totals['hybrid'][2]:.2f} vs {totals['vector'][2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
