"""Zero-, one- and few-shot prompting side by side, scored: the logic behind the Prompting Space.

A *column* is one prompting strategy: a number of shots (0 to 5) and a picker (first-k, random with a
seed, or most similar by sentence-transformers embeddings). One module per concern:

- `controls`: the page's inputs, checked, and their defaults (`ColumnConfig`, `column_configs`, `Decoding`, ...);
- `comparison`: one dialogue, several columns (`run_column`, `ColumnResult`, `Comparison`);
- `sweep`: every column over many dialogues (`evaluate_columns`, `Evaluation`, the CSV);
- `lab`: a server's shared state and its two jobs (`PromptingLab.compare`, `PromptingLab.evaluate`);
- `settings`: this Space's own settings (`PromptingSettings`: the shared `AppSettings` plus its own).

Nothing here imports Gradio; `spaces/prompting/app.py` only wires it to the UI.
"""

from llmft.prompting.comparison import ROUGE_LABELS, ROUGE_SCALE, ColumnResult, Comparison, run_column
from llmft.prompting.controls import (
    COLUMN_NAMES,
    DECODING_CHOICES,
    DEFAULT_COLUMNS,
    FIELD_LABELS,
    MAX_SHOTS,
    PICKER_NAMES,
    ColumnConfig,
    Decoding,
    checked_number,
    column_configs,
    column_field_label,
)
from llmft.prompting.lab import PromptingLab, ShotPool
from llmft.prompting.sweep import CSV_FIELDS, Evaluation, ProgressFn, StrategySummary, evaluate_columns
from llmft.settings import PromptingSettings

__all__ = [
    "COLUMN_NAMES",
    "CSV_FIELDS",
    "DECODING_CHOICES",
    "DEFAULT_COLUMNS",
    "FIELD_LABELS",
    "MAX_SHOTS",
    "PICKER_NAMES",
    "ROUGE_LABELS",
    "ROUGE_SCALE",
    "ColumnConfig",
    "ColumnResult",
    "Comparison",
    "Decoding",
    "Evaluation",
    "ProgressFn",
    "PromptingLab",
    "PromptingSettings",
    "ShotPool",
    "StrategySummary",
    "checked_number",
    "column_configs",
    "column_field_label",
    "evaluate_columns",
    "run_column",
]
