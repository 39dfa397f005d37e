"""The one loader of seq2seq models and LoRA adapters: source, policy, config, dtype, device and errors.

`locate` does everything that comes before weights: the name checked (`ModelPolicy` for the apps, else
`normalise_source`), the folder found (`resolve_source`: a local folder or a Hub snapshot), and the config
files checked there, before any weights are downloaded: an encoder-decoder model, or a LoRA adapter whose
base is the one asked for (`same_model`) and allowed. `want="model"`/`"adapter"` refuses the other kind,
with the caller's `hint` of what to do instead.

`load_model` loads what `locate` found: a seq2seq model (in bf16 on a GPU that has it, else fp32; never fp16,
in which T5 overflows) or an adapter on its base (`attach_adapter`), with its tokenizer, kept once per
process in `MODEL_CACHE` unless `use_cache=False`. Training, merge, evaluation, the apps and the
Summarizer's shared base all load through it; the Summarizer attaches further adapters with `attach_adapter`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from llmft.errors import AdapterMismatchError, ConfigError, ModelLoadError
from llmft.model_cache import ModelCache
from llmft.sources import ADAPTER_CONFIG, ModelPolicy, normalise_source, resolve_source, same_model, shown

logger = logging.getLogger(__name__)

ModelKind = Literal["model", "adapter"]

ASKED_BASE = "the base model asked for"  # how a mismatch names the caller's base; the Summarizer says its own
_LOAD_ERRORS = (OSError, ValueError, KeyError)


@dataclass
class LoadedModel:
    """A ready model and tokenizer, and where they came from."""

    model: Any
    tokenizer: Any
    source: str
    kind: ModelKind  # "model": a base or fully fine-tuned checkpoint
    base_model: str | None
    device: str
    revision: str | None = None
    folder: Path | None = None  # the local folder (or Hub snapshot) it was read from


@dataclass(frozen=True)
class Located:
    """A checked source, before any weights are read: its name, folder and (for an adapter) config and base."""

    name: str
    folder: Path
    revision: str | None
    adapter_config: dict[str, Any] | None
    base: str | None  # an adapter's base model: the caller's, or the one it was trained on

    @property
    def kind(self) -> ModelKind:
        return "model" if self.adapter_config is None else "adapter"

    @property
    def trained_on(self) -> str | None:
        return (self.adapter_config or {}).get("base_model_name_or_path") or None


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


def _could_not_load(name: str, err: Exception) -> ModelLoadError:
    return ModelLoadError(f"Could not load model '{shown(name)}': {str(err).splitlines()[0][:300]}")


def check_seq2seq_config(folder: Path, name: str) -> Any:
    """The transformers config in `folder`, or a `ModelLoadError` if there is none or it is not seq2seq."""
    from transformers import AutoConfig

    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"Model '{shown(name)}' has no config.json: it is not a transformers model folder.")
    try:
        config = AutoConfig.from_pretrained(folder)
    except _LOAD_ERRORS as err:
        raise _could_not_load(name, err) from err
    if not getattr(config, "is_encoder_decoder", False):
        raise ModelLoadError(
            f"Model '{shown(name)}' is a {config.model_type} model, not an encoder-decoder (seq2seq) model "
            "like FLAN-T5."
        )
    return config


def _load_seq2seq(folder: Path, name: str, dtype: Any, config_overrides: dict[str, Any]) -> Any:
    from transformers import AutoModelForSeq2SeqLM

    config = check_seq2seq_config(folder, name)
    for key, value in config_overrides.items():
        setattr(config, key, value)
    try:
        return AutoModelForSeq2SeqLM.from_pretrained(folder, config=config, dtype=dtype)
    except _LOAD_ERRORS as err:
        raise _could_not_load(name, err) from err


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
    names = ", ".join(shown(name) for _, name in candidates)
    raise ModelLoadError(f"No usable tokenizer in {names}" + (f" ({'; '.join(errors)})" if errors else "."))


def _check_kind(name: str, kind: ModelKind, trained_on: str | None, want: ModelKind | None, hint: str) -> None:
    """Refuse an adapter where a full model is wanted, or the other way round, saying what to do instead."""
    if want is None or want == kind:
        return
    if kind == "adapter":
        message = f"'{shown(name)}' is a LoRA adapter (on '{trained_on or 'an unnamed base'}'), not a full model."
    else:
        message = f"'{shown(name)}' is a full model, not a LoRA adapter (it has no {ADAPTER_CONFIG})."
    raise ConfigError(f"{message} {hint}".strip())


def _adapter_base(
    name: str, trained_on: str | None, base_model: str | None, policy: ModelPolicy | None, base_role: str
) -> str:
    """The base model an adapter loads on: the caller's if it is the one the adapter was trained on."""
    if base_model and trained_on and not same_model(base_model, trained_on):
        raise AdapterMismatchError(
            f"Adapter '{shown(name)}' was trained on base model '{shown(trained_on)}', but {base_role} is "
            f"'{shown(base_model)}'. Use '{shown(trained_on)}' as the base, or pick an adapter trained on "
            f"'{shown(base_model)}'."
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


def locate(
    source: str,
    revision: str | None = None,
    *,
    base_model: str | None = None,
    policy: ModelPolicy | None = None,
    want: ModelKind | None = None,
    hint: str = "",
    base_role: str = ASKED_BASE,
) -> Located:
    """Check `source` and find its folder; the config checks run before any weights are downloaded.

    `base_model`, for an adapter, must be the model it was trained on (`base_role` names it in the refusal).
    `policy` limits what may be loaded (the apps' allowlist), the adapter's base included; None allows anything.
    """
    name = policy.check(source) if policy is not None else normalise_source(source)
    found: dict[str, Any] = {}

    def check(folder: Path) -> None:  # on the config files, before any weights are downloaded
        config = found["config"] = read_adapter_config(folder)
        trained_on = (config or {}).get("base_model_name_or_path") or None
        _check_kind(name, "model" if config is None else "adapter", trained_on, want, hint)
        if config is None:
            check_seq2seq_config(folder, name)
        else:
            found["base"] = _adapter_base(name, trained_on, base_model, policy, base_role)

    folder = resolve_source(name, revision, check=check)
    return Located(name, folder, revision, found["config"], found.get("base"))


def attach_adapter(model: Any, located: Located, base_name: str, adapter_name: str = "default") -> Any:
    """The located adapter on `model` (a PeftModel gets one more adapter); one that does not fit is refused."""
    from peft import PeftModel

    try:
        if isinstance(model, PeftModel):
            model.load_adapter(str(located.folder), adapter_name=adapter_name)
            return model
        return PeftModel.from_pretrained(model, str(located.folder), adapter_name=adapter_name, is_trainable=False)
    except (RuntimeError, *_LOAD_ERRORS) as err:
        # Shape or module-name errors: the adapter does not fit this base, whatever its config says.
        raise AdapterMismatchError(
            f"Adapter '{shown(located.name)}' does not fit base model '{shown(base_name)}' (it says it was trained "
            f"on '{located.trained_on or 'an unnamed base'}'): {str(err).splitlines()[0][:200]}"
        ) from err


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
    *,
    want: ModelKind | None = None,
    hint: str = "",
    config_overrides: dict[str, Any] | None = None,
) -> LoadedModel:
    """Load a base/full checkpoint or a LoRA adapter (on its base), once per process unless `use_cache=False`.

    `base_model`, `policy`, `want` and `hint` are `locate`'s; `device` None picks CUDA if there is one
    (`pick_device` chooses the dtype); `config_overrides` are set on the model's config before its weights
    load (training's dropout). The model is returned in eval mode.
    """
    name = policy.check(source) if policy is not None else normalise_source(source)
    base_name = normalise_source(base_model) if base_model and base_model.strip() else None
    device, dtype = pick_device(device)
    overrides = dict(config_overrides or {})

    def load() -> LoadedModel:
        located = locate(name, revision, base_model=base_name, policy=policy, want=want, hint=hint)
        return _load(located, device, dtype, overrides)

    if not use_cache:
        return load()
    key = (name, revision, base_name, device, str(dtype), tuple(sorted(overrides.items())))
    loaded = (cache or MODEL_CACHE).get_or_load(key, load)
    _check_kind(name, loaded.kind, loaded.base_model, want, hint)  # the cached model was loaded for another caller
    return loaded


def _load(located: Located, device: str, dtype: Any, overrides: dict[str, Any]) -> LoadedModel:
    name, folder = located.name, located.folder
    if located.base is None:
        model = _load_seq2seq(folder, name, dtype, overrides)
        tokenizer = _load_tokenizer((folder, name))
    else:
        base_name = located.base
        base_folder = resolve_source(base_name, check=lambda f: check_seq2seq_config(f, base_name))
        model = attach_adapter(_load_seq2seq(base_folder, base_name, dtype, overrides), located, base_name)
        tokenizer = _load_tokenizer((folder, name), (base_folder, base_name))
    model.to(device).eval()
    return LoadedModel(model, tokenizer, name, located.kind, located.base, device, located.revision, folder)
