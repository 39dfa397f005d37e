"""Prompting Space: FLAN-T5's zero-, one- and few-shot summaries of a dialogue side by side, scored.

`main()` makes the services from the settings (see README.md: LLMFT_BASE_MODEL, LLMFT_DATASET, LLMFT_CONCURRENCY,
...); the page is `llmft.apps.prompting.build_app`. Importing this file starts nothing.

    python spaces/prompting/app.py            # http://127.0.0.1:7860
"""

from llmft.apps.prompting import build_app, launch
from llmft.apps.serve import limit_malloc_arenas
from llmft.apps.services import PromptingServices
from llmft.feedback import FeedbackStore
from llmft.prompting import PromptingLab
from llmft.settings import FeedbackSettings, PromptingSettings


def main() -> None:
    limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load
    settings = PromptingSettings.from_env()
    lab = PromptingLab(settings)  # one per process: dataset, shot pool, embedder and models are shared
    feedback = FeedbackStore(FeedbackSettings.from_env())  # votes to a folder; to a Hub dataset when one is set
    launch(build_app(settings, PromptingServices(lab, feedback)), settings)


if __name__ == "__main__":
    main()
