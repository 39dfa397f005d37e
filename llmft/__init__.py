"""llmft: the shared logic behind the llm-fine-tune training scripts and Spaces.

Modules: `data` (DialogSum rows), `prompts` (zero/one/few-shot prompts fitted to the encoder),
`models` (load base / full / LoRA, batched generation), `metrics` (ROUGE), `hub` (push, pull, cards).
"""

from llmft.errors import (
    AdapterMismatchError,
    DataError,
    HubError,
    LlmftError,
    ModelLoadError,
    PromptError,
)

__version__ = "0.1.0"

__all__ = [
    "AdapterMismatchError",
    "DataError",
    "HubError",
    "LlmftError",
    "ModelLoadError",
    "PromptError",
    "__version__",
]
