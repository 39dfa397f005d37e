"""Summarizer Space: the base, fully fine-tuned and LoRA FLAN-T5 side by side, scored with ROUGE, and why.

UI wiring only: variants, batch files, evaluation, ROUGE, tables, charts and the cross-attention
evidence come from `llmft.summarizing`. Settings come from the environment (see README.md):
LLMFT_SUMMARIZER_BASE, LLMFT_FULL_MODEL, LLMFT_LORA_ADAPTERS, LLMFT_DATASET, LLMFT_CONCURRENCY, ...

    python spaces/summarizer/app.py            # http://127.0.0.1:7860 (scripts/run.sh serves it on 7861)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

# From a checkout, `python spaces/summarizer/app.py` uses the repository's package. On the Space, llmft/
# is copied next to this file (by `python -m llmft.deploy`), and the script's folder is on sys.path already.
_REPO_ROOT = Path(__file__).resolve().parents[2]
if (_REPO_ROOT / "llmft" / "__init__.py").is_file() and str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from llmft.apps.memory import limit_malloc_arenas  # noqa: E402

limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load (see the module)

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from llmft.apps.errors import gradio_errors, user_message  # noqa: E402
from llmft.errors import LlmftError  # noqa: E402
from llmft.faithfulness import METHOD  # noqa: E402
from llmft.faithfulness.render import summaries_html  # noqa: E402
from llmft.feedback import FeedbackStore  # noqa: E402
from llmft.feedback.rows import summary_fields  # noqa: E402
from llmft.summarizing import ROUGE_SCALE, Summarizer, SummarizerSettings, evidence_html  # noqa: E402
from llmft.summarizing.results import COMPARISON_HEADERS, SingleResult, models_note  # noqa: E402

SETTINGS = SummarizerSettings.from_env()
SUMMARIZER = Summarizer(SETTINGS)  # one per process: the shared base, adapters, full model and dataset
DEFAULT_SPECS = SUMMARIZER.specs()
VARIANT_NAMES = [spec.name for spec in DEFAULT_SPECS]
FEEDBACK = FeedbackStore()  # LLMFT_FEEDBACK*: votes to a local folder, pushed to a Hub dataset when one is set


def _progress(progress: gr.Progress) -> Any:
    return lambda done, total, desc: progress((done, total), desc=desc)


def _specs(base_model: str | None, full_model: str | None, adapters: str | None) -> Any:
    """The variants for this request: the model boxes as sent (None: the Space's default)."""
    return SUMMARIZER.specs(base_model or "", full_model, adapters)


def _download_path(name: str) -> Path:
    # Gradio serves files from the system temp folder; a folder per request keeps concurrent files apart.
    return Path(tempfile.mkdtemp(prefix="llmft-summarizer-")) / name


# --- endpoint functions: their parameter names are the API's -----------------------------------------


@gradio_errors
def summarize(
    dialogue: str,
    reference: str = "",
    variants: list[str] | None = None,
    base_model: str | None = None,
    full_model: str | None = None,
    adapters: str | None = None,
    max_new_tokens: int = SETTINGS.max_new_tokens,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio finds the tracker by this default
) -> tuple[Any, ...]:
    """Summarise one dialogue with each chosen variant (empty: all): JSON, summaries table, course table, chart."""
    result = SUMMARIZER.summarize(
        dialogue, reference, _specs(base_model, full_model, adapters), variants, max_new_tokens, _progress(progress)
    )
    for warning in result.warnings:
        gr.Warning(warning)
    summaries = pd.DataFrame(result.table(), columns=SingleResult.TABLE_HEADERS)
    comparison = pd.DataFrame(result.comparison(), columns=COMPARISON_HEADERS)
    return result.to_dict(), summaries, comparison, result.chart()


@gradio_errors
def summarize_batch(
    file: str,
    variants: list[str] | None = None,
    base_model: str | None = None,
    full_model: str | None = None,
    adapters: str | None = None,
    max_new_tokens: int = SETTINGS.max_new_tokens,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> tuple[Any, ...]:
    """A CSV/JSONL file (column `dialogue`, optional `summary`) through each variant: JSON, rows, course table,
    chart, CSV download."""
    if not file:
        raise gr.Error("Upload a .csv or .jsonl file with a 'dialogue' column first.", print_exception=False)
    result = SUMMARIZER.summarize_file(
        file, _specs(base_model, full_model, adapters), variants, max_new_tokens, _progress(progress)
    )
    for note in result.notes:
        gr.Info(note)
    rows = pd.DataFrame(result.row_table(), columns=result.row_headers)
    comparison = pd.DataFrame(result.comparison(), columns=COMPARISON_HEADERS)
    csv_path = result.write_csv(_download_path("summaries.csv"))
    return result.to_dict(), rows, comparison, result.chart(), str(csv_path)


@gradio_errors
def evaluate(
    n_dialogues: int = 10,
    variants: list[str] | None = None,
    base_model: str | None = None,
    full_model: str | None = None,
    adapters: str | None = None,
    max_new_tokens: int = SETTINGS.max_new_tokens,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> tuple[Any, ...]:
    """The first N test dialogues through each variant: JSON, the course's comparison table, chart, CSV."""
    result = SUMMARIZER.evaluate(
        n_dialogues, _specs(base_model, full_model, adapters), variants, max_new_tokens, _progress(progress)
    )
    for note in result.notes:
        gr.Info(note)
    comparison = pd.DataFrame(result.comparison(), columns=COMPARISON_HEADERS)
    csv_path = result.write_csv(_download_path("evaluation.csv"))
    return result.to_dict(), comparison, result.chart(), str(csv_path)


@gradio_errors
def explain(
    dialogue: str,
    variant: str = "base",
    summary: str = "",
    base_model: str | None = None,
    full_model: str | None = None,
    adapters: str | None = None,
    max_new_tokens: int = SETTINGS.max_new_tokens,
) -> tuple[Any, str]:
    """Which dialogue turns each sentence of `variant`'s summary drew on (cross-attention): JSON and HTML.
    `summary` empty: the variant writes its own; else that text is explained."""
    explanation = SUMMARIZER.explain(
        dialogue, variant, _specs(base_model, full_model, adapters), summary, max_new_tokens
    )
    return explanation.to_dict(), evidence_html(explanation)


@gradio_errors
def models(base_model: str | None = None, full_model: str | None = None, adapters: str | None = None) -> tuple:
    """Load the variants: JSON with, per variant, its source, base, availability (or why not) and the id of its
    base weights in memory, and how many bases were ever loaded; then a note for the page."""
    rows = SUMMARIZER.status(_specs(base_model, full_model, adapters))
    return {"variants": rows, "bases_loaded": SUMMARIZER.models.base_loads}, models_note(rows)


@gradio_errors
def load_example(example_id: str = "") -> tuple[str, str, str]:
    """A test dialogue by id: returns its id, the dialogue and its references (one per line)."""
    example = SUMMARIZER.examples.get(example_id or "")
    return example.id, example.dialogue, "\n".join(example.summaries)


@gradio_errors
def vote(
    dialogue: str,
    result: dict | None,
    variant: str = "base",
    vote: str = "up",
    comment: str = "",
    max_new_tokens: int = SETTINGS.max_new_tokens,
) -> str:
    """Record a vote ("up" or "down") on one variant's summary in `result` (/summarize's JSON) of `dialogue`, with
    an optional comment; returns where it went."""
    if vote not in ("up", "down"):
        raise gr.Error(f"A vote on a summary is 'up' or 'down', not {str(vote)[:40]!r}.", print_exception=False)
    FEEDBACK.record("summarizer", vote, summary_fields(dialogue, result, variant, max_new_tokens), comment)
    return f"Thanks: your {'👍' if vote == 'up' else '👎'} on {variant} was recorded. {FEEDBACK.where()}"


# --- UI-only helpers ---------------------------------------------------------------------------------


def show_facts(result: dict | None) -> str:
    """Each variant's summary with its unsupported facts marked (from /summarize's JSON)."""
    rows = [(r["variant"], r["summary"] or "", r.get("faithfulness")) for r in (result or {}).get("results", [])]
    return summaries_html(rows, METHOD)



def list_dataset() -> tuple[Any, str]:
    """Fill the example menu on page load; a dataset that cannot be loaded leaves it empty and says why."""
    try:
        choices = SUMMARIZER.examples.choices()
    except LlmftError as err:
        return gr.update(choices=[]), f"⚠️ No dataset dialogues: {user_message(err)} You can still paste one."
    return gr.update(choices=choices), f"{len(choices)} test dialogues from `{SETTINGS.dataset}`: pick one by id."


def variant_menus(base_model: str, full_model: str, adapters: str) -> tuple[Any, Any]:
    """After the model boxes change: the variant menus offer the new names."""
    try:
        names = [spec.name for spec in _specs(base_model, full_model, adapters)]
    except LlmftError:
        return gr.skip(), gr.skip()
    return gr.update(choices=names, value=names), gr.update(choices=names, value=names[0])


# --- layout ------------------------------------------------------------------------------------------

INTRO = f"""# FLAN-T5 summaries: the original, fully fine-tuned and LoRA models side by side
Summarise a DialogSum dialogue (or your own) with each model, score it with ROUGE ({ROUGE_SCALE}) against the
reference, see **why** a summary says what it says (which dialogue turns each sentence attended to), or run a whole
file or the test set. The LoRA adapters share one copy of the base model's weights and are switched per request.
"""

with gr.Blocks(title="FLAN-T5 summarizer: original vs full vs LoRA", delete_cache=(3600, 3600)) as demo:
    gr.Markdown(INTRO)
    models_markdown = gr.Markdown("Loading the models ...")
    with gr.Accordion("Models", open=False):
        with gr.Row():
            base_box = gr.Textbox(SETTINGS.base_model, label="Base model (the original)", scale=2)
            full_box = gr.Textbox(SETTINGS.full_model, label="Fully fine-tuned model", scale=2)
            adapters_box = gr.Textbox(", ".join(SETTINGS.adapters), label="LoRA adapters (comma-separated)", scale=3)
        gr.Markdown("Hub ids (`owner/name`, or `owner/name@revision`) or local folders, within this Space's allowlist.")
        models_button = gr.Button("Load these models")
        models_json = gr.JSON(label="Variants")
    model_boxes = [base_box, full_box, adapters_box]
    with gr.Row():
        variants_box = gr.Dropdown(VARIANT_NAMES, value=VARIANT_NAMES, multiselect=True, allow_custom_value=True,
                                   label="Variants", scale=3)
        max_new_box = gr.Slider(1, 512, value=SETTINGS.max_new_tokens, step=1, label="Max new tokens", scale=1)

    with gr.Tabs():
        with gr.Tab("Summarize"):
            dataset_note = gr.Markdown("Loading the dataset's dialogues ...")
            example_box = gr.Dropdown([], value="", label="Test dialogue (id)", allow_custom_value=True)
            with gr.Row():
                dialogue_box = gr.Textbox("", label="Dialogue", lines=10, max_lines=20, scale=3,
                                          placeholder="#Person1#: ...\n#Person2#: ...")
                reference_box = gr.Textbox("", label="Reference summary (one per line)", lines=10, scale=2,
                                           placeholder="Optional: without one, no ROUGE")
            summarize_button = gr.Button("Summarize", variant="primary")
            summaries_table = gr.Dataframe(label="Summaries", interactive=False, wrap=True)
            facts_view = gr.HTML(elem_id="unsupported-facts")
            if FEEDBACK.enabled:  # LLMFT_FEEDBACK=0: no vote, no word about feedback
                with gr.Row(equal_height=True):
                    vote_variant_box = gr.Dropdown(VARIANT_NAMES, value=VARIANT_NAMES[0], allow_custom_value=True,
                                                   label="Summary to vote on", scale=1)
                    vote_box = gr.Radio([("👍 good", "up"), ("👎 bad", "down")], value="up", label="Your vote",
                                        scale=1)
                    vote_comment_box = gr.Textbox(label="Comment (optional)", max_length=1000, scale=3)
                    vote_button = gr.Button("Send vote", scale=1)
                vote_note = gr.Markdown(FEEDBACK.where(), elem_id="summary-vote-note")
            with gr.Row():
                comparison_table = gr.Dataframe(label=f"Each variant and its improvement over the base ({ROUGE_SCALE})",
                                                interactive=False)
                summary_chart = gr.Plot(label="ROUGE per variant")
            with gr.Accordion("Result as JSON (what the API returns first)", open=False):
                summary_json = gr.JSON(label="Result")
            gr.Markdown(
                "### Why this summary?\nFor one variant: the dialogue turns each summary sentence attended to "
                "(decoder cross-attention, mean over layers and heads). Attention shows where the model looked, "
                "not a proof of why it wrote something."
            )
            with gr.Row(equal_height=True):
                explain_variant_box = gr.Dropdown(VARIANT_NAMES, value=VARIANT_NAMES[0], allow_custom_value=True,
                                                  label="Variant to explain", scale=1)
                explain_summary_box = gr.Textbox("", label="Summary to explain (empty: the variant writes its own)",
                                                 scale=3)
                explain_button = gr.Button("Explain", scale=1)
            evidence_view = gr.HTML()
            with gr.Accordion("Evidence as JSON", open=False):
                explain_json = gr.JSON(label="Evidence")

        with gr.Tab("Batch file"):
            gr.Markdown(
                f"Upload a **CSV** or **JSONL** file with a `dialogue` column and, optionally, a `summary` reference "
                f"(or `summary1`, `summary2`, ...). Limits: **{SETTINGS.batch_max_bytes:,} bytes** and "
                f"**{SETTINGS.batch_max_rows:,} dialogues** per file; empty rows are skipped and counted."
            )
            batch_file = gr.File(label="Dialogues (.csv or .jsonl)", file_types=[".csv", ".jsonl"], type="filepath")
            batch_button = gr.Button("Summarize the file", variant="primary")
            batch_rows = gr.Dataframe(label="Per dialogue", interactive=False, wrap=True)
            with gr.Row():
                batch_comparison = gr.Dataframe(label=f"Mean ROUGE ({ROUGE_SCALE})", interactive=False)
                batch_chart = gr.Plot(label="Mean ROUGE per variant")
            batch_download = gr.File(label="Every summary and score (CSV)")
            with gr.Accordion("Summary as JSON", open=False):
                batch_json = gr.JSON(label="Batch summary")

        with gr.Tab("Evaluate"):
            gr.Markdown(
                "The first N DialogSum test dialogues through every variant: the course's comparison table. Each "
                "'X - base' row has the paired bootstrap 95% interval of the ROUGE-L difference over the dialogues "
                "(2,000 seeded resamples; '≠ 0' when it excludes 0; under 10 dialogues it is too wide to mean much), "
                "and each variant the share of its summaries with an unsupported fact (numbers, names, negations "
                "the dialogue does not support; rules, see the Summarize tab)."
            )
            with gr.Row(equal_height=True):
                n_box = gr.Slider(1, SETTINGS.max_eval_dialogues, value=min(10, SETTINGS.max_eval_dialogues), step=1,
                                  label="N test dialogues", scale=3)
                evaluate_button = gr.Button("Evaluate", variant="primary", scale=1)
            # Full width: the intervals and the share of flagged summaries are the last columns.
            evaluate_comparison = gr.Dataframe(label=f"Mean ROUGE ({ROUGE_SCALE})", interactive=False)
            evaluate_chart = gr.Plot(label="Mean ROUGE per variant")
            evaluate_download = gr.File(label="Every summary and score (CSV)")
            with gr.Accordion("Summary as JSON", open=False):
                evaluate_json = gr.JSON(label="Evaluation summary")

    # The package checks these with messages that name them ("Max new tokens must be from 1 to 512, not 600.");
    # Gradio's own check would answer first with "Value 600 is greater than maximum value 512.", so they pass through.
    for box in (max_new_box, n_box, *([vote_box] if FEEDBACK.enabled else [])):  # /vote names its choices too
        box.preprocess = lambda payload: payload

    # --- events: named endpoints first, then UI-only helpers ---
    model_work = {"concurrency_id": "model", "concurrency_limit": SETTINGS.concurrency}  # one CPU/GPU for all
    summarize_button.click(
        summarize,
        inputs=[dialogue_box, reference_box, variants_box, *model_boxes, max_new_box],
        outputs=[summary_json, summaries_table, comparison_table, summary_chart],
        api_name="summarize",
        **model_work,
    ).then(show_facts, inputs=[summary_json], outputs=[facts_view], api_visibility="private", queue=False)
    batch_button.click(
        summarize_batch,
        inputs=[batch_file, variants_box, *model_boxes, max_new_box],
        outputs=[batch_json, batch_rows, batch_comparison, batch_chart, batch_download],
        api_name="summarize_batch",
        **model_work,
    )
    evaluate_button.click(
        evaluate,
        inputs=[n_box, variants_box, *model_boxes, max_new_box],
        outputs=[evaluate_json, evaluate_comparison, evaluate_chart, evaluate_download],
        api_name="evaluate",
        **model_work,
    )
    explain_button.click(
        explain,
        inputs=[dialogue_box, explain_variant_box, explain_summary_box, *model_boxes, max_new_box],
        outputs=[explain_json, evidence_view],
        api_name="explain",
        **model_work,
    )
    if FEEDBACK.enabled:
        vote_button.click(
            vote,
            inputs=[dialogue_box, summary_json, vote_variant_box, vote_box, vote_comment_box, max_new_box],
            outputs=[vote_note],
            api_name="vote",
            queue=False,  # a line in a file: never waits behind a generation
        )
    models_button.click(
        models, inputs=model_boxes, outputs=[models_json, models_markdown], api_name="models", **model_work
    ).then(
        variant_menus, inputs=model_boxes, outputs=[variants_box, explain_variant_box], api_visibility="private",
        queue=False,
    )
    # A look-up is cheap: it skips the queue, so it never waits behind (or takes a place from) a generation.
    example_box.input(
        load_example,
        inputs=[example_box],
        outputs=[example_box, dialogue_box, reference_box],
        api_name="load_example",
        queue=False,
    )
    demo.load(list_dataset, outputs=[example_box, dataset_note], api_visibility="private", queue=False)
    demo.load(models, inputs=model_boxes, outputs=[models_json, models_markdown], api_visibility="private",
              **model_work)

# Model work waits in one queue: LLMFT_CONCURRENCY requests generate at once (default 1), LLMFT_MAX_QUEUE wait.
demo.queue(default_concurrency_limit=SETTINGS.concurrency, max_size=SETTINGS.max_queue)

if __name__ == "__main__":
    # Host and port: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT. Gradio's own upload cap is kept well above the
    # batch limit, so a file just over the limit gets the package's message naming it.
    demo.launch(show_error=True, max_file_size=10 * SETTINGS.batch_max_bytes,
                state_session_capacity=SETTINGS.max_sessions)  # LLMFT_MAX_SESSIONS
