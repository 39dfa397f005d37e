"""The package's own exception types.

Every message is written for the person who has to act on it: it names the file, row, model id or
setting at fault. The apps turn these into `gr.Error`; scripts let them end the run with the message.
"""

from collections.abc import Callable
from typing import NoReturn


class LlmftError(Exception):
    """Base class: an error whose message is safe and useful to show to a user."""


class DataError(LlmftError, ValueError):
    """A data file or dataset is missing, unreadable, or lacks a needed field."""


class PromptError(LlmftError, ValueError):
    """A prompt cannot be built as asked (empty dialogue, too many shots, ...)."""


class ModelLoadError(LlmftError):
    """A model, checkpoint or adapter cannot be found or loaded."""


class AdapterMismatchError(ModelLoadError):
    """A LoRA adapter was trained on another base model than the one requested."""


class HubError(LlmftError):
    """Pushing to or pulling from the Hub failed (no token, no access, unknown repo)."""


class ConfigError(LlmftError, ValueError):
    """A setting is unknown or has a bad value (recipe, flag, app control, environment variable), or a run cannot
    start as asked."""


class OutputDirError(ConfigError):
    """The output directory holds another run (or foreign files) and overwriting was not asked for."""


def run_cli(main: Callable[[], int | None]) -> NoReturn:
    """Run a script's `main()`; an `LlmftError` ends it with its message and exit code 2, not a traceback."""
    import sys

    try:
        sys.exit(main())
    except LlmftError as err:  # a message for the person at the keyboard
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


class StoreError(LlmftError, ValueError):
    """The shop knowledge base cannot do as asked: a bad catalogue row or document, an unreachable Chroma server,
    an empty or over-long question. The message names the file, row, column or setting at fault."""
