"""What every Space's page shares: the queue and launch footer, the votes' thank-you line, the package's own checks
of a control's value, Gradio's progress tracker as the package's callback, and a download file's place.

    demo = build_app(settings, services)      # llmft.apps.<space>
    serve(demo, settings, css=CSS)            # the queue, then Gradio's server (GRADIO_SERVER_NAME / _PORT)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

import gradio as gr

from llmft.apps.memory import limit_malloc_arenas

__all__ = ["checked_by_package", "dialogue_boxes", "download_path", "limit_malloc_arenas", "progress_callback",
           "serve", "vote_thanks"]


class Serving(Protocol):
    """The settings every Space shares (`llmft.settings.AppSettings`)."""

    max_queue: int
    max_sessions: int


def serve(demo: gr.Blocks, settings: Serving, *, concurrency: int | None = None, api_open: bool = True,
          **launch: Any) -> gr.Blocks:
    """Queue `demo` and launch it; returns it (with `prevent_thread_lock=True` in `launch`, at once: tests).

    LLMFT_MAX_QUEUE requests wait (more are refused with "Queue is full"; Gradio's default queue is unbounded);
    `concurrency` (LLMFT_CONCURRENCY) of one event run at once; LLMFT_MAX_SESSIONS visitors' sessions are kept in
    memory (Gradio's default: 10,000). `api_open=False` (Gradio's default on Spaces, not elsewhere): queued events
    cannot be called around the queue with a direct POST to /gradio_api/run/<name>.
    """
    queue: dict[str, Any] = {"max_size": settings.max_queue, "api_open": api_open}
    if concurrency is not None:
        queue["default_concurrency_limit"] = concurrency
    demo.queue(**queue)
    demo.launch(state_session_capacity=settings.max_sessions, **launch)
    return demo


def vote_thanks(feedback: Any, vote: str, what: str = "") -> str:
    """The line a vote gets back: what was recorded, and where it went."""
    mark = {"up": "👍", "down": "👎"}.get(vote)
    recorded = f"your {mark}{what}" if mark else f"your vote{what}"
    return f"Thanks: {recorded} was recorded. {feedback.where()}"


def checked_by_package(component: Any) -> Any:
    """Let `component`'s value through unchecked, for the package to check with the control's label in its message.

    Gradio's own check runs first and says only "Value 6 is greater than maximum value 5."; the package's says
    "B: shots must be from 0 to 5, not 6.". (An instance attribute: a subclass would make Gradio write app.pyi.)
    """
    component.preprocess = lambda payload: payload
    return component


def progress_callback(progress: gr.Progress) -> Any:
    """Gradio's tracker as the package's `progress(done, total, desc)`."""
    return lambda done, total, desc: progress((done, total), desc=desc)


def download_path(prefix: str, name: str) -> Path:
    """Where a file for download goes: Gradio serves the system temp folder; a folder per request keeps concurrent
    files apart."""
    return Path(tempfile.mkdtemp(prefix=prefix)) / name


def dialogue_boxes() -> tuple[gr.Textbox, gr.Textbox]:
    """The dialogue and its reference summaries, side by side (the Summarizer's and Prompting pages)."""
    with gr.Row():
        dialogue = gr.Textbox("", label="Dialogue", lines=10, max_lines=20, scale=3,
                              placeholder="#Person1#: ...\n#Person2#: ...")
        reference = gr.Textbox("", label="Reference summary (one per line)", lines=10, scale=2,
                               placeholder="Optional: without one, no ROUGE")
    return dialogue, reference
