"""Sentence-transformers embeddings for the store: loaded once per process, batched, normalised.

Two backends compute the same vectors (mean pooling, normalised); `Embedder.backend` names the one that runs:

- `onnx-int8` (the default on a CPU): the transformer exported once to ONNX, fused and quantized to int8 (the
  matrix products, per channel), run by ONNX Runtime; the export is made on first use and cached beside the model
  (`<model>/onnx/model_qint8.onnx`; `~/.cache/llmft/onnx/` if that folder is read-only), never downloaded.
  sentence-transformers' own `backend="onnx"` needs optimum-onnx, whose releases require transformers < 4.58
  (this project pins 5.x), so the export uses the tools optimum runs underneath: `torch.onnx.export`, ONNX
  Runtime's transformer optimizer and `onnxruntime.quantization`. Activations are quantized per batch at run
  time: a text's vector moves slightly with its batch mates (cosine >= 0.99 alone vs in a batch of 64).
- `torch`: the SentenceTransformer itself (bfloat16 where the CPU computes it natively, see `resolve_dtype`), the
  fallback whenever ONNX cannot run (no onnxruntime, a Hub id, pooling other than mean, a GPU, a failed export);
  `LLMFT_EMBEDDING_BACKEND=torch` chooses it.

`Embedder` is a LangChain `Embeddings`, so LangChain's Chroma and chains can use the object the store ingests
with. Chroma itself is always handed vectors, never asked to embed (its default function downloads a model).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any, get_args

from langchain_core.embeddings import Embeddings

from llmft.errors import StoreError
from llmft.settings.shop import EmbeddingBackend, StoreSettings

logger = logging.getLogger(__name__)

_MODELS: dict[tuple[str, str], Any] = {}
_ONNX: dict[str, Any] = {}
_TOKENIZERS: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()
_BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}
ONNX_FILE = "model_qint8.onnx"
ONNX_STAMP = "model_qint8.json"  # what the export was made from: re-exported when the weights change
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_RECIPE = "eager attention, ORT bert fusion, int8 MatMul per channel"  # a new recipe re-exports


def resolve_dtype(dtype: str) -> str:
    """`auto` -> bfloat16 where it is computed natively (measured on a 2-vCPU EPYC with avx512_bf16: 1.8x the
    chunks per second of float32, queries 30% faster, cosine 0.9997 to float32), else float32."""
    if dtype != "auto":
        return dtype
    import torch

    if torch.cuda.is_available():
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:  # not Linux: the safe choice
        return "float32"
    return "bfloat16" if _BF16_CPU_FLAGS & set(flags) else "float32"


def load_sentence_transformer(name_or_path: str, dtype: str = "float32") -> Any:
    """The process-wide SentenceTransformer for (model, dtype), on CPU or the first GPU."""
    dtype = resolve_dtype(dtype)
    key = (name_or_path, dtype)
    with _LOAD_LOCK:
        if key not in _MODELS:
            import torch
            from sentence_transformers import SentenceTransformer

            device = "cuda" if torch.cuda.is_available() else "cpu"
            try:
                model = SentenceTransformer(name_or_path, device=device)
            except Exception as err:  # OSError offline, ValueError for a folder that is not a model, ...
                raise StoreError(f"embedding model {name_or_path!r} cannot be loaded ({type(err).__name__}: {err}); "
                                 "set LLMFT_EMBEDDING_MODEL to a local sentence-transformers folder") from err
            if dtype == "bfloat16":
                model = model.to(torch.bfloat16)
            model.eval()
            logger.info("embedding model %s (%s) on %s", name_or_path, dtype, device)
            _MODELS[key] = model
        return _MODELS[key]


def _mean_pooling_model(folder: Path) -> tuple[int, str]:
    """(max tokens, why not) for a sentence-transformers folder: ONNX here covers Transformer -> mean Pooling
    (-> Normalize); anything else keeps the torch backend. `why not` is empty when ONNX can run it."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
            return 0, f"modules {kinds} are not Transformer, Pooling (, Normalize)"
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes != ["pooling_mode_mean_tokens"]:
            return 0, f"pooling {modes} is not mean pooling"
        limit = json.loads((folder / "sentence_bert_config.json").read_text()).get("max_seq_length")
    except (OSError, ValueError, KeyError, IndexError) as err:
        return 0, f"not a sentence-transformers folder ({type(err).__name__}: {err})"
    return int(limit or 512), ""


def onnx_cache_dir(folder: Path) -> Path:
    """Where the int8 export of the model in `folder` lives: beside it, or in the user's cache if read-only."""
    if os.access(folder, os.W_OK):
        return folder / "onnx"
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llmft" / "onnx" / digest


def _weights_stamp(folder: Path) -> dict[str, Any]:
    import onnxruntime
    import torch

    weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))
    return {"weights": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in weights], "recipe": _RECIPE,
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__}


def export_onnx_int8(folder: str | Path) -> Path:
    """The int8 ONNX file for the sentence-transformers model in `folder`, exported and quantized on first use.

    The transformer (fp32, eager attention) is exported with `torch.onnx.export` into a scratch folder, its
    attention, embedding, layer-norm and GELU subgraphs fused by ONNX Runtime's transformer optimizer (the
    fusions optimum's ORTOptimizer applies; SDPA's exported graph is not recognised, eager attention's is), then
    quantized with ONNX Runtime's dynamic quantization: int8 weights per output channel, activations quantized
    per batch at run time, only the MatMul nodes (quantizing the embedding tables too cost cosine 0.95 to the
    fp32 vectors on the Contoso manuals; MatMul alone keeps 0.995). Written to a temporary name and renamed,
    so a process that reads it never sees half a file, and two that export at once each write a whole one.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    folder = Path(folder)
    target_dir = onnx_cache_dir(folder)
    target, stamp_file = target_dir / ONNX_FILE, target_dir / ONNX_STAMP
    stamp = _weights_stamp(folder)
    try:
        if target.is_file() and json.loads(stamp_file.read_text()) == stamp:
            return target
    except (OSError, ValueError):
        pass
    target_dir.mkdir(parents=True, exist_ok=True)
    logger.info("exporting %s to ONNX int8 in %s (once)", folder, target_dir)
    model = AutoModel.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _ONNX_INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_ONNX_INPUTS, "last_hidden_state")}
    with tempfile.TemporaryDirectory(dir=target_dir) as scratch:
        fp32 = Path(scratch) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(LastHiddenState(model), example, str(fp32), dynamo=False, opset_version=17,
                              input_names=list(_ONNX_INPUTS), output_names=["last_hidden_state"],
                              dynamic_axes=axes)
        fused = _fuse(fp32, model.config)
        quantized = Path(scratch) / ONNX_FILE
        quantize_dynamic(str(fused), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], extra_options={"DefaultTensorType": 1})  # 1: float
        os.replace(quantized, target)
        (Path(scratch) / ONNX_STAMP).write_text(json.dumps(stamp))
        os.replace(Path(scratch) / ONNX_STAMP, stamp_file)
    return target


def _fuse(path: Path, config: Any) -> Path:
    """ONNX Runtime's BERT fusions of the graph at `path` (a new file beside it); `path` itself if they fail."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(str(path), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size)
        fused = path.with_name("fused.onnx")
        optimized.save_model_to_file(str(fused))
        logger.info("ONNX fusions: %s", {k: v for k, v in optimized.get_fused_operator_statistics().items() if v})
        return fused
    except Exception as err:  # an architecture the optimizer does not know: unfused still runs
        logger.warning("ONNX fusions skipped (%s: %s)", type(err).__name__, err)
        return path


class OnnxEncoder:
    """`encode` of a Transformer + mean Pooling + Normalize model, with an int8 ONNX transformer."""

    def __init__(self, folder: Path, max_tokens: int):
        import onnxruntime

        self.path = export_onnx_int8(folder)
        self.tokenizer = load_tokenizer(str(folder))
        self.max_tokens = max_tokens
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int) -> Any:
        import numpy as np

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths per batch pad less
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start:start + batch_size]
            feed = self.tokenizer([texts[i] for i in part], padding=True, truncation=True,
                                  max_length=self.max_tokens, return_tensors="np")
            feed = {name: np.asarray(feed[name], dtype=np.int64) for name in self.inputs}
            hidden = self.session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            vectors[part] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return vectors


def load_tokenizer(name_or_path: str) -> Any:
    """The model's own (fast) tokenizer, loaded once per process; cheap next to the model."""
    with _LOAD_LOCK:
        if name_or_path not in _TOKENIZERS:
            from transformers import AutoTokenizer

            _TOKENIZERS[name_or_path] = AutoTokenizer.from_pretrained(name_or_path)
        return _TOKENIZERS[name_or_path]


def load_onnx_encoder(name_or_path: str) -> tuple[OnnxEncoder | None, str]:
    """(the process-wide ONNX encoder, "") or (None, why ONNX cannot run this model here)."""
    with _LOAD_LOCK:
        if name_or_path in _ONNX:
            return _ONNX[name_or_path]
    folder = Path(name_or_path)
    result: tuple[OnnxEncoder | None, str]
    try:
        import onnxruntime  # noqa: F401
        import torch
    except ImportError as err:
        result = None, f"{err.name} is not installed"
    else:
        limit, why = _mean_pooling_model(folder) if folder.is_dir() else (0, "not a local folder")
        if torch.cuda.is_available():
            why = "a GPU is present (torch runs there)"
        result = None, why
        if not why:
            try:
                result = OnnxEncoder(folder, limit), ""
            except Exception as err:  # an export or session that fails: the torch path still works
                logger.warning("ONNX export of %s failed, embedding with torch: %s: %s", folder,
                               type(err).__name__, err)
                result = None, f"the ONNX export failed ({type(err).__name__}: {err})"
    with _LOAD_LOCK:
        return _ONNX.setdefault(name_or_path, result)


class Embedder(Embeddings):
    """Normalised embeddings (cosine = dot product) from one sentence-transformers model.

    `backend`: `auto` (ONNX int8 where it can run, else torch; the default, or `LLMFT_EMBEDDING_BACKEND`),
    `onnx-int8` (an error if it cannot run) or `torch`. `dtype` applies to the torch backend.
    """

    def __init__(self, model: str | None = None, dtype: str = "auto", batch_size: int = 64,
                 backend: str | None = None):
        from llmft.embedding_model import default_embedding_model

        self.model_name = model or default_embedding_model()
        self.dtype = dtype
        self.batch_size = batch_size
        self.requested_backend = backend or StoreSettings.value_of("embedding_backend")
        if self.requested_backend not in (backends := get_args(EmbeddingBackend)):
            raise StoreError(f"embedding backend {self.requested_backend!r} is not one of {', '.join(backends)} "
                             "(LLMFT_EMBEDDING_BACKEND)")
        self._onnx: OnnxEncoder | None = None
        self._resolved: str | None = None
        self.fallback_reason = ""
        self._lock = threading.Lock()  # encode is not documented as thread-safe; requests share one model

    def load(self) -> str:
        """Load (and on first use export) the model; returns `backend`."""
        if self._resolved is None:
            if self.requested_backend != "torch":
                self._onnx, self.fallback_reason = load_onnx_encoder(self.model_name)
                if self._onnx is None and self.requested_backend == "onnx-int8":
                    raise StoreError(f"embedding backend onnx-int8 cannot run {self.model_name!r}: "
                                     f"{self.fallback_reason}")
            if self._onnx is None:
                self.model  # noqa: B018 - loads it
                if self.fallback_reason:
                    logger.info("embedding with torch: ONNX cannot run here (%s)", self.fallback_reason)
            self._resolved = "onnx-int8" if self._onnx is not None else f"torch {resolve_dtype(self.dtype)}"
        return self._resolved

    @property
    def backend(self) -> str:
        """What computes the vectors: `onnx-int8` or `torch bfloat16` / `torch float32` (loads the model)."""
        return self.load()

    @property
    def model(self) -> Any:
        """The torch SentenceTransformer (loaded on demand, also when ONNX runs the embedding)."""
        return load_sentence_transformer(self.model_name, self.dtype)

    @property
    def tokenizer(self) -> Any:
        return load_tokenizer(self.model_name) if Path(self.model_name).is_dir() else self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text, special tokens included (MiniLM: 256); the rest is cut."""
        if Path(self.model_name).is_dir():
            limit, _ = _mean_pooling_model(Path(self.model_name))
            if limit:
                return limit
        return int(self.model.max_seq_length)

    def _encode(self, texts: list[str], progress: bool = False) -> list[list[float]]:
        if not texts:
            return []
        self.load()
        with self._lock:
            if self._onnx is not None:
                vectors = self._onnx.encode(texts, self.batch_size)
            else:
                vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=progress)
        return vectors.astype("float32").tolist()

    def embed_documents(self, texts: list[str], progress: bool = False) -> list[list[float]]:
        return self._encode(list(texts), progress=progress)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]

    @property
    def dimension(self) -> int:
        if self.load() == "onnx-int8" and self._onnx is not None:
            return self._onnx.dimension
        return int(self.model.get_sentence_embedding_dimension())
