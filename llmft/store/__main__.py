"""Command line for the knowledge base.

    python -m llmft.store ingest CATALOGUE [DOCS...] --store PATH [--sync]   # or --host/--port for a server
    python -m llmft.store ingest --demo --store PATH                         # the demo shop shipped in the package
    python -m llmft.store search "cheapest phone under $300" --store PATH [-k 5] [--mode hybrid]

Without --store/--host the LLMFT_STORE_PATH / LLMFT_CHROMA_HOST variables apply. Errors end the run with a
message and exit code 2; an unreadable document is skipped, named in the summary, and gives exit code 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from llmft.errors import StoreError, run_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m llmft.store", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--store", type=Path, help="store folder (embedded Chroma); default LLMFT_STORE_PATH")
    where.add_argument("--host", help="Chroma server host (`chroma run`); default LLMFT_CHROMA_HOST")
    where.add_argument("--port", type=int, help="Chroma server port; default LLMFT_CHROMA_PORT or 8000")
    where.add_argument("--collection", help="collection name; default LLMFT_STORE_COLLECTION or 'shop'")
    ingest = commands.add_parser("ingest", parents=[where], help="add or update a catalogue and documents")
    ingest.add_argument("catalogue", nargs="?", type=Path, help="products as .csv, .json or .jsonl")
    ingest.add_argument("documents", nargs="*", type=Path, help="files or folders: .md .html .txt .pdf .docx")
    ingest.add_argument("--demo", action="store_true", help="ingest the demo shop shipped with the package")
    ingest.add_argument("--sync", action="store_true", help="also delete what is stored but no longer given")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bars")
    search = commands.add_parser("search", aliases=["query"], parents=[where], help="search the store")
    search.add_argument("question")
    search.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    search.add_argument("--mode", default="hybrid", choices=["hybrid", "fusion", "bm25", "vector"])
    search.add_argument("--json", action="store_true", help="print the hits as JSON lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from llmft.store.knowledge_base import KnowledgeBase, demo_files

    kb = KnowledgeBase.open(path=args.store, host=args.host, port=args.port, collection=args.collection)
    if args.command == "ingest":
        catalogues, documents = ([args.catalogue] if args.catalogue else []), list(args.documents)
        if args.demo:
            catalogue, policies = demo_files()
            catalogues, documents = catalogues + [catalogue], documents + policies
        if not catalogues and not documents:
            raise StoreError("nothing to ingest: give a catalogue and/or documents, or --demo")
        if catalogues and catalogues[0].suffix.lower() not in (".csv", ".json", ".jsonl") and not args.demo:
            documents, catalogues = catalogues + documents, []  # only documents were given
        summary = kb.ingest(catalogues, documents, sync=args.sync, progress=not args.no_progress)
        print(f"{kb.settings.where}, collection {kb.settings.collection!r}:")
        print("\n".join(summary.lines()))
        return 1 if summary.skipped else 0
    result = kb.search(args.question, k=args.k, mode=args.mode)
    if args.json:
        for hit in result.hits:
            print(json.dumps({"id": hit.id, "kind": hit.kind, "citation": hit.citation, "reason": hit.reason,
                              "score": round(hit.score, 5), "metadata": hit.metadata}))
        return 0
    print(f"query: {result.query}" + (f"  [{result.constraints.describe()}]" if result.constraints else ""))
    if result.note:
        print(f"note: {result.note}")
    for rank, hit in enumerate(result.hits, start=1):
        print(f"{rank}. {hit.citation}  ({hit.reason})")
        print("   " + hit.text.replace("\n", " ")[:160])
    return 0


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
