"""The Prompting page's endpoints (`PromptingEndpoints`) over the lab and the feedback store `app.py` made.

`/compare` and `/evaluate` take their own inputs, then every column's controls and the generation controls, flat,
as the API has always named them (`a_shots`, `a_strategy`, `a_seed`, `b_...`, `c_...`, `decoding`, `num_beams`,
`temperature`, `top_p`, `max_new_tokens`, `seed`). `with_page_controls` writes that signature once, from the
defaults in `llmft.prompting.controls` (`DEFAULT_COLUMNS`, `Decoding`), and hands the job checked column configs
and generation settings.

No `from __future__ import annotations` here: Gradio reads the endpoints' annotations as objects.
"""

import dataclasses
import typing
from collections.abc import Callable
from inspect import Parameter, Signature
from typing import Any

import gradio as gr
import pandas as pd

from llmft.apps.errors import gradio_errors, user_message
from llmft.apps.serve import download_path, progress_callback, vote_thanks
from llmft.apps.services import PromptingServices
from llmft.errors import LlmftError
from llmft.feedback.rows import comparison_fields
from llmft.models import GenerationSettings
from llmft.prompting import DEFAULT_COLUMNS, ColumnConfig, Comparison, Decoding, Evaluation, column_configs

PROGRESS = gr.Progress()  # Gradio finds the tracker by this default
COLUMN_FIELDS = {"shots": int, "strategy": str, "seed": int}  # a column's controls, in `column_configs`' order


def parameter(name: str, kind: Any, *default: Any) -> Parameter:
    return Parameter(name, Parameter.POSITIONAL_OR_KEYWORD, default=default[0] if default else Parameter.empty,
                     annotation=kind)


def control_parameters() -> list[Parameter]:
    """Each column's shots, picker and seed (`a_shots`, ...), then the generation controls, with their defaults."""
    columns = [parameter(f"{column.name.lower()}_{field}", kind, getattr(column, field))
               for column in DEFAULT_COLUMNS for field, kind in COLUMN_FIELDS.items()]
    types = typing.get_type_hints(Decoding)
    decoding = [parameter(f.name, types[f.name], f.default) for f in dataclasses.fields(Decoding)]
    return [*columns, *decoding]


Job = Callable[..., Any]  # job(*head, columns: list[ColumnConfig], settings: GenerationSettings, progress)


def with_page_controls(job: Job, head: list[Parameter]) -> Callable[..., Any]:
    """`job` as an endpoint whose parameters are `head`, the page's controls (`control_parameters`), then Gradio's
    progress tracker; it checks the controls (columns first, then decoding) before `job` runs."""
    signature = Signature([*head, *control_parameters(), parameter("progress", gr.Progress, PROGRESS)])
    decoding_fields = [f.name for f in dataclasses.fields(Decoding)]
    prefixes = [column.name.lower() for column in DEFAULT_COLUMNS]

    def endpoint(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = bound.arguments
        columns: list[ColumnConfig] = column_configs(
            *(tuple(values[f"{prefix}_{field}"] for field in COLUMN_FIELDS) for prefix in prefixes))
        settings: GenerationSettings = Decoding(**{name: values[name] for name in decoding_fields}).settings()
        return job(*(values[p.name] for p in head), columns, settings, values["progress"])

    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    endpoint.__name__ = endpoint.__qualname__ = job.__name__
    endpoint.__doc__ = job.__doc__
    return gradio_errors(endpoint)


class PromptingEndpoints:
    def __init__(self, services: PromptingServices, dataset: str):
        self.lab = services.lab
        self.feedback = services.feedback
        self.dataset = dataset
        self.compare = with_page_controls(self._compare, [parameter("dialogue", str), parameter("reference", str, ""),
                                                          parameter("model", str, "")])
        self.evaluate = with_page_controls(self._evaluate, [parameter("n_dialogues", int, 10),
                                                            parameter("model", str, "")])

    def _compare(self, dialogue: str, reference: str, model: str, columns: list[ColumnConfig],
                 settings: GenerationSettings, progress: gr.Progress) -> tuple[Any, ...]:
        """Summarise one dialogue with three prompting strategies (columns A, B, C) and score each with ROUGE.

        Returns the result as JSON (first), a table, a chart, then per column: summary, details, exact prompt;
        last, the notes (Markdown): shots dropped and why, a dialogue cut, the demo model. ROUGE: F-measure, %.
        """
        result = self.lab.compare(dialogue, reference, columns, settings, model, progress=progress_callback(progress))
        for warning in result.warnings:
            gr.Warning(warning)
        per_column = [value for c in result.columns for value in (c.summary, c.markdown, c.prompt)]
        table = pd.DataFrame(result.table(), columns=Comparison.TABLE_HEADERS)
        return (result.to_dict(), table, result.chart(), *per_column, result.notes_markdown())

    def _evaluate(self, n_dialogues: int, model: str, columns: list[ColumnConfig], settings: GenerationSettings,
                  progress: gr.Progress) -> tuple[Any, ...]:
        """Run columns A, B, C over the first N test dialogues: mean ROUGE per column, a chart, a CSV of every row,
        and the notes (Markdown; shots dropped and why). ROUGE: F-measure, %."""
        result = self.lab.evaluate(n_dialogues, columns, settings, model, progress=progress_callback(progress))
        csv_path = result.write_csv(download_path("llmft-prompting-", "prompting-evaluation.csv"))
        for warning in result.warnings:
            gr.Warning(warning)
        table = pd.DataFrame(result.table(), columns=Evaluation.SUMMARY_HEADERS)
        return result.to_dict(), table, result.chart(), str(csv_path), result.notes_markdown()

    @gradio_errors
    def vote(self, dialogue: str, result: dict | None, best: str = "A", comment: str = "") -> str:
        """Record which column (A, B or C) of `result` (/compare's JSON) of `dialogue` is best, with an optional
        comment; returns where it went."""
        self.feedback.record("prompting", "best", comparison_fields(dialogue, result, best), comment)
        return vote_thanks(self.feedback, "best", f" for column {best}")

    @gradio_errors
    def load_example(self, example_id: str = "", topic: str = "") -> tuple[str, str, str]:
        """A test dialogue by id (or the first of a topic): returns its id, the dialogue and its references."""
        example = self.lab.example(example_id or "", topic or "")
        return example.id, example.dialogue, "\n".join(example.summaries)

    @gradio_errors
    def random_example(self, topic: str = "") -> tuple[str, str, str]:
        """A random test dialogue (of `topic`, if given): returns its id, the dialogue and its references."""
        example = self.lab.example(topic=topic or "", pick_random=True)
        return example.id, example.dialogue, "\n".join(example.summaries)

    # --- the page's own helpers (no API) ---

    def list_dataset(self) -> tuple[Any, Any, str]:
        """Fill the topic and id menus on page load; a dataset that cannot be loaded leaves them empty."""
        try:
            topics, choices = self.lab.topics(), self.lab.example_choices()
        except LlmftError as err:
            note = f"⚠️ No dataset dialogues: {user_message(err)}\n\nYou can still paste a dialogue below."
            return gr.update(choices=[]), gr.update(choices=[]), note
        note = f"{len(choices)} test dialogues from `{self.dataset}`: pick one by topic or id, or at random."
        return gr.update(choices=topics), gr.update(choices=choices), note

    @gradio_errors
    def choose_topic(self, topic: str | None) -> tuple[Any, Any, Any]:
        """Show only the topic's dialogues in the id menu and load its first one."""
        if not topic:
            return gr.update(choices=self.lab.example_choices(), value=None), gr.skip(), gr.skip()
        example = self.lab.example(topic=topic)
        return (gr.update(choices=self.lab.example_choices(topic), value=example.id), example.dialogue,
                "\n".join(example.summaries))

    @staticmethod
    def show_decoding_controls(decoding: str) -> tuple[Any, Any, Any, Any]:
        beam, sample = decoding == "beam", decoding == "sample"
        return gr.update(visible=beam), gr.update(visible=sample), gr.update(visible=sample), gr.update(visible=sample)
