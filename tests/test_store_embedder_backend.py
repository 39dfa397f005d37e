"""The store's embedder: the int8 ONNX export (made once, cached beside the model), the torch fallback, and
chunks longer than the embedder reads split so that no text goes unembedded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from llmft.embedding_model import default_embedding_model
from llmft.errors import StoreError
from llmft.store import KnowledgeBase, StoreSettings
from llmft.store import embeddings as emb
from llmft.store.documents import chunk_document
from llmft.store.embeddings import Embedder

TEXTS = [
    "cheapest phone under $300",
    "The TrailMaster X4 tent sleeps four and packs down to 5 kg; its rainfly is rated 3000 mm.",
    "Returns are accepted within 30 days of delivery with the original receipt.",
    "Ein wasserdichter Rucksack mit 40 Litern.",
    "#Person1#: Hi, how much is the blue jacket? #Person2#: It is $79, and there is 10% off today.",
]
LONG_SECTION = " ".join(f"Step {n}: unfold panel {n} of the shelter, clip the pole {n} into grommet {n}, and check "
                        f"that the fly sits evenly before moving on." for n in range(1, 31))


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return np.array(Embedder(backend="torch", dtype="float32").embed_documents(TEXTS))


def test_onnx_int8_runs_by_default_and_matches_torch(embedder, torch_vectors):
    assert embedder.backend == "onnx-int8"
    vectors = np.array(embedder.embed_documents(TEXTS))
    assert vectors.shape == torch_vectors.shape == (len(TEXTS), 384) and embedder.dimension == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() > 0.97, cosine  # int8 weights: close to the fp32 vectors, not equal
    # The right neighbour stays the right one: each text is nearest to its own fp32 vector.
    assert list((vectors @ torch_vectors.T).argmax(axis=1)) == list(range(len(TEXTS)))
    # Activations are quantized per batch at run time: a text alone gets nearly, not exactly, its batch vector.
    assert np.dot(embedder.embed_query(TEXTS[0]), vectors[0]) > 0.98


def test_the_export_is_made_once_and_cached_beside_the_model(tmp_path, embedder):
    folder = Path(shutil.copytree(default_embedding_model(), tmp_path / "model",
                                  ignore=shutil.ignore_patterns("onnx")))
    path = emb.export_onnx_int8(folder)
    assert path == folder / "onnx" / emb.ONNX_FILE and (folder / "onnx" / emb.ONNX_STAMP).is_file()
    made = path.stat().st_mtime_ns
    assert emb.export_onnx_int8(folder) == path and path.stat().st_mtime_ns == made  # reused, not redone
    assert not [p for p in (folder / "onnx").iterdir() if p.name not in (emb.ONNX_FILE, emb.ONNX_STAMP)]


def test_a_read_only_model_folder_caches_the_export_in_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    where = emb.onnx_cache_dir(Path("/opt/models/minilm"))
    assert where.parent == tmp_path / "llmft" / "onnx"
    assert emb.onnx_cache_dir(Path("/opt/models/other")) != where


def test_torch_is_the_fallback_and_can_be_chosen(monkeypatch, torch_vectors):
    monkeypatch.setattr(emb, "load_onnx_encoder", lambda name: (None, "onnxruntime is not installed"))
    fallback = Embedder(dtype="float32")
    assert fallback.backend == "torch float32" and fallback.fallback_reason == "onnxruntime is not installed"
    assert np.allclose(fallback.embed_documents(TEXTS), torch_vectors, atol=1e-5)
    with pytest.raises(StoreError, match="onnx-int8 cannot run .*onnxruntime is not installed"):
        Embedder(backend="onnx-int8").load()
    monkeypatch.setenv("LLMFT_EMBEDDING_BACKEND", "torch")
    assert Embedder(dtype="float32").backend == "torch float32"
    monkeypatch.setenv("LLMFT_EMBEDDING_BACKEND", "tensorrt")
    with pytest.raises(StoreError, match="LLMFT_EMBEDDING_BACKEND='tensorrt': use one of auto, onnx-int8, torch"):
        Embedder()


def test_a_model_onnx_does_not_cover_stays_on_torch(tmp_path):
    folder = Path(shutil.copytree(default_embedding_model(), tmp_path / "cls", ignore=shutil.ignore_patterns("onnx")))
    pooling = folder / "1_Pooling" / "config.json"
    pooling.write_text(pooling.read_text().replace('"pooling_mode_cls_token": false', '"pooling_mode_cls_token": true')
                       .replace('"pooling_mode_mean_tokens": true', '"pooling_mode_mean_tokens": false'))
    encoder, why = emb.load_onnx_encoder(str(folder))
    assert encoder is None and "not mean pooling" in why
    assert not (folder / "onnx").exists()


def _long_manual(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shelter.md"
    path.write_text(f"# Shelter manual\n\n## Setup\n\n{LONG_SECTION}\n\n## Care\n\nDry the fly before packing it.\n")
    return path


def test_a_chunk_over_the_token_limit_is_split_so_every_word_is_embedded(tmp_path, embedder):
    path = _long_manual(tmp_path)
    whole = [c for c in chunk_document(path, max_chars=5000) if "Setup" in c.heading]
    assert len(whole) == 1 and len(embedder.tokenizer(whole[0].search_text())["input_ids"]) > 600
    parts = [c for c in chunk_document(path, max_chars=5000, embedder=embedder) if "Setup" in c.heading]
    assert [p.part for p in parts] == list(range(1, len(parts) + 1)) and len(parts) >= 3
    assert {p.index for p in parts} == {whole[0].index} and all(p.metadata()["part"] for p in parts)
    for part in parts:
        assert len(embedder.tokenizer(part.search_text())["input_ids"]) <= embedder.max_tokens == 256
        assert part.search_text().startswith("Shelter manual")  # every part keeps its document and heading
        assert part.text.endswith("moving on.")  # cut between sentences
    assert " ".join(p.text for p in parts).split() == whole[0].text.split()  # nothing lost, nothing doubled


def test_the_ingestion_summary_names_the_backend_and_counts_the_splits(tmp_path, embedder):
    kb = KnowledgeBase(StoreSettings(path=tmp_path / "store", chunk_chars=5000), embedder)  # one long chunk
    summary = kb.ingest([], [_long_manual(tmp_path / "docs")], progress=False)
    assert summary.chunks_split == 1 and summary.embedder == "onnx-int8"
    text = " | ".join(summary.lines())
    assert "embedded with onnx-int8" in text and "1 chunks over the embedder's token limit split" in text
    hits = kb.search("clip pole 28 into grommet 28", k=3, mode="vector").hits
    assert "grommet 28" in hits[0].text  # the end of the long section is searchable
