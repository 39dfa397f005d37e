"""Summarizer Space: the base, fully fine-tuned and LoRA FLAN-T5 side by side, scored with ROUGE, and why.

`main()` makes the services from the settings (see README.md: LLMFT_SUMMARIZER_BASE, LLMFT_FULL_MODEL,
LLMFT_LORA_ADAPTERS, LLMFT_DATASET, LLMFT_CONCURRENCY, ...); the page is `llmft.apps.summarizer.build_app`.
Importing this file starts nothing.

    python spaces/summarizer/app.py            # http://127.0.0.1:7860 (scripts/run.sh serves it on 7861)
"""

from llmft.apps.serve import limit_malloc_arenas
from llmft.apps.services import SummarizerServices
from llmft.apps.summarizer import build_app, launch
from llmft.feedback import FeedbackStore
from llmft.settings import FeedbackSettings, SummarizerSettings
from llmft.summarizing import Summarizer


def main() -> None:
    limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load
    settings = SummarizerSettings.from_env()
    summarizer = Summarizer(settings)  # one per process: the shared base, adapters, full model and dataset
    feedback = FeedbackStore(FeedbackSettings.from_env())  # votes to a folder; to a Hub dataset when one is set
    launch(build_app(settings, SummarizerServices(summarizer, feedback)), settings)


if __name__ == "__main__":
    main()
