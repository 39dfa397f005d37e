"""llmft: the shared logic behind the llm-fine-tune training scripts and Spaces.

Read it from the folder names; imports point down this list only.

- The core, used by every part: `errors`, `settings` (every `LLMFT_*`/`OPENAI_*` variable, stated once, and
  the one parser that reads them), `data` (DialogSum rows), `prompts` (the one function that turns a
  dialogue into model input: zero/one/few-shot prompts fitted to the encoder), `sources` (model names, the
  allowlist policy, Hub snapshots with timeouts and the cache first), `models` and `model_cache` (the one
  loader for base / full / LoRA, a bounded cache, batched generation), `metrics` (ROUGE; Lsum on sentences),
  `charts`, `files`, `hub` (the Hub client with timeouts, publishing, model cards), `recipes` (YAML < CLI into
  dataclasses).
- `evaluation`: generate + ROUGE over a split, with results files and a chart (training, scripts and apps).
- The parts: `training` (the Accelerate loop, checkpoints, resume, logs), `prompting` (the Prompting Space's
  logic), `summarizing` (the Summarizer Space's logic), `store` (the shop knowledge base), `chat` (the Shopbot),
  `feedback` (visitors' votes), `faithfulness` (unsupported facts), `deploy`.
- `apps`: each Space's page, `build_app(settings, services)`, and what they share (the queue and launch, errors for
  the UI, the demo-model note).
- `demo`: the embedded local default (`python -m llmft.demo build`, its tiny recipes as package data) and `demo.tiny`
  (tiny T5 models for tests and offline demos).
"""

from llmft.errors import (
    AdapterMismatchError,
    ConfigError,
    DataError,
    HubError,
    LlmftError,
    ModelLoadError,
    OutputDirError,
    PromptError,
)

__version__ = "0.1.0"

__all__ = [
    "AdapterMismatchError",
    "ConfigError",
    "DataError",
    "HubError",
    "LlmftError",
    "ModelLoadError",
    "OutputDirError",
    "PromptError",
    "__version__",
]
