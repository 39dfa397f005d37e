"""Prompting Space: FLAN-T5's zero-, one- and few-shot summaries of a dialogue side by side, scored.

UI wiring only: the comparisons, evaluations, tables and charts come from `llmft.prompting`.
Settings come from the environment (see README.md): LLMFT_BASE_MODEL, LLMFT_DATASET, LLMFT_CONCURRENCY, ...

    python spaces/prompting/app.py            # http://127.0.0.1:7860
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

# From a checkout, `python spaces/prompting/app.py` uses the repository's package. On the Space, llmft/
# is copied next to this file (by `python -m llmft.deploy`), and the script's folder is on sys.path already.
_REPO_ROOT = Path(__file__).resolve().parents[2]
if (_REPO_ROOT / "llmft" / "__init__.py").is_file() and str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from llmft.apps.memory import limit_malloc_arenas  # noqa: E402

limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load (see the module)

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from llmft.apps.demo_note import demo_note  # noqa: E402
from llmft.apps.errors import gradio_errors, user_message  # noqa: E402
from llmft.errors import LlmftError  # noqa: E402
from llmft.faithfulness import METHOD  # noqa: E402
from llmft.feedback import FeedbackStore  # noqa: E402
from llmft.feedback.rows import comparison_fields  # noqa: E402
from llmft.prompting import (  # noqa: E402
    FIELD_LABELS,
    MAX_SHOTS,
    ROUGE_SCALE,
    Comparison,
    Evaluation,
    PromptingLab,
    PromptingSettings,
    column_configs,
    column_field_label,
    generation_settings,
)

SETTINGS = PromptingSettings.from_env()
LAB = PromptingLab(SETTINGS)  # one per process: dataset, shot pool, embedder and models are shared
COLUMNS = ("A", "B", "C")
DEFAULT_COLUMNS = {"A": (0, "first", 0), "B": (1, "first", 0), "C": (2, "similar", 0)}
STRATEGIES = [("first-k", "first"), ("random (seeded)", "random"), ("most similar (embeddings)", "similar")]
DECODINGS = [("greedy", "greedy"), ("beam search", "beam"), ("sampling", "sample")]
FEEDBACK = FeedbackStore()  # LLMFT_FEEDBACK*: votes to a local folder, pushed to a Hub dataset when one is set
DEFAULT_MODEL_NOTE = demo_note([SETTINGS.base_model])  # the embedded demo model says what it is


# The package checks every value with the control's label in its message ("B: shots must be from 0 to 5,
# not 6."). Gradio's own check runs first and says only "Value 6 is greater than maximum value 5.", so these
# controls pass values through unchecked (an instance attribute: a subclass would make Gradio write app.pyi).
def checked_by_package(component: Any) -> Any:
    component.preprocess = lambda payload: payload
    return component


def Slider(*args: Any, **kwargs: Any) -> gr.Slider:  # noqa: N802 - reads like the component it makes
    return checked_by_package(gr.Slider(*args, **kwargs))


def Radio(*args: Any, **kwargs: Any) -> gr.Radio:  # noqa: N802
    return checked_by_package(gr.Radio(*args, **kwargs))


def Number(*args: Any, **kwargs: Any) -> gr.Number:  # noqa: N802
    return checked_by_package(gr.Number(*args, **kwargs))


def _progress(progress: gr.Progress) -> Any:
    return lambda done, total, desc: progress((done, total), desc=desc)


def _refs(summaries: list[str]) -> str:
    return "\n".join(summaries)


# --- endpoint functions: their parameter names are the API's -----------------------------------------


@gradio_errors
def compare(
    dialogue: str,
    reference: str = "",
    model: str = "",
    a_shots: int = 0,
    a_strategy: str = "first",
    a_seed: int = 0,
    b_shots: int = 1,
    b_strategy: str = "first",
    b_seed: int = 0,
    c_shots: int = 2,
    c_strategy: str = "similar",
    c_seed: int = 0,
    decoding: str = "greedy",
    num_beams: int = 4,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_new_tokens: int = 200,
    seed: int = 0,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio finds the tracker by this default
) -> tuple[Any, ...]:
    """Summarise one dialogue with three prompting strategies (columns A, B, C) and score each with ROUGE.

    Returns the result as JSON (first), a table, a chart, then per column: summary, details, exact prompt;
    last, the notes (Markdown): shots dropped and why, a dialogue cut, the demo model. ROUGE: F-measure, %.
    """
    configs = column_configs(
        (a_shots, a_strategy, a_seed), (b_shots, b_strategy, b_seed), (c_shots, c_strategy, c_seed)
    )
    settings = generation_settings(decoding, num_beams, temperature, top_p, max_new_tokens, seed)
    result = LAB.compare(dialogue, reference, configs, settings, model, progress=_progress(progress))
    for warning in result.warnings:
        gr.Warning(warning)
    per_column = [value for c in result.columns for value in (c.summary, c.markdown, c.prompt)]
    table = pd.DataFrame(result.table(), columns=Comparison.TABLE_HEADERS)
    return (result.to_dict(), table, result.chart(), *per_column, result.notes_markdown())


@gradio_errors
def evaluate(
    n_dialogues: int = 10,
    model: str = "",
    a_shots: int = 0,
    a_strategy: str = "first",
    a_seed: int = 0,
    b_shots: int = 1,
    b_strategy: str = "first",
    b_seed: int = 0,
    c_shots: int = 2,
    c_strategy: str = "similar",
    c_seed: int = 0,
    decoding: str = "greedy",
    num_beams: int = 4,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_new_tokens: int = 200,
    seed: int = 0,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> tuple[Any, ...]:
    """Run columns A, B, C over the first N test dialogues: mean ROUGE per column, a chart, a CSV of every row,
    and the notes (Markdown; shots dropped and why). ROUGE: F-measure, %."""
    configs = column_configs(
        (a_shots, a_strategy, a_seed), (b_shots, b_strategy, b_seed), (c_shots, c_strategy, c_seed)
    )
    settings = generation_settings(decoding, num_beams, temperature, top_p, max_new_tokens, seed)
    result = LAB.evaluate(n_dialogues, configs, settings, model, progress=_progress(progress))
    # Gradio serves files from the system temp folder; a folder per run keeps concurrent CSVs apart.
    csv_path = result.write_csv(Path(tempfile.mkdtemp(prefix="llmft-prompting-")) / "prompting-evaluation.csv")
    for warning in result.warnings:
        gr.Warning(warning)
    table = pd.DataFrame(result.table(), columns=Evaluation.SUMMARY_HEADERS)
    return result.to_dict(), table, result.chart(), str(csv_path), result.notes_markdown()


@gradio_errors
def vote(dialogue: str, result: dict | None, best: str = "A", comment: str = "") -> str:
    """Record which column (A, B or C) of `result` (/compare's JSON) of `dialogue` is best, with an optional
    comment; returns where it went."""
    FEEDBACK.record("prompting", "best", comparison_fields(dialogue, result, best), comment)
    return f"Thanks: your vote for column {best} was recorded. {FEEDBACK.where()}"


@gradio_errors
def load_example(example_id: str = "", topic: str = "") -> tuple[str, str, str]:
    """A test dialogue by id (or the first of a topic): returns its id, the dialogue and its references."""
    example = LAB.example(example_id or "", topic or "")
    return example.id, example.dialogue, _refs(example.summaries)


@gradio_errors
def random_example(topic: str = "") -> tuple[str, str, str]:
    """A random test dialogue (of `topic`, if given): returns its id, the dialogue and its references."""
    example = LAB.example(topic=topic or "", pick_random=True)
    return example.id, example.dialogue, _refs(example.summaries)


# --- UI-only helpers ---------------------------------------------------------------------------------


def list_dataset() -> tuple[Any, Any, str]:
    """Fill the topic and id menus on page load; a dataset that cannot be loaded leaves them empty."""
    try:
        topics, choices = LAB.topics(), LAB.example_choices()
    except LlmftError as err:
        note = f"⚠️ No dataset dialogues: {user_message(err)}\n\nYou can still paste a dialogue below."
        return gr.update(choices=[]), gr.update(choices=[]), note
    note = f"{len(choices)} test dialogues from `{SETTINGS.dataset}`: pick one by topic or id, or at random."
    return gr.update(choices=topics), gr.update(choices=choices), note


@gradio_errors
def choose_topic(topic: str | None) -> tuple[Any, Any, Any]:
    """Show only the topic's dialogues in the id menu and load its first one."""
    if not topic:
        return gr.update(choices=LAB.example_choices(), value=None), gr.skip(), gr.skip()
    example = LAB.example(topic=topic)
    return gr.update(choices=LAB.example_choices(topic), value=example.id), example.dialogue, _refs(example.summaries)


def show_decoding_controls(decoding: str) -> tuple[Any, Any, Any, Any]:
    beam, sample = decoding == "beam", decoding == "sample"
    return gr.update(visible=beam), gr.update(visible=sample), gr.update(visible=sample), gr.update(visible=sample)


# --- layout ------------------------------------------------------------------------------------------

INTRO = f"""# Prompting FLAN-T5: zero-, one- and few-shot, side by side
Pick a dialogue from the DialogSum test set (or paste your own), set up to {MAX_SHOTS} solved examples (*shots*) per
column, and compare what the model writes. Each column shows the exact prompt, its token count (FLAN-T5 reads 512; what
does not fit is dropped and reported), the summary, the time and ROUGE against the reference.
"""

with gr.Blocks(title="Prompting FLAN-T5", delete_cache=(3600, 3600)) as demo:
    gr.Markdown(INTRO)
    gr.Markdown(f"ℹ️ **{DEFAULT_MODEL_NOTE}**" if DEFAULT_MODEL_NOTE else "", visible=bool(DEFAULT_MODEL_NOTE))
    with gr.Row():
        model_box = gr.Dropdown(
            SETTINGS.model_choices,
            value=SETTINGS.base_model,
            allow_custom_value=True,
            label="Model",
            info="Hub id, local folder, or LoRA adapter (its base model is loaded with it)",
            scale=2,
        )
        with gr.Accordion("Generation settings", open=False), gr.Group():
            decoding_box = Radio(DECODINGS, value="greedy", label=FIELD_LABELS["decoding"])
            beams_box = Slider(2, 8, value=4, step=1, label=FIELD_LABELS["num_beams"], visible=False)
            temperature_box = Slider(
                0.05, 2.0, value=0.7, step=0.05, label=FIELD_LABELS["temperature"], visible=False
            )
            top_p_box = Slider(0.05, 1.0, value=0.9, step=0.05, label=FIELD_LABELS["top_p"], visible=False)
            seed_box = Number(0, precision=0, label=FIELD_LABELS["seed"], visible=False)
            max_new_box = Slider(8, 512, value=200, step=8, label=FIELD_LABELS["max_new_tokens"])

    gr.Markdown("### Columns: how many shots, and how they are picked")
    column_inputs: list[gr.components.Component] = []
    with gr.Row():
        for name in COLUMNS:
            shots, strategy, seed = DEFAULT_COLUMNS[name]
            with gr.Column(variant="panel"):
                gr.Markdown(f"**Column {name}**")
                column_inputs += [
                    Slider(0, MAX_SHOTS, value=shots, step=1, label=column_field_label(name, "shots")),
                    Radio(STRATEGIES, value=strategy, label=column_field_label(name, "strategy")),
                    Number(seed, precision=0, label=column_field_label(name, "seed")),
                ]
    generation_inputs = [decoding_box, beams_box, temperature_box, top_p_box, max_new_box, seed_box]

    with gr.Tabs():
        with gr.Tab("Compare"):
            dataset_note = gr.Markdown("Loading the dataset's dialogues ...")
            with gr.Row(equal_height=True):
                # Choices arrive on page load (the dataset loads lazily); custom values let API calls name any
                # id or topic, which the package checks with a clear message.
                topic_box = gr.Dropdown([], value="", label="Topic", allow_custom_value=True, scale=2)
                example_box = gr.Dropdown([], value="", label="Test dialogue (id)", allow_custom_value=True, scale=2)
                random_button = gr.Button("Random dialogue", scale=1)
            with gr.Row():
                dialogue_box = gr.Textbox("", label="Dialogue", lines=10, max_lines=20, scale=3,
                                          placeholder="#Person1#: ...\n#Person2#: ...")
                reference_box = gr.Textbox("", label="Reference summary (one per line)", lines=10, scale=2,
                                           placeholder="Optional: without one, no ROUGE")
            compare_button = gr.Button("Compare", variant="primary")
            # Persistent, unlike the toasts: what a person must know to read the result (shots dropped, why).
            compare_notes = gr.Markdown("", elem_id="compare-notes")
            column_outputs: list[gr.components.Component] = []
            with gr.Row(equal_height=False):
                for name in COLUMNS:
                    with gr.Column():
                        column_outputs.append(
                            gr.Textbox(label=f"{name}: summary", lines=3, max_lines=8, interactive=False)
                        )
                        column_outputs.append(gr.Markdown(label=f"{name}: details"))
                        with gr.Accordion(f"{name}: exact prompt sent", open=False):
                            column_outputs.append(
                                gr.Textbox(label=f"{name}: prompt", lines=12, interactive=False, buttons=["copy"])
                            )
            gr.Markdown(f"<small>Highlighted in each column's details: {METHOD}</small>")
            if FEEDBACK.enabled:  # LLMFT_FEEDBACK=0: no vote, no word about feedback
                with gr.Row(equal_height=True):
                    best_box = Radio(list(COLUMNS), value="A", label="Which column is best?", scale=1)
                    best_comment_box = gr.Textbox(label="Comment (optional)", max_length=1000, scale=3)
                    best_button = gr.Button("Send vote", scale=1)
                best_note = gr.Markdown(FEEDBACK.where(), elem_id="compare-vote-note")
            compare_chart = gr.Plot(label=f"ROUGE per column ({ROUGE_SCALE})")
            compare_table = gr.Dataframe(label=f"Columns compared ({ROUGE_SCALE})", interactive=False)
            with gr.Accordion("Result as JSON (what the API returns first)", open=False):
                compare_json = gr.JSON(label="Result")

        with gr.Tab("Evaluate"):
            gr.Markdown(
                "Run the three columns over the first N test dialogues (best of the references per dialogue). "
                "The CSV has every prompt and prediction, and its unsupported facts. The table gives each column's "
                "share of summaries with an unsupported fact (numbers, names, negations the dialogue does not "
                "support; rules) and the paired bootstrap 95% interval of its ROUGE-L difference from the column "
                "before (2,000 seeded resamples over the dialogues; '≠ 0' when it excludes 0; under 10 dialogues "
                "it is too wide to mean much). The JSON has every pair and ROUGE type."
            )
            with gr.Row(equal_height=True):
                n_box = Slider(1, SETTINGS.max_eval_dialogues, value=min(10, SETTINGS.max_eval_dialogues), step=1,
                               label=FIELD_LABELS["n_dialogues"], scale=3)
                evaluate_button = gr.Button("Evaluate", variant="primary", scale=1)
            evaluate_notes = gr.Markdown("", elem_id="evaluate-notes")
            evaluate_table = gr.Dataframe(label=f"Mean ROUGE per column ({ROUGE_SCALE})", interactive=False)
            evaluate_chart = gr.Plot(label=f"Mean ROUGE chart ({ROUGE_SCALE})")
            evaluate_file = gr.File(label="Every prompt and prediction (CSV)")
            with gr.Accordion("Summary as JSON", open=False):
                evaluate_json = gr.JSON(label="Evaluation summary")

    # --- events: named endpoints first, then UI-only helpers ---
    compare_button.click(
        compare,
        inputs=[dialogue_box, reference_box, model_box, *column_inputs, *generation_inputs],
        outputs=[compare_json, compare_table, compare_chart, *column_outputs, compare_notes],
        api_name="compare",
        concurrency_id="model",  # /compare and /evaluate share one limit: they compete for the same CPU/GPU
        concurrency_limit=SETTINGS.concurrency,
    )
    evaluate_button.click(
        evaluate,
        inputs=[n_box, model_box, *column_inputs, *generation_inputs],
        outputs=[evaluate_json, evaluate_table, evaluate_chart, evaluate_file, evaluate_notes],
        api_name="evaluate",
        concurrency_id="model",
        concurrency_limit=SETTINGS.concurrency,
    )
    if FEEDBACK.enabled:
        best_button.click(
            vote,
            inputs=[dialogue_box, compare_json, best_box, best_comment_box],
            outputs=[best_note],
            api_name="vote",
            queue=False,  # a line in a file: never waits behind a generation
        )
    example_box.input(
        load_example,
        inputs=[example_box, topic_box],
        outputs=[example_box, dialogue_box, reference_box],
        api_name="load_example",
        queue=False,  # see LOOKUPS_OFF_THE_QUEUE
    )
    random_button.click(
        random_example,
        inputs=[topic_box],
        outputs=[example_box, dialogue_box, reference_box],
        api_name="random_example",
        queue=False,  # see LOOKUPS_OFF_THE_QUEUE
    )
    topic_box.input(
        choose_topic,
        inputs=[topic_box],
        outputs=[example_box, dialogue_box, reference_box],
        api_visibility="private",
        queue=False,
    )
    decoding_box.change(
        show_decoding_controls,
        inputs=[decoding_box],
        outputs=[beams_box, temperature_box, top_p_box, seed_box],
        api_visibility="private",
        queue=False,
    )
    demo.load(
        list_dataset,
        outputs=[topic_box, example_box, dataset_note],
        api_visibility="private",
        queue=False,
    )

# Model work waits in one queue: LLMFT_CONCURRENCY requests generate at once (default 1), LLMFT_MAX_QUEUE wait.
# LOOKUPS_OFF_THE_QUEUE: Gradio's max_size counts the waiting events of every concurrency id together, so
# dataset look-ups on the queue would be refused ("Queue is full") whenever comparisons fill it. They are
# cheap (the dataset is loaded once, then in memory), so they skip the queue (queue=False) and answer at once.
# api_open=False (Gradio's default on Spaces, not elsewhere): queued events cannot be called around the queue with a
# direct POST to /gradio_api/run/<name>; the look-ups, off the queue, can (that is how the page calls them).
demo.queue(default_concurrency_limit=SETTINGS.concurrency, max_size=SETTINGS.max_queue, api_open=False)

if __name__ == "__main__":
    # Host and port: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them when these are None).
    demo.launch(show_error=True, state_session_capacity=SETTINGS.max_sessions)  # LLMFT_MAX_SESSIONS
