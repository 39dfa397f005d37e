"""`Summarizer`: what the Summarizer Space's server shares across requests, and its five jobs.

Jobs: summarise one dialogue with every chosen variant (timed, ROUGE with a reference), a batch file,
an evaluation over DialogSum test dialogues, the cross-attention explanation of one variant's summary,
and test-dialogue look-ups. Prompts come from `llmft.prompts.fit_prompt` (the same as training and the
other apps), generation from `llmft.models.generate` (batched, sorted by length), ROUGE from
`llmft.metrics`. Nothing loads at construction: models and the dataset load on first use, a failure is
remembered for `retry_after_s` (so a broken source is not retried by every request), and a variant
that cannot load is reported while the others keep working. Never imports Gradio.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from llmft.bootstrap import FEW_DIALOGUES, TOO_FEW_NOTE
from llmft.data import DialogueExample
from llmft.errors import ConfigError, LlmftError, ModelLoadError, PromptError
from llmft.faithfulness import check as check_facts
from llmft.metrics import score_one
from llmft.models import MODEL_CACHE, GenerationSettings, generate
from llmft.prompts import MAX_SOURCE_TOKENS, FittedPrompt, check_dialogue, fit_prompt, parse_references
from llmft.settings import SummarizerSettings
from llmft.settings import split_items as split_sources
from llmft.summarizing.batch import read_batch_file
from llmft.summarizing.ct2 import Ct2Variants
from llmft.summarizing.examples import TestDialogues
from llmft.summarizing.explain import Explanation, explain_summary
from llmft.summarizing.results import BatchResult, SingleResult, VariantSummary, percent
from llmft.summarizing.variants import Variant, VariantModels, VariantSpec, variant_specs

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]  # (done, total, what): gr.Progress in the app


def _no_progress(done: int, total: int, what: str) -> None:
    return None


class Summarizer:
    """Variants, dataset and limits of one server; see the module docstring."""

    def __init__(
        self,
        settings: SummarizerSettings | None = None,
        models: VariantModels | None = None,
        retry_after_s: float = 30.0,
    ):
        self.settings = settings or SummarizerSettings.from_env()
        self.models = models or VariantModels(max_bases=self.settings.max_models, policy=self.settings.model_policy())
        MODEL_CACHE.max_models = self.settings.max_models  # the full checkpoint lives in the shared cache
        # CTranslate2 serves the summaries when chosen; the torch variants still load (the allowlist and adapter
        # checks, the tokenizer, and /explain, which needs attention weights).
        serve_ct2 = self.settings.backend == "ctranslate2"
        self.ct2 = Ct2Variants(quantization=self.settings.ct2_quantization) if serve_ct2 else None
        self.retry_after_s = retry_after_s
        # Keyed by the variant AND its base: an adapter refused on one base may load on another.
        self._failures: dict[tuple[VariantSpec, VariantSpec], tuple[float, LlmftError]] = {}
        self._lock = threading.Lock()
        self.examples = TestDialogues(self.settings.dataset, retry_after_s)

    # --- variants ----------------------------------------------------------------------------------

    def specs(self, base: str = "", full: str | None = None, adapters: str | None = None) -> list[VariantSpec]:
        """Variants from the UI's model boxes; an empty base (or None for the others) means the Space's default."""
        return variant_specs(
            (base or "").strip() or self.settings.base_model,
            self.settings.full_model if full is None else full,
            self.settings.adapters if adapters is None else split_sources(adapters),
        )

    def variant(self, spec: VariantSpec, specs: Sequence[VariantSpec]) -> Variant:
        """The ready variant, or the `LlmftError` that says why not (remembered for `retry_after_s`)."""
        key = (spec, specs[0])
        with self._lock:
            failed = self._failures.get(key)
            if failed and time.monotonic() - failed[0] < self.retry_after_s:
                raise failed[1]
        try:
            ready = self.models.variant(spec, specs[0])
        except LlmftError as err:
            with self._lock:
                self._failures[key] = (time.monotonic(), err)
            raise
        with self._lock:
            self._failures.pop(key, None)
        return ready

    def _chosen(self, specs: list[VariantSpec], names: Sequence[str] | None) -> list[VariantSpec]:
        if not names:
            return specs
        known = {s.name: s for s in specs}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"Unknown variant(s) {', '.join(unknown)}; this Space has {', '.join(known)}.")
        return [known[n] for n in dict.fromkeys(names)]

    def ready(
        self, specs: list[VariantSpec], names: Sequence[str] | None = None
    ) -> tuple[list[Variant], dict[str, str]]:
        """Load the chosen variants: those ready, and {name: reason} for those that are not."""
        ready, unavailable = [], {}
        for spec in self._chosen(specs, names):
            try:
                ready.append(self.variant(spec, specs))
            except LlmftError as err:
                unavailable[spec.name] = str(err)
        if not ready:
            reasons = "\n".join(f"{name}: {why}" for name, why in unavailable.items())
            raise ModelLoadError(f"No chosen variant could be loaded.\n{reasons}")
        return ready, unavailable

    def status(self, specs: list[VariantSpec], load: bool = True) -> list[dict[str, Any]]:
        """Per variant: what it is, whether it is available (and why not), its base, and whether it is the demo."""
        rows = []
        for spec in specs:
            row: dict[str, Any] = {"variant": spec.name, "kind": spec.kind, "source": spec.source,
                                   "revision": spec.revision, "base": specs[0].source if spec.kind != "full" else None}
            try:
                variant = self.variant(spec, specs) if load else None
            except LlmftError as err:
                row.update(available=False, reason=str(err))
            else:
                row.update(available=variant is not None, reason=None)
                if variant is not None:
                    # Object identity, for the API: the base and its adapters report one base object.
                    row.update(demo_note=variant.demo_note, base_object=id(variant.base_module))
            rows.append(row)
        return rows

    # --- jobs ----------------------------------------------------------------------------------------

    def generation(self, max_new_tokens: int | None = None) -> GenerationSettings:
        tokens = int(max_new_tokens or self.settings.max_new_tokens)
        if not 1 <= tokens <= 512:
            raise ConfigError(f"Max new tokens must be from 1 to 512, not {tokens}.")
        return GenerationSettings(max_new_tokens=tokens)

    def _generate(
        self,
        variant: Variant,
        dialogues: Sequence[str],
        settings: GenerationSettings,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[list[str], list[FittedPrompt], float]:
        """Summaries of `dialogues` by `variant` on the configured backend: texts, fitted prompts, seconds."""
        if self.ct2 is None:
            with variant.active() as loaded:
                fitted = [fit_prompt(loaded.tokenizer, d) for d in dialogues]
                start = time.perf_counter()
                texts = generate(loaded, [f.text for f in fitted], settings,
                                 batch_size=self.settings.generation_batch, progress=progress)
                return texts, fitted, time.perf_counter() - start
        base = variant.base.source if variant.base is not None and variant.spec.kind == "lora" else ""
        model = self.ct2.get(variant.spec.source, variant.spec.revision, base, variant.tokenizer)
        fitted = [fit_prompt(variant.tokenizer, d) for d in dialogues]
        start = time.perf_counter()
        texts = model.generate([f.text for f in fitted], settings.max_new_tokens,
                               batch_size=self.settings.generation_batch)
        if progress is not None:
            progress(len(dialogues), len(dialogues))
        return texts, fitted, time.perf_counter() - start

    def summarize(
        self,
        dialogue: str,
        reference: str | Sequence[str] | None,
        specs: list[VariantSpec],
        names: Sequence[str] | None = None,
        max_new_tokens: int | None = None,
        progress: ProgressFn | None = None,
    ) -> SingleResult:
        """Each chosen variant's summary of one dialogue, timed; ROUGE (percent) when references are given."""
        progress = progress or _no_progress
        dialogue = check_dialogue(dialogue, reference if isinstance(reference, str) else None)
        refs = parse_references(reference)
        settings = self.generation(max_new_tokens)
        chosen = self._chosen(specs, names)
        results, warnings = [], []
        for index, spec in enumerate(chosen):
            progress(index, len(chosen), f"{spec.name}: loading and summarising")
            try:
                variant = self.variant(spec, specs)
            except LlmftError as err:
                results.append(VariantSummary(spec.name, spec.kind, spec.source, error=str(err)))
                continue
            (summary,), (fitted,), seconds = self._generate(variant, [dialogue], settings)
            if fitted.dialogue_tokens_cut:
                warnings.append(f"{spec.name}: {fitted.report}")
            rouge = percent(score_one(summary, refs)) if refs else None
            results.append(VariantSummary(spec.name, spec.kind, spec.source, summary, round(seconds, 3), rouge,
                                          faithfulness=check_facts(summary, dialogue)))
        if all(r.error for r in results):
            raise ModelLoadError("No chosen variant could be loaded.\n" + "\n".join(
                f"{r.variant}: {r.error}" for r in results))
        warnings += [f"{r.variant} is unavailable: {r.error}" for r in results if r.error]
        progress(len(chosen), len(chosen), "done")
        return SingleResult(refs, results, warnings)

    def run_many(
        self,
        examples: Sequence[DialogueExample],
        specs: list[VariantSpec],
        names: Sequence[str] | None,
        title: str,
        max_new_tokens: int | None = None,
        progress: ProgressFn | None = None,
    ) -> BatchResult:
        """Every example through every available chosen variant, in batches; ROUGE where references exist."""
        progress = progress or _no_progress
        settings = self.generation(max_new_tokens)
        variants, unavailable = self.ready(specs, names)
        rows: list[dict[str, Any]] = [
            {"id": e.id, "dialogue": e.dialogue, "references": list(e.summaries)} for e in examples
        ]
        total = len(examples) * len(variants)
        means, seconds, notes = {}, {}, []
        for index, variant in enumerate(variants):
            name, offset = variant.spec.name, index * len(examples)

            def on_batch(done: int, _total: int, name: str = name, offset: int = offset) -> None:
                progress(offset + done, total, f"{name}: summarising")

            progress(offset, total, f"{name}: summarising")
            summaries, fitted, spent = self._generate(variant, [e.dialogue for e in examples], settings, on_batch)
            seconds[name] = round(spent, 3)
            cut = sum(1 for f in fitted if f.dialogue_tokens_cut)
            if cut:
                notes.append(f"{name}: {cut} dialogue(s) were cut to fit {MAX_SOURCE_TOKENS} tokens.")
            scored = []
            progress(offset + len(examples), total, f"{name}: checking facts")
            for row, example, summary in zip(rows, examples, summaries, strict=True):
                row[f"{name}: summary"] = summary
                facts = check_facts(summary, example.dialogue)["unsupported_facts"]
                row[f"{name}: unsupported"] = len(facts)
                row[f"{name}: unsupported facts"] = "; ".join(f"{f['kind']}: {f['text']}" for f in facts)
                if example.summaries:
                    scores = percent(score_one(summary, example.summaries))
                    row.update({f"{name}: {k}": v for k, v in scores.items()})
                    scored.append(scores)
            if scored:
                means[name] = {k: sum(s[k] for s in scored) / len(scored) for k in scored[0]}
        progress(total, total, "done")
        if not any(e.summaries for e in examples):
            notes.append("No row has a reference summary, so there is no ROUGE.")
        elif len(variants) > 1 and sum(1 for e in examples if e.summaries) < FEW_DIALOGUES:
            notes.append(f"Differences from the base: {TOO_FEW_NOTE}.")
        return BatchResult(title, [v.spec.name for v in variants], rows, means, seconds, unavailable, notes)

    def summarize_file(self, path: str, specs: list[VariantSpec], names: Sequence[str] | None = None,
                       max_new_tokens: int | None = None, progress: ProgressFn | None = None,
                       name: str | None = None) -> BatchResult:
        """A CSV/JSONL upload (within the limits) through the chosen variants."""
        batch = read_batch_file(path, self.settings.batch_max_bytes, self.settings.batch_max_rows, name)
        result = self.run_many(batch.examples, specs, names, f"{batch.name}: {len(batch.examples)} dialogue(s)",
                               max_new_tokens, progress)
        if batch.empty_rows_skipped:
            result.notes.insert(0, f"{batch.empty_rows_skipped} empty row(s) skipped.")
        if 0 < batch.with_references < len(batch.examples):
            result.notes.append(f"Mean ROUGE is over the {batch.with_references} row(s) with a reference.")
        return result

    def evaluate(self, n_dialogues: int, specs: list[VariantSpec], names: Sequence[str] | None = None,
                 max_new_tokens: int | None = None, progress: ProgressFn | None = None) -> BatchResult:
        """The first N test dialogues through every chosen variant: the course's comparison."""
        limit = self.settings.max_eval_dialogues
        try:
            n = int(n_dialogues)
        except (TypeError, ValueError):
            raise ConfigError(f"The number of dialogues must be a whole number, not {n_dialogues!r}.") from None
        if not 1 <= n <= limit:
            raise ConfigError(f"The number of dialogues must be from 1 to {limit}, not {n}.")
        examples = self.examples.all()[:n]
        title = f"{self.settings.dataset} test split, first {len(examples)} dialogue(s)"
        return self.run_many(examples, specs, names, title, max_new_tokens, progress)

    def explain(
        self, dialogue: str, variant_name: str, specs: list[VariantSpec], summary: str = "",
        max_new_tokens: int | None = None,
    ) -> Explanation:
        """Cross-attention evidence per summary sentence for one variant (its own summary, or `summary`)."""
        dialogue = check_dialogue(dialogue)
        (spec,) = self._chosen(specs, [variant_name or specs[0].name])
        variant = self.variant(spec, specs)
        with variant.active() as loaded:
            if not (summary or "").strip():
                summary = generate(loaded, [fit_prompt(loaded.tokenizer, dialogue).text],
                                   self.generation(max_new_tokens))[0]
            if not summary.strip():
                raise PromptError(f"{spec.name} wrote an empty summary, so there is nothing to explain.")
            return explain_summary(loaded, dialogue, summary.strip(), spec.name)
