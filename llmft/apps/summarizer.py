"""The Summarizer Space's page: `build_app(settings, services)` lays out the model boxes, the Summarize, Batch file
and Evaluate tabs and the votes over the endpoints of `llmft.apps.summarizer_endpoints`; `launch` serves it.
`spaces/summarizer/app.py` makes the services (the summarizer, the feedback store) in its `main()`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from llmft.apps.serve import checked_by_package, dialogue_boxes, serve
from llmft.apps.services import SummarizerServices, Votes
from llmft.apps.summarizer_endpoints import SummarizerEndpoints
from llmft.settings import SummarizerSettings
from llmft.summarizing import ROUGE_SCALE

INTRO = f"""# FLAN-T5 summaries: the original, fully fine-tuned and LoRA models side by side
Summarise a DialogSum dialogue (or your own) with each model, score it with ROUGE ({ROUGE_SCALE}) against the
reference, see **why** a summary says what it says (which dialogue turns each sentence attended to), or run a whole
file or the test set. The LoRA adapters share one copy of the base model's weights and are switched per request.
"""
WHY = ("### Why this summary?\nFor one variant: the dialogue turns each summary sentence attended to (decoder "
       "cross-attention, mean over layers and heads). Attention shows where the model looked, not a proof of why it "
       "wrote something.")
EVALUATE = (
    "The first N DialogSum test dialogues through every variant: the course's comparison table. Each 'X - base' row "
    "has the paired bootstrap 95% interval of the ROUGE-L difference over the dialogues (2,000 seeded resamples; "
    "'≠ 0' when it excludes 0; under 10 dialogues it is too wide to mean much), and each variant the share of its "
    "summaries with an unsupported fact (numbers, names, negations the dialogue does not support; rules, see the "
    "Summarize tab)."
)


def build_app(settings: SummarizerSettings, services: SummarizerServices) -> gr.Blocks:
    """The Summarizer page over `services`; its variants are `services.summarizer`'s by default."""
    api = SummarizerEndpoints(services, settings.max_new_tokens, settings.dataset)
    names = [spec.name for spec in services.summarizer.specs()]
    # Model work waits in one queue: LLMFT_CONCURRENCY requests generate at once (default 1), one CPU/GPU for all.
    model_work = {"concurrency_id": "model", "concurrency_limit": settings.concurrency}
    with gr.Blocks(title="FLAN-T5 summarizer: original vs full vs LoRA", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        models_markdown = gr.Markdown("Loading the models ...")
        with gr.Accordion("Models", open=False):
            with gr.Row():
                model_boxes = [
                    gr.Textbox(settings.base_model, label="Base model (the original)", scale=2),
                    gr.Textbox(settings.full_model, label="Fully fine-tuned model", scale=2),
                    gr.Textbox(", ".join(settings.adapters), label="LoRA adapters (comma-separated)", scale=3),
                ]
            gr.Markdown("Hub ids (`owner/name`, or `owner/name@revision`) or local folders, within this Space's "
                        "allowlist.")
            models_button = gr.Button("Load these models")
            models_json = gr.JSON(label="Variants")
        with gr.Row():
            variants_box = gr.Dropdown(names, value=names, multiselect=True, allow_custom_value=True,
                                       label="Variants", scale=3)
            # The package checks these with messages that name them ("Max new tokens must be from 1 to 512, not
            # 600."), not Gradio's "Value 600 is greater than maximum value 512.": values pass through.
            max_new_box = checked_by_package(gr.Slider(1, 512, value=settings.max_new_tokens, step=1,
                                                       label="Max new tokens", scale=1))
        choice = [variants_box, *model_boxes, max_new_box]  # what every job is asked with, after its own inputs

        with gr.Tabs():
            with gr.Tab("Summarize"):
                page = _summarize_tab(names, services.feedback)
            with gr.Tab("Batch file"):
                batch = _batch_tab(settings)
            with gr.Tab("Evaluate"):
                evaluate = _evaluate_tab(settings)

        # --- events: named endpoints first, then the page's own helpers ---
        page["summarize"].click(
            api.summarize, inputs=[page["dialogue"], page["reference"], *choice],
            outputs=[page["json"], page["table"], page["comparison"], page["chart"]], api_name="summarize",
            **model_work,
        ).then(api.show_facts, inputs=[page["json"]], outputs=[page["facts"]], api_visibility="private", queue=False)
        batch["button"].click(api.summarize_batch, inputs=[batch["file"], *choice], outputs=batch["outputs"],
                              api_name="summarize_batch", **model_work)
        evaluate["button"].click(api.evaluate, inputs=[evaluate["n"], *choice], outputs=evaluate["outputs"],
                                 api_name="evaluate", **model_work)
        page["explain"].click(
            api.explain, inputs=[page["dialogue"], page["explain_variant"], page["explain_summary"], *model_boxes,
                                 max_new_box],
            outputs=[page["explain_json"], page["evidence"]], api_name="explain", **model_work,
        )
        if "vote_button" in page:
            page["vote_button"].click(
                api.vote, inputs=[page["dialogue"], page["json"], *page["vote_inputs"], max_new_box],
                outputs=[page["vote_note"]], api_name="vote",
                queue=False,  # a line in a file: never waits behind a generation
            )
        models_button.click(
            api.models, inputs=model_boxes, outputs=[models_json, models_markdown], api_name="models", **model_work
        ).then(api.variant_menus, inputs=model_boxes, outputs=[variants_box, page["explain_variant"]],
               api_visibility="private", queue=False)
        # A look-up is cheap: it skips the queue, so it never waits behind (or takes a place from) a generation.
        example_box = page["example"]
        example_box.input(api.load_example, inputs=[example_box],
                          outputs=[example_box, page["dialogue"], page["reference"]], api_name="load_example",
                          queue=False)
        demo.load(api.list_dataset, outputs=[example_box, page["dataset_note"]], api_visibility="private",
                  queue=False)
        demo.load(api.models, inputs=model_boxes, outputs=[models_json, models_markdown], api_visibility="private",
                  **model_work)
    return demo


def _summarize_tab(names: list[str], feedback: Votes) -> dict[str, Any]:
    page: dict[str, Any] = {"dataset_note": gr.Markdown("Loading the dataset's dialogues ...")}
    page["example"] = gr.Dropdown([], value="", label="Test dialogue (id)", allow_custom_value=True)
    page["dialogue"], page["reference"] = dialogue_boxes()
    page["summarize"] = gr.Button("Summarize", variant="primary")
    page["table"] = gr.Dataframe(label="Summaries", interactive=False, wrap=True)
    page["facts"] = gr.HTML(elem_id="unsupported-facts")
    if feedback.enabled:  # LLMFT_FEEDBACK=0: no vote, no word about feedback
        with gr.Row(equal_height=True):
            page["vote_inputs"] = [
                gr.Dropdown(names, value=names[0], allow_custom_value=True, label="Summary to vote on", scale=1),
                # /vote names its choices in its message: the value passes through to it.
                checked_by_package(gr.Radio([("👍 good", "up"), ("👎 bad", "down")], value="up", label="Your vote",
                                            scale=1)),
                gr.Textbox(label="Comment (optional)", max_length=1000, scale=3),
            ]
            page["vote_button"] = gr.Button("Send vote", scale=1)
        page["vote_note"] = gr.Markdown(feedback.where(), elem_id="summary-vote-note")
    with gr.Row():
        page["comparison"] = gr.Dataframe(label=f"Each variant and its improvement over the base ({ROUGE_SCALE})",
                                          interactive=False)
        page["chart"] = gr.Plot(label="ROUGE per variant")
    with gr.Accordion("Result as JSON (what the API returns first)", open=False):
        page["json"] = gr.JSON(label="Result")
    gr.Markdown(WHY)
    with gr.Row(equal_height=True):
        page["explain_variant"] = gr.Dropdown(names, value=names[0], allow_custom_value=True,
                                              label="Variant to explain", scale=1)
        page["explain_summary"] = gr.Textbox("", label="Summary to explain (empty: the variant writes its own)",
                                             scale=3)
        page["explain"] = gr.Button("Explain", scale=1)
    page["evidence"] = gr.HTML()
    with gr.Accordion("Evidence as JSON", open=False):
        page["explain_json"] = gr.JSON(label="Evidence")
    return page


def _batch_tab(settings: SummarizerSettings) -> dict[str, Any]:
    gr.Markdown(
        f"Upload a **CSV** or **JSONL** file with a `dialogue` column and, optionally, a `summary` reference "
        f"(or `summary1`, `summary2`, ...). Limits: **{settings.batch_max_bytes:,} bytes** and "
        f"**{settings.batch_max_rows:,} dialogues** per file; empty rows are skipped and counted."
    )
    file = gr.File(label="Dialogues (.csv or .jsonl)", file_types=[".csv", ".jsonl"], type="filepath")
    button = gr.Button("Summarize the file", variant="primary")
    rows = gr.Dataframe(label="Per dialogue", interactive=False, wrap=True)
    with gr.Row():
        comparison = gr.Dataframe(label=f"Mean ROUGE ({ROUGE_SCALE})", interactive=False)
        chart = gr.Plot(label="Mean ROUGE per variant")
    download = gr.File(label="Every summary and score (CSV)")
    with gr.Accordion("Summary as JSON", open=False):
        summary = gr.JSON(label="Batch summary")
    return {"file": file, "button": button, "outputs": [summary, rows, comparison, chart, download]}


def _evaluate_tab(settings: SummarizerSettings) -> dict[str, Any]:
    gr.Markdown(EVALUATE)
    with gr.Row(equal_height=True):
        n = checked_by_package(gr.Slider(1, settings.max_eval_dialogues, value=min(10, settings.max_eval_dialogues),
                                         step=1, label="N test dialogues", scale=3))
        button = gr.Button("Evaluate", variant="primary", scale=1)
    # Full width: the intervals and the share of flagged summaries are the last columns.
    comparison = gr.Dataframe(label=f"Mean ROUGE ({ROUGE_SCALE})", interactive=False)
    chart = gr.Plot(label="Mean ROUGE per variant")
    download = gr.File(label="Every summary and score (CSV)")
    with gr.Accordion("Summary as JSON", open=False):
        summary = gr.JSON(label="Evaluation summary")
    return {"n": n, "button": button, "outputs": [summary, comparison, chart, download]}


def launch(demo: gr.Blocks, settings: SummarizerSettings, **kwargs: Any) -> gr.Blocks:
    """Serve the page: LLMFT_CONCURRENCY generate at once, LLMFT_MAX_QUEUE wait, LLMFT_MAX_SESSIONS kept. Gradio's
    own upload cap is kept well above the batch limit, so a file just over it gets the package's message."""
    return serve(demo, settings, concurrency=settings.concurrency, show_error=True,
                 max_file_size=10 * settings.batch_max_bytes, **kwargs)
