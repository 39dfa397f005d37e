"""The Summarizer page's endpoints (`SummarizerEndpoints`): methods over the summarizer and the feedback store
`app.py` made, whose parameter names are the API's (`/summarize`, `/summarize_batch`, `/evaluate`, `/explain`,
`/models`, `/load_example`, `/vote`); `llmft.apps.summarizer` lays them out. `max_new_tokens=None`: the Space's
own (LLMFT_SUMMARY_TOKENS); the model boxes' None: the Space's models.

No `from __future__ import annotations` here: Gradio reads the endpoints' annotations as objects.
"""

from typing import Any

import gradio as gr
import pandas as pd

from llmft.apps.errors import gradio_errors, user_message
from llmft.apps.serve import download_path, progress_callback, vote_thanks
from llmft.apps.services import SummarizerServices
from llmft.errors import LlmftError
from llmft.faithfulness import METHOD
from llmft.faithfulness.render import summaries_html
from llmft.feedback.rows import summary_fields
from llmft.summarizing import evidence_html
from llmft.summarizing.results import COMPARISON_HEADERS, SingleResult, models_note

PROGRESS = gr.Progress()  # Gradio finds the tracker by this default


class SummarizerEndpoints:
    def __init__(self, services: SummarizerServices, max_new_tokens: int, dataset: str):
        self.summarizer = services.summarizer
        self.feedback = services.feedback
        self.max_new_tokens = max_new_tokens  # the Space's own, for a vote that names none
        self.dataset = dataset

    def specs(self, base_model: str | None, full_model: str | None, adapters: str | None) -> Any:
        """The variants for this request: the model boxes as sent (None: the Space's default)."""
        return self.summarizer.specs(base_model or "", full_model, adapters)

    @gradio_errors
    def summarize(self, dialogue: str, reference: str = "", variants: list[str] | None = None,
                  base_model: str | None = None, full_model: str | None = None, adapters: str | None = None,
                  max_new_tokens: int | None = None, progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
        """Summarise one dialogue with each chosen variant (empty: all): JSON, summaries table, course table,
        chart."""
        specs = self.specs(base_model, full_model, adapters)
        result = self.summarizer.summarize(dialogue, reference, specs, variants, max_new_tokens,
                                           progress_callback(progress))
        for warning in result.warnings:
            gr.Warning(warning)
        summaries = pd.DataFrame(result.table(), columns=SingleResult.TABLE_HEADERS)
        comparison = pd.DataFrame(result.comparison(), columns=COMPARISON_HEADERS)
        return result.to_dict(), summaries, comparison, result.chart()

    @gradio_errors
    def summarize_batch(self, file: str, variants: list[str] | None = None, base_model: str | None = None,
                        full_model: str | None = None, adapters: str | None = None, max_new_tokens: int | None = None,
                        progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
        """A CSV/JSONL file (column `dialogue`, optional `summary`) through each variant: JSON, rows, course table,
        chart, CSV download."""
        if not file:
            raise gr.Error("Upload a .csv or .jsonl file with a 'dialogue' column first.", print_exception=False)
        specs = self.specs(base_model, full_model, adapters)
        result = self.summarizer.summarize_file(file, specs, variants, max_new_tokens, progress_callback(progress))
        for note in result.notes:
            gr.Info(note)
        rows = pd.DataFrame(result.row_table(), columns=result.row_headers)
        comparison = pd.DataFrame(result.comparison(), columns=COMPARISON_HEADERS)
        csv_path = result.write_csv(download_path("llmft-summarizer-", "summaries.csv"))
        return result.to_dict(), rows, comparison, result.chart(), str(csv_path)

    @gradio_errors
    def evaluate(self, n_dialogues: int = 10, variants: list[str] | None = None, base_model: str | None = None,
                 full_model: str | None = None, adapters: str | None = None, max_new_tokens: int | None = None,
                 progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
        """The first N test dialogues through each variant: JSON, the course's comparison table, chart, CSV."""
        specs = self.specs(base_model, full_model, adapters)
        result = self.summarizer.evaluate(n_dialogues, specs, variants, max_new_tokens, progress_callback(progress))
        for note in result.notes:
            gr.Info(note)
        comparison = pd.DataFrame(result.comparison(), columns=COMPARISON_HEADERS)
        csv_path = result.write_csv(download_path("llmft-summarizer-", "evaluation.csv"))
        return result.to_dict(), comparison, result.chart(), str(csv_path)

    @gradio_errors
    def explain(self, dialogue: str, variant: str = "base", summary: str = "", base_model: str | None = None,
                full_model: str | None = None, adapters: str | None = None,
                max_new_tokens: int | None = None) -> tuple[Any, str]:
        """Which dialogue turns each sentence of `variant`'s summary drew on (cross-attention): JSON and HTML.
        `summary` empty: the variant writes its own; else that text is explained."""
        specs = self.specs(base_model, full_model, adapters)
        explanation = self.summarizer.explain(dialogue, variant, specs, summary, max_new_tokens)
        return explanation.to_dict(), evidence_html(explanation)

    @gradio_errors
    def models(self, base_model: str | None = None, full_model: str | None = None,
               adapters: str | None = None) -> tuple[Any, str]:
        """Load the variants: JSON with, per variant, its source, base, availability (or why not) and the id of its
        base weights in memory, and how many bases were ever loaded; then a note for the page."""
        rows = self.summarizer.status(self.specs(base_model, full_model, adapters))
        return {"variants": rows, "bases_loaded": self.summarizer.models.base_loads}, models_note(rows)

    @gradio_errors
    def load_example(self, example_id: str = "") -> tuple[str, str, str]:
        """A test dialogue by id: returns its id, the dialogue and its references (one per line)."""
        example = self.summarizer.examples.get(example_id or "")
        return example.id, example.dialogue, "\n".join(example.summaries)

    @gradio_errors
    def vote(self, dialogue: str, result: dict | None, variant: str = "base", vote: str = "up", comment: str = "",
             max_new_tokens: int | None = None) -> str:
        """Record a vote ("up" or "down") on one variant's summary in `result` (/summarize's JSON) of `dialogue`,
        with an optional comment; returns where it went."""
        tokens = self.max_new_tokens if max_new_tokens is None else max_new_tokens
        self.feedback.record("summarizer", vote, summary_fields(dialogue, result, variant, tokens), comment)
        return vote_thanks(self.feedback, vote, f" on {variant}")

    # --- the page's own helpers (no API) ---

    def show_facts(self, result: dict | None) -> str:
        """Each variant's summary with its unsupported facts marked (from /summarize's JSON)."""
        rows = [(r["variant"], r["summary"] or "", r.get("faithfulness")) for r in (result or {}).get("results", [])]
        return summaries_html(rows, METHOD)

    def list_dataset(self) -> tuple[Any, str]:
        """Fill the example menu on page load; a dataset that cannot be loaded leaves it empty and says why."""
        try:
            choices = self.summarizer.examples.choices()
        except LlmftError as err:
            return gr.update(choices=[]), f"⚠️ No dataset dialogues: {user_message(err)} You can still paste one."
        return gr.update(choices=choices), f"{len(choices)} test dialogues from `{self.dataset}`: pick one by id."

    def variant_menus(self, base_model: str, full_model: str, adapters: str) -> tuple[Any, Any]:
        """After the model boxes change: the variant menus offer the new names."""
        try:
            names = [spec.name for spec in self.specs(base_model, full_model, adapters)]
        except LlmftError:
            return gr.skip(), gr.skip()
        return gr.update(choices=names, value=names), gr.update(choices=names, value=names[0])
