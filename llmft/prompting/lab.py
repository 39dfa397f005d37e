"""Zero-, one- and few-shot prompting side by side, scored: the logic behind the Prompting Space.

A *column* is one prompting strategy: a number of shots (0 to 5) and a picker (first-k, random with a
seed, or most similar by sentence-transformers embeddings). Running a column on a dialogue is the one
path the design asks for: pick shots -> `prompts.fit_prompt` (512 tokens, with a report of what was
dropped) -> `models.generate` (timed) -> `metrics.score_one` against the reference(s).

`PromptingLab` holds what a server shares across requests: the test dialogues and the shot pool (loaded
lazily, once), the embedding index, and the models (through `models.load_model`'s process cache). It
never imports Gradio; `spaces/prompting/app.py` only wires it to the UI.

Shot pool: the dataset's train split (its first `shot_pool_size` rows). A source without a train split
(a single file, or a folder with only a test file) lends its test rows instead; the pickers never use
the dialogue being summarised as its own example (`prompts.pick_shots` leaves out equal dialogues).
"""

from __future__ import annotations

import csv
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmft.apps.settings import AppSettings
from llmft.charts import grouped_bar_chart
from llmft.data import DialogueExample, load_dialogues
from llmft.errors import ConfigError, DataError, PromptError
from llmft.metrics import ROUGE_TYPES, mean_scores, score_one
from llmft.models import GenerationSettings, LoadedModel, clear_model_cache, generate, load_model
from llmft.prompts import MAX_SOURCE_TOKENS, SHOT_STRATEGIES, SimilarityIndex, fit_prompt, pick_shots

logger = logging.getLogger(__name__)

MAX_SHOTS = 5
# A guard against pasting a book: far past what the encoder reads (512 tokens is ~2,000 characters),
# yet small enough that tokenising it to report what was cut stays instant.
MAX_DIALOGUE_CHARS = 20_000
DECODING_CHOICES: tuple[str, ...] = ("greedy", "beam", "sample")
PICKER_NAMES = {"first": "first-k", "random": "random", "similar": "most similar"}
ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
COLUMN_NAMES = "ABCDEFGH"

# progress(done, total, description): `gr.Progress` in the app, tqdm or nothing elsewhere.
ProgressFn = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, description: str) -> None:
    return None


# --- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnConfig:
    """One prompting strategy: how many shots, and how they are picked."""

    shots: int = 0
    strategy: str = "first"
    seed: int = 0
    name: str = "A"

    @property
    def label(self) -> str:
        """Short name for tables and charts, e.g. 'B · 2-shot most similar'."""
        if self.shots == 0:
            what = "0-shot"
        elif self.strategy == "random":
            what = f"{self.shots}-shot random (seed {self.seed})"
        else:
            what = f"{self.shots}-shot {PICKER_NAMES.get(self.strategy, self.strategy)}"
        return f"{self.name} · {what}" if self.name else what

    def checked(self) -> ColumnConfig:
        """This config with whole-number fields, or a `PromptError` naming the column and the bad value."""
        where = f"Column {self.name}: " if self.name else ""
        try:
            shots, seed = int(self.shots), int(self.seed)
        except (TypeError, ValueError):
            raise PromptError(f"{where}shots and seed must be whole numbers.") from None
        if shots != self.shots or not 0 <= shots <= MAX_SHOTS:
            raise PromptError(
                f"{where}the number of shots must be a whole number from 0 to {MAX_SHOTS}, not {self.shots}."
            )
        if self.strategy not in SHOT_STRATEGIES:
            raise PromptError(
                f"{where}unknown shot picker '{self.strategy}'; choose one of {', '.join(SHOT_STRATEGIES)}."
            )
        return ColumnConfig(shots=shots, strategy=self.strategy, seed=seed, name=self.name)


def column_configs(*triples: tuple[Any, Any, Any]) -> list[ColumnConfig]:
    """Configs named A, B, C, ... from (shots, strategy, seed) triples, checked."""
    if len(triples) > len(COLUMN_NAMES):
        raise PromptError(f"At most {len(COLUMN_NAMES)} columns can be compared.")
    return [
        ColumnConfig(shots=_whole(shots), strategy=str(strategy or "first"), seed=_whole(seed), name=name).checked()
        for name, (shots, strategy, seed) in zip(COLUMN_NAMES, triples, strict=False)
    ]


def _whole(value: Any) -> Any:
    """Sliders and number boxes send 2.0 for 2; keep anything else as it is for `checked` to refuse."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def generation_settings(
    decoding: str = "greedy",
    num_beams: int = 4,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_new_tokens: int = 200,
    seed: int = 0,
) -> GenerationSettings:
    """`GenerationSettings` from the app's controls: greedy, beam search, or sampling (seeded)."""
    if decoding not in DECODING_CHOICES:
        raise ConfigError(f"Unknown decoding '{decoding}'; choose one of {', '.join(DECODING_CHOICES)}.")
    max_new_tokens = int(max_new_tokens)
    if not 1 <= max_new_tokens <= 512:
        raise ConfigError(f"Max new tokens must be from 1 to 512, not {max_new_tokens}.")
    if decoding == "greedy":
        return GenerationSettings(max_new_tokens=max_new_tokens)
    if decoding == "beam":
        beams = int(num_beams)
        if not 2 <= beams <= 8:
            raise ConfigError(f"Beam search needs 2 to 8 beams, not {beams}.")
        return GenerationSettings(max_new_tokens=max_new_tokens, num_beams=beams)
    temperature, top_p = float(temperature), float(top_p)
    if not 0.0 < temperature <= 2.0:
        raise ConfigError(f"Temperature must be above 0 and at most 2, not {temperature}.")
    if not 0.0 < top_p <= 1.0:
        raise ConfigError(f"Top-p must be above 0 and at most 1, not {top_p}.")
    return GenerationSettings(
        max_new_tokens=max_new_tokens, do_sample=True, temperature=temperature, top_p=top_p, seed=int(seed)
    )


def parse_references(text: str | Sequence[str] | None) -> list[str]:
    """References from a text box (one per line) or a list; blank ones dropped. Empty: no ROUGE."""
    if text is None:
        return []
    lines = text.splitlines() if isinstance(text, str) else [str(t) for t in text]
    return [line.strip() for line in lines if line and line.strip()]


def check_dialogue(dialogue: str | None) -> str:
    """The stripped dialogue, or a `PromptError` a person can act on."""
    dialogue = (dialogue or "").strip()
    if not dialogue:
        raise PromptError("The dialogue is empty: paste a conversation or pick one from the dataset.")
    if len(dialogue) > MAX_DIALOGUE_CHARS:
        raise PromptError(
            f"The dialogue is {len(dialogue):,} characters; this app takes at most {MAX_DIALOGUE_CHARS:,} "
            f"(the model reads only its first {MAX_SOURCE_TOKENS} tokens, about 2,000 characters)."
        )
    return dialogue


# --- one column ----------------------------------------------------------------------------------


@dataclass
class ColumnResult:
    """What one column shows: the exact prompt, how it was fitted, the summary, the time and ROUGE."""

    label: str
    shots_requested: int
    strategy: str
    seed: int
    shot_ids: list[str]
    dropped_shot_ids: list[str]
    dialogue_tokens_cut: int
    prompt: str
    prompt_tokens: int
    max_tokens: int
    fit_report: str
    summary: str
    seconds: float
    rouge: dict[str, float] | None  # F-measures in [0, 1]; None without a reference

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def markdown(self) -> str:
        """The column's details for the UI: tokens and fitting, shots, time, ROUGE."""
        shots = ", ".join(f"`{s}`" for s in self.shot_ids) or "none"
        fit = f"⚠️ {self.fit_report}" if self.dropped_shot_ids or self.dialogue_tokens_cut else self.fit_report
        lines = [
            f"**{self.label}**",
            f"- Prompt: **{self.prompt_tokens}/{self.max_tokens}** tokens; {fit}",
            f"- Shots used: {shots}",
            f"- Time: **{self.seconds:.2f} s**",
        ]
        if self.rouge is None:
            lines.append("- ROUGE: no reference given")
        else:
            lines.append("- " + " · ".join(f"{ROUGE_LABELS[k]} **{100 * v:.1f}**" for k, v in self.rouge.items()))
        return "\n".join(lines)


def run_column(
    loaded: LoadedModel,
    dialogue: str,
    references: Sequence[str],
    pool: Sequence[DialogueExample],
    config: ColumnConfig,
    settings: GenerationSettings | None = None,
    embedder: SimilarityIndex | None = None,
    max_tokens: int = MAX_SOURCE_TOKENS,
) -> ColumnResult:
    """Pick shots, fit the prompt, generate (timed), score: one column of the comparison."""
    dialogue = check_dialogue(dialogue)
    shots = pick_shots(
        pool, config.shots, config.strategy, dialogue=dialogue, seed=config.seed, embedder=embedder
    )
    fitted = fit_prompt(loaded.tokenizer, dialogue, shots, max_tokens=max_tokens)
    start = time.perf_counter()
    summary = generate(loaded, [fitted.text], settings, max_input_tokens=max_tokens)[0]
    seconds = time.perf_counter() - start
    return ColumnResult(
        label=config.label,
        shots_requested=config.shots,
        strategy=config.strategy,
        seed=config.seed,
        shot_ids=fitted.shot_ids,
        dropped_shot_ids=fitted.dropped_shot_ids,
        dialogue_tokens_cut=fitted.dialogue_tokens_cut,
        prompt=fitted.text,
        prompt_tokens=fitted.token_count,
        max_tokens=fitted.max_tokens,
        fit_report=fitted.report,
        summary=summary,
        seconds=round(seconds, 3),
        rouge=score_one(summary, list(references)) if references else None,
    )


def _percent_table(scores: dict[str, float] | None) -> list[Any]:
    return [round(100 * scores[k], 2) if scores else None for k in ROUGE_TYPES]


@dataclass
class Comparison:
    """The columns run on one dialogue, with what they were run with."""

    model: str
    settings: dict[str, Any]
    references: list[str]
    shot_pool: str
    columns: list[ColumnResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "settings": self.settings,
            "references": self.references,
            "shot_pool": self.shot_pool,
            "warnings": self.warnings,
            "columns": [c.to_dict() for c in self.columns],
        }

    @property
    def warnings(self) -> list[str]:
        """Things a person should know about the result: a dialogue cut to fit, shots dropped."""
        notes = []
        for column in self.columns:
            if column.dialogue_tokens_cut:
                notes.append(
                    f"{column.label}: the dialogue is longer than the model reads; the last "
                    f"{column.dialogue_tokens_cut} token(s) were cut to fit {column.max_tokens} tokens."
                )
            elif column.dropped_shot_ids:
                notes.append(
                    f"{column.label}: {len(column.dropped_shot_ids)} of {column.shots_requested} shot(s) "
                    f"dropped to fit {column.max_tokens} tokens."
                )
        return notes

    TABLE_HEADERS = ["column", "shots used", "prompt tokens", "seconds", *(ROUGE_LABELS[k] for k in ROUGE_TYPES)]

    def table(self) -> list[list[Any]]:
        """Rows under `TABLE_HEADERS`; ROUGE in percent (empty without a reference)."""
        return [
            [c.label, len(c.shot_ids), c.prompt_tokens, c.seconds, *_percent_table(c.rouge)] for c in self.columns
        ]

    def chart(self) -> Any | None:
        """ROUGE per column as grouped bars; None without a reference (nothing to compare)."""
        if not self.references:
            return None
        groups = {c.label: {ROUGE_LABELS[k]: 100 * v for k, v in (c.rouge or {}).items()} for c in self.columns}
        return grouped_bar_chart(groups, title="ROUGE against the reference", ylabel="F-measure (%)")


# --- evaluation over many dialogues -----------------------------------------------------------------

CSV_FIELDS = [
    "column",
    "example_id",
    "topic",
    "shots_requested",
    "strategy",
    "seed",
    "shot_ids",
    "dropped_shot_ids",
    "dialogue_tokens_cut",
    "prompt_tokens",
    "prompt",
    "prediction",
    "references",
    *ROUGE_TYPES,
]


@dataclass
class StrategySummary:
    """Means over the evaluated dialogues for one column."""

    label: str
    dialogues: int
    mean_prompt_tokens: float
    shots_dropped: int
    dialogues_cut: int
    seconds: float
    rouge: dict[str, float]  # mean F-measures in [0, 1]


@dataclass
class Evaluation:
    """Every prompt and prediction (`rows`, one per column and dialogue) and the means per column."""

    model: str
    dataset: str
    settings: dict[str, Any]
    shot_pool: str
    summaries: list[StrategySummary]
    rows: list[dict[str, Any]] = field(repr=False)

    SUMMARY_HEADERS = [
        "column",
        "dialogues",
        "mean prompt tokens",
        "shots dropped",
        "dialogues cut",
        "seconds",
        *(ROUGE_LABELS[k] for k in ROUGE_TYPES),
    ]

    def table(self) -> list[list[Any]]:
        """Rows under `SUMMARY_HEADERS`; mean ROUGE in percent."""
        return [
            [
                s.label,
                s.dialogues,
                round(s.mean_prompt_tokens, 1),
                s.shots_dropped,
                s.dialogues_cut,
                round(s.seconds, 2),
                *_percent_table(s.rouge),
            ]
            for s in self.summaries
        ]

    def to_dict(self) -> dict[str, Any]:
        """The summary (not the rows: those are in the CSV)."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "settings": self.settings,
            "shot_pool": self.shot_pool,
            "strategies": [asdict(s) for s in self.summaries],
        }

    def chart(self) -> Any:
        groups = {s.label: {ROUGE_LABELS[k]: 100 * v for k, v in s.rouge.items()} for s in self.summaries}
        dialogues = self.summaries[0].dialogues if self.summaries else 0
        return grouped_bar_chart(groups, title=f"Mean ROUGE over {dialogues} dialogue(s)", ylabel="F-measure (%)")

    def write_csv(self, path: str | Path) -> Path:
        """Every prompt and prediction, one row per column and dialogue (UTF-8, header row)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)
        return path


def evaluate_columns(
    loaded: LoadedModel,
    examples: Sequence[DialogueExample],
    pool: Sequence[DialogueExample],
    configs: Sequence[ColumnConfig],
    settings: GenerationSettings | None = None,
    embedder: SimilarityIndex | None = None,
    progress: ProgressFn | None = None,
    batch_size: int = 8,
    max_tokens: int = MAX_SOURCE_TOKENS,
    model_name: str = "",
    dataset_name: str = "",
    pool_description: str = "",
) -> Evaluation:
    """Run each column over `examples` (which need references), generating in batches per column."""
    progress = progress or _no_progress
    settings = settings or GenerationSettings()
    missing = [e.id for e in examples if not e.summaries]
    if missing:
        raise DataError(f"Evaluation needs reference summaries; these dialogues have none: {', '.join(missing[:5])}")
    total = len(examples) * len(configs)
    rows: list[dict[str, Any]] = []
    summaries: list[StrategySummary] = []
    for index, config in enumerate(configs):
        done_before = index * len(examples)
        progress(done_before, total, f"{config.label}: picking shots, fitting prompts")
        fitted = []
        for example in examples:
            shots = pick_shots(
                pool, config.shots, config.strategy, dialogue=example.dialogue, seed=config.seed,
                exclude_ids=[example.id], embedder=embedder,
            )
            fitted.append(fit_prompt(loaded.tokenizer, example.dialogue, shots, max_tokens=max_tokens))

        def on_batch(done: int, _total: int, label: str = config.label, offset: int = done_before) -> None:
            progress(offset + done, total, f"{label}: generating")

        start = time.perf_counter()
        predictions = generate(
            loaded, [f.text for f in fitted], settings, batch_size=batch_size, max_input_tokens=max_tokens,
            progress=on_batch,
        )
        seconds = time.perf_counter() - start
        scores = [score_one(p, e.summaries) for p, e in zip(predictions, examples, strict=True)]
        for example, prompt, prediction, score in zip(examples, fitted, predictions, scores, strict=True):
            rows.append(
                {
                    "column": config.label,
                    "example_id": example.id,
                    "topic": example.topic or "",
                    "shots_requested": config.shots,
                    "strategy": config.strategy,
                    "seed": config.seed,
                    "shot_ids": " ".join(prompt.shot_ids),
                    "dropped_shot_ids": " ".join(prompt.dropped_shot_ids),
                    "dialogue_tokens_cut": prompt.dialogue_tokens_cut,
                    "prompt_tokens": prompt.token_count,
                    "prompt": prompt.text,
                    "prediction": prediction,
                    "references": "\n".join(example.summaries),
                    **{k: round(v, 6) for k, v in score.items()},
                }
            )
        summaries.append(
            StrategySummary(
                label=config.label,
                dialogues=len(examples),
                mean_prompt_tokens=sum(f.token_count for f in fitted) / max(len(fitted), 1),
                shots_dropped=sum(len(f.dropped_shot_ids) for f in fitted),
                dialogues_cut=sum(1 for f in fitted if f.dialogue_tokens_cut),
                seconds=seconds,
                rouge=mean_scores(scores),
            )
        )
    progress(total, total, "done")
    return Evaluation(
        model=model_name or loaded.source,
        dataset=dataset_name,
        settings=settings.to_dict(),
        shot_pool=pool_description,
        summaries=summaries,
        rows=rows,
    )


# --- the shared state of a server ---------------------------------------------------------------------


@dataclass
class ShotPool:
    examples: list[DialogueExample]
    description: str


class PromptingLab:
    """Dataset, shot pool, embedder and models, loaded lazily once per process and shared by requests.

    Nothing is loaded at construction, so a server starts even when the Hub cannot be reached; each
    request that needs the missing thing gets its `DataError` / `ModelLoadError` message. A failed load
    is remembered for `retry_after_s` so a broken source is not hammered by every page view.
    """

    def __init__(
        self,
        settings: AppSettings | None = None,
        embedder: SimilarityIndex | None = None,
        retry_after_s: float = 30.0,
    ):
        self.settings = settings or AppSettings.from_env()
        self.embedder = embedder or SimilarityIndex()
        self.retry_after_s = retry_after_s
        self._data_lock = threading.RLock()  # the pool may load the test split inside its own load
        self._models_lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self._failed: dict[str, tuple[float, DataError]] = {}
        self._models_in_memory: list[str] = []

    # data

    def _once(self, key: str, loader: Callable[[], Any]) -> Any:
        with self._data_lock:
            if key in self._loaded:
                return self._loaded[key]
            failed = self._failed.get(key)
            if failed and time.monotonic() - failed[0] < self.retry_after_s:
                raise failed[1]
            try:
                value = loader()
            except DataError as err:
                self._failed[key] = (time.monotonic(), err)
                raise
            self._failed.pop(key, None)
            self._loaded[key] = value
            return value

    def test_examples(self) -> list[DialogueExample]:
        """The test split, one example per dialogue with all its references."""
        return self._once("test", lambda: load_dialogues(self.settings.dataset, "test", group_references=True))

    def shot_pool(self) -> ShotPool:
        return self._once("pool", self._load_pool)

    def _load_pool(self) -> ShotPool:
        source = self.settings.dataset
        path = Path(source).expanduser()
        if path.is_file():
            examples = self.test_examples()
            description = f"the other dialogues of {path.name} (a single file has no train split)"
        else:
            try:
                examples = load_dialogues(source, "train")
                description = f"{source} train split"
            except DataError as train_error:
                try:
                    examples = self.test_examples()
                except DataError:
                    raise train_error from None
                reason = str(train_error).splitlines()[0]
                description = f"{source} test split minus the dialogue being summarised (no train split: {reason})"
                logger.info("shot pool: %s", description)
        if len(examples) > self.settings.shot_pool_size:
            examples = examples[: self.settings.shot_pool_size]
            description += f", first {len(examples)}"
        return ShotPool(examples=list(examples), description=description)

    def topics(self) -> list[str]:
        return sorted({e.topic for e in self.test_examples() if e.topic})

    def example_choices(self, topic: str = "") -> list[tuple[str, str]]:
        """(label, id) pairs for a dropdown: every test dialogue, or those of one topic."""
        return [
            (f"{e.id} · {e.topic}" if e.topic else e.id, e.id)
            for e in self.test_examples()
            if not topic or e.topic == topic
        ]

    def example(
        self, example_id: str = "", topic: str = "", pick_random: bool = False, seed: int | None = None
    ) -> DialogueExample:
        """A test dialogue by id; else the first (or, with `pick_random`, a random) one of `topic`; else a
        random one when `pick_random`. Unseeded random picks differ from call to call, as a dice button should."""
        examples = self.test_examples()
        example_id, topic = (example_id or "").strip(), (topic or "").strip()
        if example_id:
            for example in examples:
                if example.id == example_id:
                    return example
            raise DataError(
                f"No test dialogue with id '{example_id}' in {self.settings.dataset} "
                f"(ids look like '{examples[0].id}')."
            )
        if topic:
            examples = [e for e in examples if e.topic == topic]
            if not examples:
                raise DataError(f"No test dialogue has the topic '{topic}'.")
        elif not pick_random:
            raise DataError("Choose a dialogue: give its id, a topic, or ask for a random one.")
        return random.Random(seed).choice(examples) if pick_random else examples[0]

    # models

    def model(self, source: str | None = None) -> LoadedModel:
        """The model for `source` (the default when empty), from the process-wide cache.

        Anyone may type a model id, so memory is bounded: past `max_models` distinct models the cache is
        emptied before the next one loads (requests still running keep their model until they finish).
        """
        source = (source or "").strip() or self.settings.base_model
        with self._models_lock:
            if source not in self._models_in_memory and len(self._models_in_memory) >= self.settings.max_models:
                logger.info("model cache full (%d); emptying it for %s", self.settings.max_models, source)
                clear_model_cache()
                self._models_in_memory.clear()
        loaded = load_model(source)
        with self._models_lock:
            if source not in self._models_in_memory:
                self._models_in_memory.append(source)
        return loaded

    def _pool_for(self, configs: Sequence[ColumnConfig]) -> ShotPool:
        if not any(c.shots for c in configs):
            return ShotPool([], "not needed (every column is zero-shot)")
        try:
            return self.shot_pool()
        except DataError as err:
            raise DataError(
                f"{err}\nColumns with shots need examples from the dataset; set their shots to 0 to compare "
                "zero-shot prompts only."
            ) from err

    # the two jobs

    def compare(
        self,
        dialogue: str,
        references: str | Sequence[str] | None,
        configs: Sequence[ColumnConfig],
        settings: GenerationSettings | None = None,
        model: str | None = None,
        progress: ProgressFn | None = None,
    ) -> Comparison:
        """Run every column on one dialogue; ROUGE against `references` when there are any."""
        progress = progress or _no_progress
        dialogue = check_dialogue(dialogue)
        configs = [c.checked() for c in configs]
        if not configs:
            raise PromptError("Nothing to compare: configure at least one column.")
        refs = parse_references(references)
        settings = settings or GenerationSettings()
        steps = len(configs) + 1
        source = (model or "").strip() or self.settings.base_model
        progress(0, steps, f"Loading {source}")
        loaded = self.model(source)
        pool = self._pool_for(configs)
        columns = []
        for index, config in enumerate(configs, start=1):
            note = " (the first 'most similar' request embeds the shot pool)" if config.strategy == "similar" else ""
            progress(index, steps, f"{config.label}: picking shots{note}, generating")
            columns.append(
                run_column(loaded, dialogue, refs, pool.examples, config, settings, embedder=self.embedder)
            )
        progress(steps, steps, "done")
        return Comparison(
            model=source, settings=settings.to_dict(), references=refs, shot_pool=pool.description, columns=columns
        )

    def evaluate(
        self,
        n_dialogues: int,
        configs: Sequence[ColumnConfig],
        settings: GenerationSettings | None = None,
        model: str | None = None,
        progress: ProgressFn | None = None,
    ) -> Evaluation:
        """Run every column over the first `n_dialogues` test dialogues (all of them, if there are fewer)."""
        limit = self.settings.max_eval_dialogues
        try:
            n = int(n_dialogues)
        except (TypeError, ValueError):
            raise ConfigError(f"The number of dialogues must be a whole number, not {n_dialogues!r}.") from None
        if not 1 <= n <= limit:
            raise ConfigError(f"The number of dialogues must be from 1 to {limit}, not {n}.")
        configs = [c.checked() for c in configs]
        if not configs:
            raise PromptError("Nothing to evaluate: configure at least one column.")
        examples = self.test_examples()[:n]
        source = (model or "").strip() or self.settings.base_model
        (progress or _no_progress)(0, n * len(configs), f"Loading {source}")
        loaded = self.model(source)
        pool = self._pool_for(configs)
        return evaluate_columns(
            loaded,
            examples,
            pool.examples,
            configs,
            settings,
            embedder=self.embedder,
            progress=progress,
            model_name=source,
            dataset_name=f"{self.settings.dataset} test split, first {len(examples)}",
            pool_description=pool.description,
        )
