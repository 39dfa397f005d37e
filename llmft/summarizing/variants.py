"""The models a Summarizer compares: one base in memory, LoRA adapters switched on it, and a full checkpoint.

A *variant* is the base model (`base`), the fully fine-tuned checkpoint (`full`) or a LoRA adapter
(`lora-1`, `lora-2`, ...). The base and every adapter share ONE copy of the base weights: the first
adapter wraps the base in a `PeftModel` (`PeftModel.from_pretrained(base, ..., adapter_name=...)`), the
next ones are added with `load_adapter`, and a request picks its variant with `set_adapter` (or
`disable_adapter()` for the base) while holding the base's lock, so concurrent requests never see
another request's adapter. The full checkpoint is a model of its own (`llmft.models.load_model`).

An adapter trained on another base is refused naming both; a variant that cannot load is reported
with its reason (`VariantModels.variant` raises; `Summarizer.status` catches) and the others still work.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmft.apps.demo_note import demo_note
from llmft.errors import AdapterMismatchError, ConfigError, ModelLoadError
from llmft.models import LoadedModel, ModelPolicy, load_model, pick_device, read_adapter_config, resolve_source

logger = logging.getLogger(__name__)

KINDS = ("base", "full", "lora")



@dataclass(frozen=True)
class VariantSpec:
    """One variant: its name in the UI and API, what it is, and where it comes from."""

    name: str
    kind: str  # "base", "full" or "lora"
    source: str
    revision: str | None = None

    @property
    def label(self) -> str:
        where = f"{self.source}@{self.revision}" if self.revision else self.source
        return f"{self.name} ({where})"


def parse_source(text: str) -> tuple[str, str | None]:
    """`owner/name@revision` -> (`owner/name`, `revision`); a local folder is taken whole, even with an '@'."""
    text = text.strip()
    if "@" in text and not Path(text).expanduser().exists():
        source, _, revision = text.rpartition("@")
        if source.strip() and revision.strip():
            return source.strip(), revision.strip()
    return text, None


def variant_specs(base: str, full: str = "", adapters: list[str] | tuple[str, ...] = ()) -> list[VariantSpec]:
    """The base, then the full checkpoint (if any), then the adapters as `lora-1`, `lora-2`, ..."""
    if not base.strip():
        raise ConfigError("No base model given: enter a Hub id (like google/flan-t5-base) or a local folder.")
    specs = [VariantSpec("base", "base", *parse_source(base))]
    if full.strip():
        specs.append(VariantSpec("full", "full", *parse_source(full)))
    specs += [VariantSpec(f"lora-{i}", "lora", *parse_source(a)) for i, a in enumerate(adapters, start=1)]
    return specs


def same_model(a: str, b: str) -> bool:
    """Two model names for the same model: equal Hub ids, or local paths to the same folder."""

    def norm(name: str) -> str:
        path = Path(name).expanduser()
        return str(path.resolve()) if path.exists() else name.strip().rstrip("/")

    return norm(a) == norm(b)


def load_base_folder(folder: Path, name: str, device: str, dtype: Any) -> tuple[Any, Any]:
    """A seq2seq model and its tokenizer from a local folder, NOT through `load_model`'s cache.

    The shared base gets adapters injected into its modules, so it must never be the object that
    `load_model` hands to other callers.
    """
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"Model '{name}' has no config.json: it is not a transformers model folder.")
    try:
        config = AutoConfig.from_pretrained(folder)
        if not getattr(config, "is_encoder_decoder", False):
            raise ModelLoadError(f"Model '{name}' is a {config.model_type} model, not an encoder-decoder like FLAN-T5.")
        model = AutoModelForSeq2SeqLM.from_pretrained(folder, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"Could not load model '{name}': {str(err).splitlines()[0]}") from err
    return model.to(device).eval(), tokenizer


@dataclass
class SharedBase:
    """One base model in memory and the adapters loaded onto it; `lock` guards switching and generating."""

    source: str
    revision: str | None
    folder: Path
    base_module: Any  # the transformers model: the same object before and after adapters wrap it
    tokenizer: Any
    device: str
    model: Any = None  # what generates: `base_module`, or the PeftModel around it once an adapter is loaded
    adapters: dict[tuple[str, str | None], str] = field(default_factory=dict)  # (source, revision) -> name
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if self.model is None:
            self.model = self.base_module


@dataclass
class Variant:
    """A ready variant. Use `with variant.active() as loaded:` around generation: it holds the lock and
    switches the shared base to this variant's adapter (or off, for the base)."""

    spec: VariantSpec
    folder: Path
    base: SharedBase | None = None  # for the base and adapters
    adapter_name: str | None = None
    own: LoadedModel | None = None  # for the full checkpoint
    own_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def demo_note(self) -> str | None:
        """What to tell the user when this is the embedded demo model (`llmft.demo`'s marker), else None."""
        return demo_note([self.folder, self.base.folder if self.base is not None else None])

    @property
    def tokenizer(self) -> Any:
        return self.base.tokenizer if self.base is not None else self.own.tokenizer  # type: ignore[union-attr]

    @property
    def base_module(self) -> Any:
        """The underlying transformers model (for the base and adapters: the one shared object)."""
        return self.base.base_module if self.base is not None else self.own.model  # type: ignore[union-attr]

    @contextmanager
    def active(self) -> Iterator[LoadedModel]:
        if self.base is None:
            assert self.own is not None
            with self.own_lock:
                yield self.own
            return
        shared = self.base
        with shared.lock:
            model = shared.model
            loaded = LoadedModel(
                model, shared.tokenizer, self.spec.source, self.spec.kind, shared.source, shared.device,
                self.spec.revision,
            )
            if self.adapter_name is not None:
                model.set_adapter(self.adapter_name)
                yield loaded
            elif model is not shared.base_module:  # adapters are loaded: run the base with them off
                with model.disable_adapter():
                    yield loaded
            else:
                yield loaded


class VariantModels:
    """Loads variants once per process: bases (with their adapters) and full checkpoints.

    At most `max_bases` bases stay in memory; loading another drops the least recently used one
    (requests still running keep theirs until they finish). `base_loads` counts bases read from disk.
    `policy` (`AppSettings.model_policy()`) is the allowlist every source is checked against first.
    Bases are kept here, not in `llmft.models.MODEL_CACHE`: adapters are injected into their modules, and a
    base whose first adapter failed halfway must be dropped, which that cache cannot do.
    """

    def __init__(self, device: str | None = None, max_bases: int = 2, policy: ModelPolicy | None = None):
        self.device, self.dtype = pick_device(device)
        self.max_bases = max_bases
        self.policy = policy
        self.base_loads = 0
        self._bases: OrderedDict[tuple[str, str | None], SharedBase] = OrderedDict()
        self._lock = threading.Lock()  # guards `_bases` and `base_loads`
        self._load_lock = threading.Lock()

    def _allowed(self, spec: VariantSpec) -> None:
        if self.policy is not None:  # the Space's allowlist: refused before anything is downloaded
            self.policy.check(spec.source)

    def _cached_base(self, key: tuple[str, str | None]) -> SharedBase | None:
        with self._lock:
            if key in self._bases:
                self._bases.move_to_end(key)
                return self._bases[key]
        return None

    def shared_base(self, spec: VariantSpec) -> SharedBase:
        key = (spec.source, spec.revision)
        cached = self._cached_base(key)  # a loaded base never waits behind another one's download
        if cached is not None:
            return cached
        with self._load_lock:  # one load at a time: two at once would double peak memory
            cached = self._cached_base(key)  # loaded by the request we waited for
            if cached is not None:
                return cached
            folder = resolve_source(spec.source, spec.revision)
            config = read_adapter_config(folder)
            if config is not None:
                raise ConfigError(
                    f"The base model '{spec.source}' is a LoRA adapter (on '{config.get('base_model_name_or_path')}'); "
                    "give a full model as the base and the adapter under LoRA adapters."
                )
            module, tokenizer = load_base_folder(folder, spec.source, self.device, self.dtype)
            shared = SharedBase(spec.source, spec.revision, folder, module, tokenizer, self.device)
            with self._lock:
                self.base_loads += 1
                self._bases[key] = shared
                while len(self._bases) > self.max_bases:
                    dropped, _ = self._bases.popitem(last=False)
                    logger.info("dropping base %s from memory (more than %d bases)", dropped[0], self.max_bases)
            return shared

    def variant(self, spec: VariantSpec, base_spec: VariantSpec) -> Variant:
        """The ready variant `spec`; adapters go onto `base_spec`'s shared base. Raises a `LlmftError`."""
        self._allowed(spec)
        if spec.kind == "base":
            shared = self.shared_base(spec)
            return Variant(spec, shared.folder, base=shared)
        if spec.kind == "full":
            folder = resolve_source(spec.source, spec.revision)
            config = read_adapter_config(folder)
            if config is not None:
                raise ConfigError(
                    f"'{spec.source}' is a LoRA adapter (on '{config.get('base_model_name_or_path')}'), "
                    "not a fully fine-tuned model: list it under LoRA adapters."
                )
            return Variant(spec, folder, own=load_model(spec.source, spec.revision, policy=self.policy))
        if spec.kind != "lora":
            raise ConfigError(f"Unknown variant kind '{spec.kind}'; one of {', '.join(KINDS)}.")
        self._allowed(base_spec)
        shared = self.shared_base(base_spec)
        folder = resolve_source(spec.source, spec.revision)
        with shared.lock:
            name = shared.adapters.get((spec.source, spec.revision))
            if name is None:
                name = self._add_adapter(shared, spec, folder)
        return Variant(spec, folder, base=shared, adapter_name=name)

    def _add_adapter(self, shared: SharedBase, spec: VariantSpec, folder: Path) -> str:
        """Load the adapter in `folder` onto `shared` (its lock held); returns its adapter name."""
        config = read_adapter_config(folder)
        if config is None:
            raise ConfigError(
                f"'{spec.source}' has no adapter_config.json: it is not a LoRA adapter. A fully fine-tuned "
                "model goes in the 'full' box."
            )
        trained_on = config.get("base_model_name_or_path") or ""
        if trained_on and not same_model(trained_on, shared.source):
            raise AdapterMismatchError(
                f"Adapter '{spec.source}' was trained on base model '{trained_on}', but this Space's base is "
                f"'{shared.source}'. Set the base to '{trained_on}', or pick an adapter trained on '{shared.source}'."
            )
        from peft import PeftModel

        name = f"adapter_{len(shared.adapters)}"  # peft names: plain words, no '/' or '.' from the source
        try:
            if shared.model is shared.base_module:
                shared.model = PeftModel.from_pretrained(shared.base_module, str(folder), adapter_name=name)
            else:
                shared.model.load_adapter(str(folder), adapter_name=name)
        except (RuntimeError, ValueError, KeyError) as err:
            self._forget_broken_base(shared, name)
            raise AdapterMismatchError(
                f"Adapter '{spec.source}' does not fit base model '{shared.source}' (it says it was trained on "
                f"'{trained_on or 'an unnamed base'}'): {str(err).splitlines()[0][:200]}"
            ) from err
        shared.model.eval()
        shared.adapters[(spec.source, spec.revision)] = name
        logger.info("adapter %s loaded onto %s as %s", spec.source, shared.source, name)
        return name

    def _forget_broken_base(self, shared: SharedBase, name: str) -> None:
        """A failed adapter load may leave half-injected layers: delete that adapter, else drop the whole base."""
        if shared.model is not shared.base_module:
            try:
                if name in shared.model.peft_config:
                    shared.model.delete_adapter(name)
                return
            except Exception:  # noqa: BLE001 - whatever peft left behind, the base is reloaded next time
                logger.exception("could not remove the failed adapter %s from %s", name, shared.source)
        with self._lock:  # the first adapter failed inside the base's own modules: reload it next time
            self._bases.pop((shared.source, shared.revision), None)
