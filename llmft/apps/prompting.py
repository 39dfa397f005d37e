"""The Prompting Space's page: `build_app(settings, services)` lays out the model menu, the generation settings, the
three columns and the Compare and Evaluate tabs over the endpoints of `llmft.apps.prompting_endpoints`; `launch`
serves it. The controls' first values are the endpoints' defaults (`llmft.prompting.controls`: `DEFAULT_COLUMNS`,
`Decoding`). `spaces/prompting/app.py` makes the services (the lab, the feedback store) in its `main()`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from llmft.apps.demo_note import demo_note
from llmft.apps.prompting_endpoints import PromptingEndpoints
from llmft.apps.serve import checked_by_package, dialogue_boxes, serve
from llmft.apps.services import PromptingServices, Votes
from llmft.faithfulness import METHOD
from llmft.prompting import (
    DEFAULT_COLUMNS,
    FIELD_LABELS,
    MAX_SHOTS,
    ROUGE_SCALE,
    ColumnConfig,
    Decoding,
    column_field_label,
)
from llmft.settings import PromptingSettings

STRATEGIES = [("first-k", "first"), ("random (seeded)", "random"), ("most similar (embeddings)", "similar")]
DECODINGS = [("greedy", "greedy"), ("beam search", "beam"), ("sampling", "sample")]
INTRO = f"""# Prompting FLAN-T5: zero-, one- and few-shot, side by side
Pick a dialogue from the DialogSum test set (or paste your own), set up to {MAX_SHOTS} solved examples (*shots*) per
column, and compare what the model writes. Each column shows the exact prompt, its token count (FLAN-T5 reads 512; what
does not fit is dropped and reported), the summary, the time and ROUGE against the reference.
"""
EVALUATE = (
    "Run the three columns over the first N test dialogues (best of the references per dialogue). The CSV has every "
    "prompt and prediction, and its unsupported facts. The table gives each column's share of summaries with an "
    "unsupported fact (numbers, names, negations the dialogue does not support; rules) and the paired bootstrap 95% "
    "interval of its ROUGE-L difference from the column before (2,000 seeded resamples over the dialogues; '≠ 0' "
    "when it excludes 0; under 10 dialogues it is too wide to mean much). The JSON has every pair and ROUGE type."
)


def build_app(settings: PromptingSettings, services: PromptingServices) -> gr.Blocks:
    """The Prompting page over `services`; a vote on the best column when feedback is on."""
    api = PromptingEndpoints(services, settings.dataset)
    note = demo_note([settings.base_model])  # the embedded demo model says what it is
    # /compare and /evaluate share one limit: they compete for the same CPU/GPU.
    model_work = {"concurrency_id": "model", "concurrency_limit": settings.concurrency}
    with gr.Blocks(title="Prompting FLAN-T5", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        gr.Markdown(f"ℹ️ **{note}**" if note else "", visible=bool(note))
        with gr.Row():
            model_box = gr.Dropdown(settings.model_choices, value=settings.base_model, allow_custom_value=True,
                                    label="Model", info="Hub id, local folder, or LoRA adapter (its base model is "
                                    "loaded with it)", scale=2)
            with gr.Accordion("Generation settings", open=False), gr.Group():
                generation_boxes = _generation_controls()
        gr.Markdown("### Columns: how many shots, and how they are picked")
        with gr.Row():
            column_inputs = [box for column in DEFAULT_COLUMNS for box in _column_controls(column)]
        decoding_box, beams_box, temperature_box, top_p_box, _, seed_box = generation_boxes  # Decoding's order
        controls = [*column_inputs, *generation_boxes]  # the endpoints' order

        with gr.Tabs():
            with gr.Tab("Compare"):
                page = _compare_tab(services.feedback)
            with gr.Tab("Evaluate"):
                gr.Markdown(EVALUATE)
                with gr.Row(equal_height=True):
                    n_box = checked_by_package(gr.Slider(1, settings.max_eval_dialogues, step=1, scale=3,
                                                         value=min(10, settings.max_eval_dialogues),
                                                         label=FIELD_LABELS["n_dialogues"]))
                    evaluate_button = gr.Button("Evaluate", variant="primary", scale=1)
                evaluate_notes = gr.Markdown("", elem_id="evaluate-notes")
                evaluate_outputs = [
                    gr.Dataframe(label=f"Mean ROUGE per column ({ROUGE_SCALE})", interactive=False),
                    gr.Plot(label=f"Mean ROUGE chart ({ROUGE_SCALE})"),
                    gr.File(label="Every prompt and prediction (CSV)"),
                ]
                with gr.Accordion("Summary as JSON", open=False):
                    evaluate_json = gr.JSON(label="Evaluation summary")

        # --- events: named endpoints first, then the page's own helpers ---
        page["compare"].click(
            api.compare, inputs=[page["dialogue"], page["reference"], model_box, *controls],
            outputs=[page["json"], page["table"], page["chart"], *page["columns"], page["notes"]],
            api_name="compare", **model_work,
        )
        evaluate_button.click(api.evaluate, inputs=[n_box, model_box, *controls],
                              outputs=[evaluate_json, *evaluate_outputs, evaluate_notes], api_name="evaluate",
                              **model_work)
        if "vote" in page:
            page["vote"].click(api.vote, inputs=[page["dialogue"], page["json"], *page["vote_inputs"]],
                               outputs=[page["vote_note"]], api_name="vote",
                               queue=False)  # a line in a file: never waits behind a generation
        example = [page["example"], page["dialogue"], page["reference"]]
        page["example"].input(api.load_example, inputs=[page["example"], page["topic"]], outputs=example,
                              api_name="load_example", queue=False)  # see LOOKUPS_OFF_THE_QUEUE
        page["random"].click(api.random_example, inputs=[page["topic"]], outputs=example, api_name="random_example",
                             queue=False)  # see LOOKUPS_OFF_THE_QUEUE
        page["topic"].input(api.choose_topic, inputs=[page["topic"]], outputs=example, api_visibility="private",
                            queue=False)
        decoding_box.change(api.show_decoding_controls, inputs=[decoding_box],
                            outputs=[beams_box, temperature_box, top_p_box, seed_box], api_visibility="private",
                            queue=False)
        demo.load(api.list_dataset, outputs=[page["topic"], page["example"], page["dataset_note"]],
                  api_visibility="private", queue=False)
    return demo


# Every control of the columns and the generation settings lets its value through (`checked_by_package`): the
# package checks it with the control's label in its message ("B: shots must be from 0 to 5, not 6."), where
# Gradio would only say "Value 6 is greater than maximum value 5.".


def _generation_controls() -> list[Any]:
    """Decoding, beams, temperature, top-p, max new tokens, seed (Decoding's order), at Decoding's defaults."""
    first, labels = Decoding(), FIELD_LABELS
    controls = [
        gr.Radio(DECODINGS, value=first.decoding, label=labels["decoding"]),
        gr.Slider(2, 8, value=first.num_beams, step=1, label=labels["num_beams"], visible=False),
        gr.Slider(0.05, 2.0, value=first.temperature, step=0.05, label=labels["temperature"], visible=False),
        gr.Slider(0.05, 1.0, value=first.top_p, step=0.05, label=labels["top_p"], visible=False),
        gr.Slider(8, 512, value=first.max_new_tokens, step=8, label=labels["max_new_tokens"]),
        gr.Number(first.seed, precision=0, label=labels["seed"], visible=False),
    ]
    return [checked_by_package(control) for control in controls]


def _column_controls(column: ColumnConfig) -> list[Any]:
    """A column's shots, picker and seed, at its defaults."""
    with gr.Column(variant="panel"):
        gr.Markdown(f"**Column {column.name}**")
        controls = [
            gr.Slider(0, MAX_SHOTS, value=column.shots, step=1, label=column_field_label(column.name, "shots")),
            gr.Radio(STRATEGIES, value=column.strategy, label=column_field_label(column.name, "strategy")),
            gr.Number(column.seed, precision=0, label=column_field_label(column.name, "seed")),
        ]
    return [checked_by_package(control) for control in controls]


def _compare_tab(feedback: Votes) -> dict[str, Any]:
    page: dict[str, Any] = {"dataset_note": gr.Markdown("Loading the dataset's dialogues ...")}
    with gr.Row(equal_height=True):
        # Choices arrive on page load (the dataset loads lazily); custom values let API calls name any id or topic,
        # which the package checks with a clear message.
        page["topic"] = gr.Dropdown([], value="", label="Topic", allow_custom_value=True, scale=2)
        page["example"] = gr.Dropdown([], value="", label="Test dialogue (id)", allow_custom_value=True, scale=2)
        page["random"] = gr.Button("Random dialogue", scale=1)
    page["dialogue"], page["reference"] = dialogue_boxes()
    page["compare"] = gr.Button("Compare", variant="primary")
    # Persistent, unlike the toasts: what a person must know to read the result (shots dropped, why).
    page["notes"] = gr.Markdown("", elem_id="compare-notes")
    page["columns"] = []
    with gr.Row(equal_height=False):
        for column in DEFAULT_COLUMNS:
            with gr.Column():
                name = column.name
                page["columns"] += [gr.Textbox(label=f"{name}: summary", lines=3, max_lines=8, interactive=False),
                                    gr.Markdown(label=f"{name}: details")]
                with gr.Accordion(f"{name}: exact prompt sent", open=False):
                    page["columns"].append(gr.Textbox(label=f"{name}: prompt", lines=12, interactive=False,
                                                      buttons=["copy"]))
    gr.Markdown(f"<small>Highlighted in each column's details: {METHOD}</small>")
    if feedback.enabled:  # LLMFT_FEEDBACK=0: no vote, no word about feedback
        with gr.Row(equal_height=True):
            page["vote_inputs"] = [
                checked_by_package(gr.Radio([c.name for c in DEFAULT_COLUMNS], value="A", scale=1,
                                            label="Which column is best?")),
                gr.Textbox(label="Comment (optional)", max_length=1000, scale=3),
            ]
            page["vote"] = gr.Button("Send vote", scale=1)
        page["vote_note"] = gr.Markdown(feedback.where(), elem_id="compare-vote-note")
    page["chart"] = gr.Plot(label=f"ROUGE per column ({ROUGE_SCALE})")
    page["table"] = gr.Dataframe(label=f"Columns compared ({ROUGE_SCALE})", interactive=False)
    with gr.Accordion("Result as JSON (what the API returns first)", open=False):
        page["json"] = gr.JSON(label="Result")
    return page


def launch(demo: gr.Blocks, settings: PromptingSettings, **kwargs: Any) -> gr.Blocks:
    """Serve the page. Model work waits in one queue: LLMFT_CONCURRENCY generate at once, LLMFT_MAX_QUEUE wait.

    LOOKUPS_OFF_THE_QUEUE: Gradio's max_size counts the waiting events of every concurrency id together, so dataset
    look-ups on the queue would be refused ("Queue is full") whenever comparisons fill it. They are cheap (the
    dataset is loaded once, then in memory), so they skip the queue (queue=False) and answer at once. api_open=False
    (Gradio's default on Spaces, not elsewhere): queued events cannot be called around the queue with a direct POST
    to /gradio_api/run/<name>; the look-ups, off the queue, can (that is how the page calls them).
    """
    return serve(demo, settings, concurrency=settings.concurrency, api_open=False, show_error=True, **kwargs)
