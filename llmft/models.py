"""Load FLAN-T5-style seq2seq models (base, fully fine-tuned, or a LoRA adapter) and generate in batches.

A model source is a Hub id (`google/flan-t5-base`, `you/flan-t5-dialogsum-lora`) or a local folder.
Hub sources are first downloaded with `huggingface_hub.snapshot_download`, which reads `HF_ENDPOINT`,
`HF_TOKEN` and `HF_HUB_OFFLINE` at call time; transformers then only ever loads local folders.
A folder with `adapter_config.json` is a LoRA adapter: its base model comes from that file unless the
caller names one, and a caller's base that differs from the adapter's is refused with both names.
Loaded models are cached once per process (one lock), since the apps share them across requests.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmft.errors import AdapterMismatchError, ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "google/flan-t5-base"  # the apps let LLMFT_BASE_MODEL override it (llmft.apps.settings)
ADAPTER_CONFIG = "adapter_config.json"
# Only what a PyTorch seq2seq model and its tokenizer need: flan-t5 repos also carry TF/Flax/ONNX copies.
_IGNORE_PATTERNS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "onnx/*", "*.tflite", "rust_model*", "*.gguf"]


@dataclass
class GenerationSettings:
    """Decoding settings; greedy by default, as the course labs use."""

    max_new_tokens: int = 200
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams}
        if self.do_sample:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p)
        else:
            kwargs["do_sample"] = False
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoadedModel:
    """A ready model and tokenizer, and where they came from."""

    model: Any
    tokenizer: Any
    source: str
    kind: str  # "model" (a base or fully fine-tuned checkpoint) or "adapter"
    base_model: str | None
    device: str
    revision: str | None = None


def pick_device(device: str | None = None) -> tuple[str, Any]:
    """CUDA with bf16 where the GPU supports it, fp16 on older GPUs, else CPU fp32."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32
    return device, dtype


def _looks_like_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or os.sep in source and not _looks_like_hub_id(source)


def _looks_like_hub_id(source: str) -> bool:
    parts = source.split("/")
    return 1 <= len(parts) <= 2 and all(p and not p.startswith(".") for p in parts)


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as set now (huggingface_hub reads it once, at import)."""
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}


def resolve_source(source: str, revision: str | None = None) -> Path:
    """A local folder for `source`: itself if it is one, else a snapshot downloaded from the Hub."""
    source = source.strip()
    if not source:
        raise ModelLoadError("No model given: enter a Hub model id (like google/flan-t5-base) or a local folder.")
    local = Path(source).expanduser()
    if local.is_dir():
        return local
    if local.exists():
        raise ModelLoadError(f"'{source}' is a file; a model is a folder (config.json + weights) or a Hub id.")
    if _looks_like_path(source) or not _looks_like_hub_id(source):
        raise ModelLoadError(f"Model '{source}': no such local folder, and it is not a valid Hub model id.")

    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = os.environ.get("HF_ENDPOINT") or None
    where = f"on the Hub ({endpoint})" if endpoint else "on the Hub"
    offline = hub_offline()
    try:
        ignore = list(_IGNORE_PATTERNS)
        if not offline:
            files = HfApi(endpoint=endpoint).list_repo_files(source, revision=revision)
            if any(f.endswith(".safetensors") for f in files):
                ignore.append("*.bin")  # the same weights twice; safetensors loads faster and safer
        folder = snapshot_download(
            source, revision=revision, endpoint=endpoint, ignore_patterns=ignore, local_files_only=offline
        )
        return Path(folder)
    except RevisionNotFoundError as err:
        raise ModelLoadError(f"Model '{source}' has no revision '{revision}' {where}.") from err
    except GatedRepoError as err:
        raise ModelLoadError(f"Model '{source}' is gated {where}: accept its terms and set HF_TOKEN.") from err
    except RepositoryNotFoundError as err:
        raise ModelLoadError(
            f"Model '{source}' was not found {where} (or it is private and HF_TOKEN is not set), "
            "and it is not a local folder."
        ) from err
    except LocalEntryNotFoundError as err:
        raise ModelLoadError(
            f"Model '{source}' is not in the local cache and the Hub cannot be reached "
            "(offline, or HF_HUB_OFFLINE=1). Give a local folder, or connect and try again."
        ) from err
    except OSError as err:  # connection refused, DNS failure, disk errors
        raise ModelLoadError(f"Could not download model '{source}' {where}: {type(err).__name__}.") from err


def read_adapter_config(folder: Path) -> dict[str, Any] | None:
    config_file = folder / ADAPTER_CONFIG
    if not config_file.is_file():
        return None
    try:
        return json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelLoadError(f"{config_file}: not valid JSON ({err.msg}).") from err


def _same_model(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        path = Path(name).expanduser()
        return str(path.resolve()) if path.exists() else name.strip().rstrip("/")

    return norm(a) == norm(b)


_CACHE: dict[tuple[Any, ...], LoadedModel] = {}
_CACHE_LOCK = threading.Lock()


def load_model(
    source: str,
    revision: str | None = None,
    base_model: str | None = None,
    device: str | None = None,
    use_cache: bool = True,
) -> LoadedModel:
    """Load a base/full checkpoint or a LoRA adapter (on its base), once per process.

    `base_model`, when given for an adapter, must be the model the adapter was trained on.
    """
    device, dtype = pick_device(device)
    key = (source, revision, base_model, device, str(dtype))
    with _CACHE_LOCK:  # one lock: loading twice at once would double peak memory
        if use_cache and key in _CACHE:
            return _CACHE[key]
        loaded = _load_uncached(source, revision, base_model, device, dtype)
        if use_cache:
            _CACHE[key] = loaded
        return loaded


def clear_model_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _load_seq2seq(folder: Path, name: str, dtype: Any) -> Any:
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"Model '{name}' has no config.json: it is not a transformers model folder.")
    try:
        config = AutoConfig.from_pretrained(folder)
        if not getattr(config, "is_encoder_decoder", False):
            raise ModelLoadError(
                f"Model '{name}' is a {config.model_type} model, not an encoder-decoder (seq2seq) model like FLAN-T5."
            )
        return AutoModelForSeq2SeqLM.from_pretrained(folder, dtype=dtype)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"Could not load model '{name}': {err}") from err


def _load_tokenizer(*candidates: tuple[Path, str]) -> Any:
    from transformers import AutoTokenizer

    errors = []
    for folder, name in candidates:
        if not any((folder / f).is_file() for f in ("tokenizer.json", "spiece.model", "tokenizer_config.json")):
            continue
        try:
            return AutoTokenizer.from_pretrained(folder)
        except (OSError, ValueError) as err:
            errors.append(f"{name}: {err}")
    names = ", ".join(name for _, name in candidates)
    raise ModelLoadError(f"No usable tokenizer in {names}" + (f" ({'; '.join(errors)})" if errors else "."))


def _load_uncached(source: str, revision: str | None, base_model: str | None, device: str, dtype: Any) -> LoadedModel:
    folder = resolve_source(source, revision)
    adapter_config = read_adapter_config(folder)
    if adapter_config is None:
        model = _load_seq2seq(folder, source, dtype)
        tokenizer = _load_tokenizer((folder, source))
        model.to(device).eval()
        return LoadedModel(model, tokenizer, source, "model", None, device, revision)

    trained_on = adapter_config.get("base_model_name_or_path")
    if base_model and trained_on and not _same_model(base_model, trained_on):
        raise AdapterMismatchError(
            f"Adapter '{source}' was trained on base model '{trained_on}', not '{base_model}'. "
            f"Load it on '{trained_on}', or pick an adapter trained on '{base_model}'."
        )
    base_name = base_model or trained_on
    if not base_name:
        raise ModelLoadError(f"Adapter '{source}' does not name its base model; give the base model explicitly.")
    base_folder = resolve_source(base_name)
    base = _load_seq2seq(base_folder, base_name, dtype)

    from peft import PeftModel

    try:
        model = PeftModel.from_pretrained(base, str(folder), is_trainable=False)
    except (RuntimeError, ValueError, KeyError) as err:
        # Shape or module-name errors: the adapter does not fit this base, whatever its config says.
        raise AdapterMismatchError(
            f"Adapter '{source}' does not fit base model '{base_name}' "
            f"(it says it was trained on '{trained_on}'): {str(err).splitlines()[0]}"
        ) from err
    tokenizer = _load_tokenizer((folder, source), (base_folder, base_name))
    model.to(device).eval()
    return LoadedModel(model, tokenizer, source, "adapter", base_name, device, revision)


def generate(
    loaded: LoadedModel,
    prompts: Sequence[str],
    settings: GenerationSettings | None = None,
    batch_size: int = 8,
    max_input_tokens: int = 512,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Generate for each prompt, in batches of similar length (less padding); outputs in input order.

    `progress(done, total)` is called after each batch (tqdm in scripts, `gr.Progress` in apps).
    """
    import torch

    settings = settings or GenerationSettings()
    tokenizer, model = loaded.tokenizer, loaded.model
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    generator_seed = settings.seed
    for start in range(0, len(order), batch_size):
        batch_ids = order[start : start + batch_size]
        batch = tokenizer(
            [prompts[i] for i in batch_ids],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_input_tokens,
        ).to(loaded.device)
        if generator_seed is not None:
            torch.manual_seed(generator_seed + start)  # sampling is reproducible for a given seed
        with torch.inference_mode():
            generated = model.generate(**batch, **settings.generate_kwargs())
        for i, text in zip(batch_ids, tokenizer.batch_decode(generated, skip_special_tokens=True), strict=True):
            outputs[i] = text.strip()
        if progress is not None:
            progress(min(start + batch_size, len(order)), len(order))
    return outputs
