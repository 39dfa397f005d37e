"""Load FLAN-T5-style seq2seq models (base, fully fine-tuned, or a LoRA adapter), keep them, and generate in batches.

A model source is a Hub id (`google/flan-t5-base`, `you/flan-t5-dialogsum-lora`) or a local folder; names,
the apps' allowlist (`ModelPolicy`) and Hub downloads are `llmft.sources`' job, so transformers only ever
loads local folders. A folder with `adapter_config.json` is a LoRA adapter: its base model comes from that
file unless the caller names one, and a caller's base that differs from the adapter's is refused with both
names. Configs are checked (an encoder-decoder model; an adapter's base allowed) before weights are fetched.

Loaded models live in a `ModelCache` (one per process by default, `MODEL_CACHE`): the least recently used
model is dropped past `max_models`, and a model being loaded holds a lock for its own key only, so requests
for models already loaded never wait behind a download.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmft.errors import AdapterMismatchError, ModelLoadError
from llmft.model_cache import ModelCache
from llmft.sources import ADAPTER_CONFIG, ModelPolicy, normalise_source, resolve_source, shown

logger = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "google/flan-t5-base"  # the apps let LLMFT_BASE_MODEL override it (llmft.apps.settings)
__all__ = [
    "DEFAULT_BASE_MODEL",
    "MODEL_CACHE",
    "GenerationSettings",
    "LoadedModel",
    "ModelCache",
    "ModelPolicy",
    "clear_model_cache",
    "generate",
    "load_model",
    "pick_device",
    "read_adapter_config",
    "resolve_source",
]


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


def pick_device(device: str | None = None, bf16_supported: bool | None = None) -> tuple[str, Any]:
    """CUDA in bf16 where the GPU supports it, else fp32 (CPU or GPU).

    Never fp16: T5 overflows in fp16 (its activations exceed 65504) and generates garbage or NaNs.
    `bf16_supported` defaults to asking torch (a parameter so tests can state it without a GPU).
    """
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not device.startswith("cuda"):
        return device, torch.float32
    if bf16_supported is None:
        bf16_supported = torch.cuda.is_bf16_supported()
    return device, torch.bfloat16 if bf16_supported else torch.float32


def read_adapter_config(folder: Path) -> dict[str, Any] | None:
    config_file = folder / ADAPTER_CONFIG
    if not config_file.is_file():
        return None
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelLoadError(f"{config_file}: not valid JSON ({err.msg}).") from err
    if not isinstance(config, dict):
        raise ModelLoadError(f"{config_file}: expected a JSON object.")
    return config


MODEL_CACHE: ModelCache[LoadedModel] = ModelCache()  # the process's models; apps set its max_models


def clear_model_cache() -> None:
    MODEL_CACHE.clear()


def load_model(
    source: str,
    revision: str | None = None,
    base_model: str | None = None,
    device: str | None = None,
    use_cache: bool = True,
    policy: ModelPolicy | None = None,
    cache: ModelCache[LoadedModel] | None = None,
) -> LoadedModel:
    """Load a base/full checkpoint or a LoRA adapter (on its base), once per process.

    `base_model`, when given for an adapter, must be the model the adapter was trained on. `policy`
    limits what may be loaded (the apps' allowlist); None loads anything (scripts, training).
    """
    name = policy.check(source) if policy is not None else normalise_source(source)
    base_name = normalise_source(base_model) if base_model and base_model.strip() else None
    device, dtype = pick_device(device)
    if not use_cache:
        return _load_uncached(name, revision, base_name, device, dtype, policy)
    key = (name, revision, base_name, device, str(dtype))
    return (cache or MODEL_CACHE).get_or_load(
        key, lambda: _load_uncached(name, revision, base_name, device, dtype, policy)
    )


def _check_seq2seq_config(folder: Path, name: str) -> None:
    from transformers import AutoConfig

    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"Model '{shown(name)}' has no config.json: it is not a transformers model folder.")
    try:
        config = AutoConfig.from_pretrained(folder)
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"Could not load model '{shown(name)}': {err}") from err
    if not getattr(config, "is_encoder_decoder", False):
        raise ModelLoadError(
            f"Model '{shown(name)}' is a {config.model_type} model, not an encoder-decoder (seq2seq) model "
            "like FLAN-T5."
        )


def _load_seq2seq(folder: Path, name: str, dtype: Any) -> Any:
    from transformers import AutoModelForSeq2SeqLM

    _check_seq2seq_config(folder, name)
    try:
        return AutoModelForSeq2SeqLM.from_pretrained(folder, dtype=dtype)
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"Could not load model '{shown(name)}': {err}") from err


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


def _same_model(a: str, b: str) -> bool:
    try:
        return normalise_source(a) == normalise_source(b)
    except ModelLoadError:
        return a.strip().rstrip("/") == b.strip().rstrip("/")


def _adapter_base(name: str, config: dict[str, Any], base_model: str | None, policy: ModelPolicy | None) -> str:
    """The base model an adapter loads on: the caller's if it is the one the adapter was trained on."""
    trained_on = config.get("base_model_name_or_path")
    if base_model and trained_on and not _same_model(base_model, trained_on):
        raise AdapterMismatchError(
            f"Adapter '{shown(name)}' was trained on base model '{trained_on}', not '{base_model}'. "
            f"Load it on '{trained_on}', or pick an adapter trained on '{base_model}'."
        )
    base_name = base_model or trained_on
    if not base_name or not isinstance(base_name, str):
        raise ModelLoadError(f"Adapter '{shown(name)}' does not name its base model; give the base model explicitly.")
    if policy is None:
        return base_name
    try:
        return policy.check(base_name)
    except ModelLoadError as err:
        raise ModelLoadError(f"Adapter '{shown(name)}' needs base model '{shown(base_name)}'. {err}") from err


def _load_uncached(
    name: str, revision: str | None, base_model: str | None, device: str, dtype: Any, policy: ModelPolicy | None
) -> LoadedModel:
    found: dict[str, Any] = {}

    def check(folder: Path) -> None:  # runs on the config files, before any weights are downloaded
        adapter_config = read_adapter_config(folder)
        if adapter_config is None:
            _check_seq2seq_config(folder, name)
        else:
            found["trained_on"] = adapter_config.get("base_model_name_or_path")
            found["base"] = _adapter_base(name, adapter_config, base_model, policy)

    folder = resolve_source(name, revision, check=check)
    if "base" not in found:
        model = _load_seq2seq(folder, name, dtype)
        tokenizer = _load_tokenizer((folder, name))
        model.to(device).eval()
        return LoadedModel(model, tokenizer, name, "model", None, device, revision)

    base_name = found["base"]
    base_folder = resolve_source(base_name, check=lambda f: _check_seq2seq_config(f, base_name))
    base = _load_seq2seq(base_folder, base_name, dtype)

    from peft import PeftModel

    try:
        model = PeftModel.from_pretrained(base, str(folder), is_trainable=False)
    except (RuntimeError, ValueError, KeyError, OSError) as err:
        # Shape or module-name errors: the adapter does not fit this base, whatever its config says.
        raise AdapterMismatchError(
            f"Adapter '{shown(name)}' does not fit base model '{base_name}' "
            f"(it says it was trained on '{found.get('trained_on', base_name)}'): {str(err).splitlines()[0]}"
        ) from err
    tokenizer = _load_tokenizer((folder, name), (base_folder, base_name))
    model.to(device).eval()
    return LoadedModel(model, tokenizer, name, "adapter", base_name, device, revision)


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
