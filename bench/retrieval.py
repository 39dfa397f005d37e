"""Speed of the shop knowledge base: search latency with 10,000 records, and ingestion throughput with MiniLM.

    python bench/retrieval.py                       # 10,000 records, 200 timed searches per mode
    python bench/retrieval.py --records 20000 --dtype bfloat16

Latency, end to end as the chatbot calls it (`Retriever.search`: embed the question, parse constraints, BM25,
Chroma vector query, filters, fusion), p50 and p95 over the questions of bench/rag_questions.jsonl, repeated,
after a warm-up. The 10,000 records are the real ../shared/data/products records (194 + 20 products, 377
manual chunks) repeated with new ids, and for the copies a vector = the original's + small noise, renormalised
(embedding 10,000 texts would take minutes and not change what a query costs). Baseline: `vector` mode (embed +
Chroma only); target (issue 9) p50 under 30 ms for hybrid.

Ingestion throughput: the Contoso manual chunks (up to 1,000 characters, ~150-250 MiniLM tokens each) embedded
in batches of 64 and written to Chroma, in chunks per second, with the store's embedder (`--backend`, default
`auto`: ONNX int8 where it runs) and, as the baseline in the same run, the torch embedder. The model is loaded
(and, the first time, exported) before the clock starts; that time is printed apart. Target (issues 9, 19): 80
or more. The last line is a one-line summary with the ratios hybrid p50 / vector p50 and ONNX / torch ingestion.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmft.store import KnowledgeBase, StoreSettings  # noqa: E402
from llmft.store.chroma import Record  # noqa: E402
from llmft.store.embeddings import Embedder, resolve_dtype  # noqa: E402
from llmft.store.retrieval import Retriever  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "products"
QUESTIONS = Path(__file__).resolve().parent / "rag_questions.jsonl"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def throughput(kb: KnowledgeBase, data: Path) -> tuple[float, int, float]:
    """(chunks per second, chunks, mean tokens per chunk) for embedding + writing the Contoso manuals."""
    started = time.perf_counter()
    backend = kb.embedder.load()
    print(f"embedder {backend}: loaded in {time.perf_counter() - started:.1f} s (for ONNX: the export, the first time)")
    started, started_cpu = time.perf_counter(), time.process_time()
    summary = kb.ingest([], [data / "contoso" / "manuals"], progress=False)
    total, total_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    texts = [r.text for r in kb.collection.records()]
    tokenizer = kb.embedder.tokenizer
    tokens = statistics.mean(len(tokenizer(t)["input_ids"]) for t in texts)
    started, started_cpu = time.perf_counter(), time.process_time()
    kb.embedder.embed_documents(sorted(texts, key=len))
    alone = len(texts) / (time.perf_counter() - started)
    alone_cpu = len(texts) / (time.process_time() - started_cpu)  # per CPU-second: what a queue does not change
    rate = summary.records_added / summary.embed_seconds
    print(f"ingestion ({backend}): {summary.records_added} chunks, mean {statistics.mean(map(len, texts)):.0f} "
          f"characters = {tokens:.0f} tokens ({summary.chunks_split} over {kb.embedder.max_tokens} tokens split); "
          f"partition + embed + write {total:.1f} s wall, {total_cpu:.1f} s CPU; of which embed + write "
          f"{summary.embed_seconds:.1f} s = {rate:.1f} chunks/s; embedding alone again: {alone:.1f} chunks/s wall, "
          f"{alone_cpu:.1f} per CPU-second "
          f"(so writing is about {max(0.0, summary.embed_seconds - len(texts) / alone):.1f} s)")
    return rate, summary.records_added, tokens


def grow(source: KnowledgeBase, target: KnowledgeBase, records: int, seed: int = 0) -> None:
    """Fill `target` with `records` copies of `source`'s records (new ids, jittered vectors)."""
    got = source.collection.collection.get(include=["documents", "metadatas", "embeddings"])
    rng = np.random.default_rng(seed)
    base = np.asarray(got["embeddings"], dtype=np.float32)
    written = 0
    copy = 0
    while written < records:
        n = min(len(base), records - written)
        vectors = base[:n] + (rng.normal(0, 0.02, size=(n, base.shape[1])).astype(np.float32) if copy else 0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        batch = []
        for i in range(n):
            meta = dict(got["metadatas"][i])
            if copy and meta.get("kind") == "product":
                meta["product_id"] = f"{meta['product_id']}-{copy}"
            meta["source_key"] = f"{meta.get('source_key')}#{copy}"
            batch.append(Record(f"{got['ids'][i]}-{copy}", got["documents"][i], meta))
        target.collection.add(batch, vectors.tolist())
        written += n
        copy += 1


def latency(retriever: Retriever, questions: list[dict], mode: str, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per search. On a machine shared with other work, wall time measures the queue;
    the CPU time this process spent (all its threads) is what the search costs."""
    wall, cpu = [], []
    for _ in range(repeats):
        for question in questions:
            history = [{"role": "user", "content": t} for t in question.get("history", [])]
            started, started_cpu = time.perf_counter(), time.process_time()
            retriever.search(question["question"], k=5, history=history if mode == "hybrid" else [], mode=mode)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=200, help="timed searches per mode")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--backend", default="auto", choices=["auto", "onnx-int8", "torch"],
                        help="the store's embedder (the baseline is always torch)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's; 1 helps on a busy machine)")
    args = parser.parse_args()
    if not (args.data / "dummyjson" / "products.json").is_file():
        print(f"error: {args.data} does not hold the product catalogues (see its MANIFEST.tsv)", file=sys.stderr)
        return 2
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {cpu_name()}, torch threads {torch.get_num_threads()}, load average "
          f"{os.getloadavg()[0]:.1f}; embedder MiniLM-L6 {args.backend} (torch path: {resolve_dtype(args.dtype)})")
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    embedder = Embedder(dtype=args.dtype, backend=args.backend)
    with tempfile.TemporaryDirectory() as scratch:
        baseline = KnowledgeBase(StoreSettings(path=Path(scratch) / "torch"), Embedder(dtype=args.dtype,
                                                                                         backend="torch"))
        torch_rate, _, _ = throughput(baseline, args.data)
        manuals = KnowledgeBase(StoreSettings(path=Path(scratch) / "manuals", embedding_dtype=args.dtype), embedder)
        rate, _, _ = throughput(manuals, args.data)
        seed = KnowledgeBase(StoreSettings(path=Path(scratch) / "seed"), embedder)
        seed.ingest([args.data / "dummyjson" / "products.json"], [], progress=False)
        seed.collection.add(list(manuals.collection.records()),
                            manuals.collection.collection.get(include=["embeddings"])["embeddings"].tolist())
        big = KnowledgeBase(StoreSettings(path=Path(scratch) / "big"), embedder)
        started = time.perf_counter()
        grow(seed, big, args.records)
        retriever = big.retriever
        print(f"store: {big.count()} records ({len(retriever.products)} products), built and indexed in "
              f"{time.perf_counter() - started:.1f} s")
        repeats = max(1, args.searches // len(questions))
        results = {}
        for mode in ("hybrid", "vector", "bm25"):
            latency(retriever, questions[:10], mode, 1)  # warm-up
            wall, cpu = latency(retriever, questions, mode, repeats)
            p50, p95 = float(np.percentile(wall, 50)), float(np.percentile(wall, 95))
            c50, c95 = float(np.percentile(cpu, 50)), float(np.percentile(cpu, 95))
            results[mode] = (p50, c50)
            print(f"latency {mode:<7} wall p50 {p50:6.1f} ms  p95 {p95:6.1f} ms | CPU p50 {c50:6.1f} ms  p95 "
                  f"{c95:6.1f} ms  ({len(wall)} searches)")
        # The baseline embedder on the same store: hybrid latency with torch embedding the question.
        torch_retriever = Retriever(big.collection, baseline.embedder)
        latency(torch_retriever, questions[:10], "hybrid", 1)
        wall, cpu = latency(torch_retriever, questions, "hybrid", repeats)
        results["hybrid-torch"] = (float(np.percentile(wall, 50)), float(np.percentile(cpu, 50)))
        print(f"latency hybrid with the torch embedder: wall p50 {results['hybrid-torch'][0]:6.1f} ms | CPU p50 "
              f"{results['hybrid-torch'][1]:6.1f} ms")
        for each in (embedder, baseline.embedder):
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(50):
                each.embed_query("cheapest phone under $300")
            print(f"question embedding alone ({each.backend}): wall "
                  f"{(time.perf_counter() - started) / 50 * 1000:.1f} ms, CPU "
                  f"{(time.process_time() - started_cpu) / 50 * 1000:.1f} ms")
    (hybrid, hybrid_cpu), (vector, vector_cpu) = results["hybrid"], results["vector"]
    torch_wall, torch_cpu = results["hybrid-torch"]
    backend = embedder.backend
    print(f"summary: {args.records} records, hybrid p50 {hybrid:.1f} ms wall / {hybrid_cpu:.1f} ms CPU (target < 30), "
          f"vector p50 {vector:.1f} / {vector_cpu:.1f} ms, hybrid/vector = {hybrid / vector:.2f} wall, "
          f"{hybrid_cpu / vector_cpu:.2f} CPU, hybrid {backend}/torch {hybrid / torch_wall:.2f} wall, "
          f"{hybrid_cpu / torch_cpu:.2f} CPU; load average {os.getloadavg()[0]:.1f}; ingestion ({backend}) "
          f"{rate:.1f} chunks/s wall, embed + write (target >= 80), torch {torch_rate:.1f} chunks/s in the same run: "
          f"{rate / torch_rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
