"""Prompting Space: FLAN-T5's zero-, one- and few-shot summaries of a dialogue side by side, scored.

`main()` makes the services from the settings (see README.md: LLMFT_BASE_MODEL, LLMFT_DATASET, LLMFT_CONCURRENCY,
...); the page is `llmft.apps.prompting.build_app`. Importing this file starts nothing.

    python spaces/prompting/app.py            # http://127.0.0.1:7860
"""

import sys
from pathlib import Path

# From a checkout, `python spaces/prompting/app.py` uses the repository's package. On the Space, llmft/
# is copied next to this file (by `python -m llmft.deploy`), and the script's folder is on sys.path already.
_REPO_ROOT = Path(__file__).resolve().parents[2]
if (_REPO_ROOT / "llmft" / "__init__.py").is_file() and str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from llmft.apps.prompting import build_app, launch  # noqa: E402
from llmft.apps.serve import limit_malloc_arenas  # noqa: E402
from llmft.apps.services import PromptingServices  # noqa: E402
from llmft.feedback import FeedbackStore  # noqa: E402
from llmft.prompting import PromptingLab  # noqa: E402
from llmft.settings import FeedbackSettings, PromptingSettings  # noqa: E402


def main() -> None:
    limit_malloc_arenas()  # before Gradio's worker threads exist: memory stops creeping up under load
    settings = PromptingSettings.from_env()
    lab = PromptingLab(settings)  # one per process: dataset, shot pool, embedder and models are shared
    feedback = FeedbackStore(FeedbackSettings.from_env())  # votes to a folder; to a Hub dataset when one is set
    launch(build_app(settings, PromptingServices(lab, feedback)), settings)


if __name__ == "__main__":
    main()
