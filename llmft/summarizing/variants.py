"""The models a Summarizer compares: one base in memory, LoRA adapters switched on it, and a full checkpoint.

A *variant* is the base model (`base`), the fully fine-tuned checkpoint (`full`) or a LoRA adapter
(`lora-1`, `lora-2`, ...). The base and every adapter share ONE copy of the base weights: the first
adapter wraps the base in a `PeftModel`, the next ones are added to it (both `llmft.models.attach_adapter`),
and a request picks its variant with `set_adapter` (or
`disable_adapter()` for the base) while holding the base's lock, so concurrent requests never see
another request's adapter. The full checkpoint is a model of its own (`llmft.models.load_model`).

An adapter trained on another base is refused naming both; a variant that cannot load is reported
with its reason (`VariantModels.variant` raises; `Summarizer.status` catches) and the others still work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from llmft.apps.demo_note import demo_note
from llmft.errors import AdapterMismatchError, ConfigError
from llmft.model_cache import ModelCache
from llmft.models import (
    LoadedModel,
    Located,
    ModelPolicy,
    attach_adapter,
    load_model,
    locate,
    normalise_source,
    pick_device,
)

logger = logging.getLogger(__name__)

VariantKind = Literal["base", "full", "lora"]
KINDS: tuple[str, ...] = get_args(VariantKind)



@dataclass(frozen=True)
class VariantSpec:
    """One variant: its name in the UI and API, what it is, and where it comes from."""

    name: str
    kind: VariantKind
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
    key: tuple[str, str | None] | None = None  # its key in `VariantModels`' cache

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


BASE_HINT = "Give a full model as the base and the adapter under LoRA adapters."
FULL_HINT = "The 'full' box takes a fully fine-tuned model; list the adapter under LoRA adapters."
LORA_HINT = "A fully fine-tuned model goes in the 'full' box."
SPACE_BASE = "this Space's base"  # how an adapter-base mismatch names the base


class VariantModels:
    """Loads variants once per process: bases (with their adapters) and full checkpoints.

    At most `max_bases` bases stay in memory, in a `ModelCache` of their own that loads one at a time; loading
    another drops the least recently used one (requests still running keep theirs until they finish).
    `base_loads` counts bases read from disk. `policy` (`AppSettings.model_policy()`) is the allowlist every
    source is checked against first. Bases are not in `llmft.models.MODEL_CACHE`: adapters are injected into
    their modules, and a base whose first adapter failed halfway is discarded. Everything loads through
    `llmft.models` (`load_model`, `locate`, `attach_adapter`): the same checks and messages as elsewhere.
    """

    def __init__(self, device: str | None = None, max_bases: int = 2, policy: ModelPolicy | None = None):
        self.device, self.dtype = pick_device(device)
        self.policy = policy
        self.base_loads = 0
        self._bases: ModelCache[SharedBase] = ModelCache(max_models=max_bases, one_load_at_a_time=True)
        self._count_lock = threading.Lock()  # guards `base_loads`

    @property
    def max_bases(self) -> int:
        return self._bases.max_models or 0

    @max_bases.setter
    def max_bases(self, value: int) -> None:
        self._bases.max_models = value

    def _allowed(self, spec: VariantSpec) -> str:
        """The source's one spelling (`normalise_source`); the Space's allowlist refuses before any download."""
        return self.policy.check(spec.source) if self.policy is not None else normalise_source(spec.source)

    def shared_base(self, spec: VariantSpec) -> SharedBase:
        key = (self._allowed(spec), spec.revision)
        return self._bases.get_or_load(key, lambda: self._load_base(spec, key))

    def _load_base(self, spec: VariantSpec, key: tuple[str, str | None]) -> SharedBase:
        # Not from MODEL_CACHE: adapters are injected into this object, which no other caller may get.
        loaded = load_model(
            spec.source, spec.revision, device=self.device, use_cache=False, policy=self.policy, want="model",
            hint=BASE_HINT,
        )
        assert loaded.folder is not None
        with self._count_lock:
            self.base_loads += 1
        return SharedBase(
            spec.source, spec.revision, loaded.folder, loaded.model, loaded.tokenizer, self.device, key=key
        )

    def variant(self, spec: VariantSpec, base_spec: VariantSpec) -> Variant:
        """The ready variant `spec`; adapters go onto `base_spec`'s shared base. Raises a `LlmftError`."""
        self._allowed(spec)
        if spec.kind == "base":
            shared = self.shared_base(spec)
            return Variant(spec, shared.folder, base=shared)
        if spec.kind == "full":
            own = load_model(spec.source, spec.revision, policy=self.policy, want="model", hint=FULL_HINT)
            assert own.folder is not None
            return Variant(spec, own.folder, own=own)
        if spec.kind != "lora":
            raise ConfigError(f"Unknown variant kind '{spec.kind}'; one of {', '.join(KINDS)}.")
        self._allowed(base_spec)
        located = locate(  # the adapter's kind and base are checked before any weights are read
            spec.source, spec.revision, base_model=base_spec.source, policy=self.policy, want="adapter",
            hint=LORA_HINT, base_role=SPACE_BASE,
        )
        shared = self.shared_base(base_spec)
        with shared.lock:
            name = shared.adapters.get((located.name, spec.revision))
            if name is None:
                name = self._add_adapter(shared, located)
        return Variant(spec, located.folder, base=shared, adapter_name=name)

    def _add_adapter(self, shared: SharedBase, located: Located) -> str:
        """Load the located adapter onto `shared` (its lock held); returns its adapter name."""
        name = f"adapter_{len(shared.adapters)}"  # peft names: plain words, no '/' or '.' from the source
        try:
            shared.model = attach_adapter(shared.model, located, shared.source, adapter_name=name)
        except AdapterMismatchError:
            self._forget_broken_base(shared, name)
            raise
        shared.model.eval()
        shared.adapters[(located.name, located.revision)] = name
        logger.info("adapter %s loaded onto %s as %s", located.name, shared.source, name)
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
        # The first adapter failed inside the base's own modules: reload it next time.
        self._bases.discard(shared.key)
