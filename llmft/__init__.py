"""llmft: the shared logic behind the llm-fine-tune training scripts and Spaces.

Modules: `data` (DialogSum rows), `prompts` (zero/one/few-shot prompts fitted to the encoder),
`models` (load base / full / LoRA, batched generation), `metrics` (ROUGE), `hub` (push, pull, cards),
`prompting` (the Prompting Space's comparisons and evaluations), `app_utils` (what every Space
shares: settings from the environment, errors for the UI, charts), `recipes` (dataclass arguments
from YAML + CLI), `training` (checkpoints, resume, run folders), `evaluation` (generate + ROUGE over a
split, results files and chart).
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
