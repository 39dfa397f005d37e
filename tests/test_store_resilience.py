"""The store when its parts fail, for real: a Chroma server (`chroma run`) stopped or frozen (SIGSTOP) under a
KnowledgeBase gives a StoreError within the timeout and is used again once it is back, with no new client; and
`python -m llmft.store ingest` killed with SIGKILL half-way, then run again, leaves exactly the records of one
uninterrupted run (the same count and ids), on disk and on a server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmft.errors import StoreError
from llmft.store import KnowledgeBase, StoreSettings
from llmft.store.chroma import ChromaCollection
from llmft.store.embeddings import Embedder
from llmft.store.ingest import INGESTING
from tests.support.chroma_server import ChromaServer
from tests.support.store_docs import SHIPPING_MD, write_small_shop

PRODUCTS = 160  # three embedding batches of 64: the kill lands after the first one is written
CATEGORIES = ("kitchen", "lighting", "garden", "office")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """The module's own server: these tests stop and freeze it, so it is not shared with other modules."""
    with ChromaServer(tmp_path_factory.mktemp("resilience-chroma") / "data") as chroma:
        yield chroma


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    return write_small_shop(tmp_path)


def _search_fails_within(kb: KnowledgeBase, seconds: float, words: str) -> float:
    started = time.monotonic()
    with pytest.raises(StoreError, match=words):
        kb.search("a kettle that whistles", k=1)
    took = time.monotonic() - started
    assert took < seconds, f"the search failed only after {took:.1f} s"
    return took


def test_a_stopped_server_is_a_clear_error_and_is_used_again_when_back(server: ChromaServer, embedder: Embedder,
                                                                       shop: Path) -> None:
    kb = KnowledgeBase(StoreSettings(host=server.host, port=server.port, collection="comes-back"), embedder)
    kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    server.stop()
    try:
        _search_fails_within(kb, 5, rf"Chroma server 127\.0\.0\.1:{server.port} does not answer \(ConnectError\) "
                                    rf"while .*start it with `chroma run --host 127\.0\.0\.1 --port {server.port}`")
    finally:
        server.start()  # same port, same data folder
    assert kb.search("a kettle that whistles", k=1).hits[0].citation == "product K-1: Alpine Kettle"


def test_a_frozen_server_times_out_and_answers_again_when_thawed(server: ChromaServer, embedder: Embedder,
                                                                 shop: Path) -> None:
    kb = KnowledgeBase(StoreSettings(host=server.host, port=server.port, collection="frozen", timeout=1.5), embedder)
    kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    os.kill(server.process.pid, signal.SIGSTOP)  # up at the TCP level, silent above it
    try:
        _search_fails_within(kb, 5, r"did not answer within 1\.5 s \(LLMFT_CHROMA_TIMEOUT\) while")
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert kb.search("a kettle that whistles", k=1).hits[0].citation == "product K-1: Alpine Kettle"


# --- an interrupted ingestion ---------------------------------------------------------------------------


def _big_catalogue(path: Path) -> Path:
    rows = ["id,title,brand,category,price,rating,stock,description"]
    for i in range(PRODUCTS):
        category = CATEGORIES[i % len(CATEGORIES)]
        rows.append(f"Z-{i:03d},Item {i} for the {category},Brand{i % 7},{category},{5 + i * 0.75:.2f},4.0,{i % 9},"
                    f"A {category} item number {i}: sturdy and plain and made to last {i % 11 + 1} years.")
    path.write_text("\n".join(rows) + "\n")
    return path


def _ingest_killed_half_way(command: list[str], env: dict[str, str]) -> None:
    """Run the CLI, SIGKILL it as soon as its progress bar shows a written batch, before the last."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = b""
    try:
        while process.poll() is None:
            seen += os.read(process.stderr.fileno(), 4096)
            done = [(int(n), int(total)) for n, total in re.findall(rb"embedding:[^\r\n]*?(\d+)/(\d+)", seen)]
            if any(0 < n < total for n, total in done):
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, f"the ingestion ended before it was killed:\n{seen[-2000:]!r}"


LEFT_BEHIND = """import sys
from pathlib import Path
from llmft.store.chroma import ChromaCollection
from llmft.settings import StoreSettings
kept = ChromaCollection(StoreSettings(path=Path(sys.argv[1])))
print(kept.count(), kept.version() or "-")
"""


def _ids(kb: KnowledgeBase) -> list[str]:
    return sorted(kb.collection.index())


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_an_ingestion_killed_half_way_then_run_again_equals_one_run(mode: str, server: ChromaServer,
                                                                    embedder: Embedder, tmp_path: Path,
                                                                    subprocess_env: dict[str, str]) -> None:
    catalogue = _big_catalogue(tmp_path / "products.csv")
    (tmp_path / "delivery.md").write_text(SHIPPING_MD)
    where = (["--store", str(tmp_path / "store")] if mode == "embedded" else
             ["--host", server.host, "--port", str(server.port), "--collection", "killed"])
    command = [sys.executable, "-m", "llmft.store", "ingest", str(catalogue), str(tmp_path / "delivery.md"), *where]
    _ingest_killed_half_way(command, subprocess_env)

    settings = (StoreSettings(path=tmp_path / "store") if mode == "embedded" else
                StoreSettings(host=server.host, port=server.port, collection="killed"))
    if mode == "embedded":  # read in a child: an embedded store is one process's at a time, and chromadb keeps
        # a store opened here in memory for the rest of the session (it would not see what the next run writes)
        left = subprocess.run([sys.executable, "-c", LEFT_BEHIND, str(settings.path)], env=subprocess_env,
                              capture_output=True, text=True, timeout=120)
        assert left.returncode == 0, left.stderr[-2000:]
        count, version = left.stdout.split()
    else:
        kept = ChromaCollection(settings)
        count, version = str(kept.count()), kept.version()
    assert 0 < int(count) < PRODUCTS and version.startswith(INGESTING), (count, version)

    again = subprocess.run([*command, "--no-progress"], env=subprocess_env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = KnowledgeBase(settings, embedder)
    reference = KnowledgeBase(StoreSettings(path=tmp_path / "reference"), embedder)
    reference.ingest(catalogue, [tmp_path / "delivery.md"], progress=False)  # one uninterrupted run
    assert resumed.count() == reference.count() == PRODUCTS + 2  # products and the two delivery sections
    assert _ids(resumed) == _ids(reference)
    assert not resumed.collection.version().startswith(INGESTING)  # searching processes reload the finished set
    assert resumed.search("Item 120 for the kitchen", k=1).hits[0].metadata["product_id"] == "Z-120"
