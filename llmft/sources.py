"""Model sources: checking a name, deciding whether an app may load it, and turning it into a local folder.

A source is a Hub id (`google/flan-t5-base`) or a local folder. `normalise_source` refuses names no
file system or Hub would take (empty, control characters such as NUL, too long) with the package's own
error, and gives local paths one spelling (`a/../a` is `a`), so they key the model cache once; `same_model`
compares two names by that spelling (an adapter's base against the one asked for).

`ModelPolicy` is what a hosted app may load: the ids and folders it offers, anything inside its model
folders, or anything at all when `allow_any` is on. Its refusal is one message for every refused name,
whether or not such a path exists, so a visitor cannot probe the server's files with it.

`resolve_source` gives a local folder. For a Hub id a complete cached snapshot is used first, without
asking the Hub (a model already downloaded loads while the Hub is down or slow). Otherwise the config
files come first (`check` can refuse the model before any weights are downloaded), then the rest. Every
Hub request is bounded by `LLMFT_HUB_TIMEOUT` (llmft.hub.client) and its failures become `ModelLoadError`.
To pick up a newer push of a cached repo, pass its revision (a commit sha) or remove it with `hf cache rm`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from llmft.errors import ModelLoadError
from llmft.hub.client import hub_api, hub_endpoint, hub_errors, hub_offline

logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
CONFIG_FILES = ["config.json", ADAPTER_CONFIG]
WEIGHT_PATTERNS = ("*.safetensors", "*.bin")
# Only what a PyTorch seq2seq model and its tokenizer need: flan-t5 repos also carry TF/Flax/ONNX copies.
IGNORE_PATTERNS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "onnx/*", "*.tflite", "rust_model*", "*.gguf"]
_MAX_COMPONENT = 255  # bytes in one file name on Linux/macOS file systems (NAME_MAX)
_MAX_NAME = 1024
_HUB_ID = re.compile(r"[\w.-]{1,96}(/[\w.-]{1,96})?", re.ASCII)


def shown(name: str, limit: int = 80) -> str:
    """`name` for a message: control characters escaped, long names cut."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_name(source: str) -> str:
    source = source.strip()
    if not source:
        raise ModelLoadError("No model given: enter a Hub model id (like google/flan-t5-base) or a local folder.")
    if any(not c.isprintable() for c in source):
        raise ModelLoadError(
            f"Model '{shown(source)}' contains a control character (such as a NUL byte): "
            "a model is a Hub id (like google/flan-t5-base) or a local folder."
        )
    too_long = len(source) > _MAX_NAME or any(len(p.encode()) > _MAX_COMPONENT for p in source.split("/"))
    if too_long:
        raise ModelLoadError(
            f"Model '{shown(source)}' is too long for a Hub id (at most 96 characters per part) or a folder name "
            f"(at most {_MAX_COMPONENT} bytes per part)."
        )
    return source


def looks_like_hub_id(source: str) -> bool:
    """`owner/name` or `name` in the Hub's characters: decided from the text alone, never from the disk."""
    return bool(_HUB_ID.fullmatch(source)) and not any(p.startswith(".") for p in source.split("/"))


def normalise_source(source: str) -> str:
    """The one spelling of `source`: a Hub id as given, a local path absolute with symlinks and `..` resolved.

    A Hub-id-shaped name is a local path when such a folder exists here (as `from_pretrained` decides).
    """
    source = _check_name(source)
    local = Path(source).expanduser()
    bare = source.rstrip("/")  # `owner/name/` is the Hub id `owner/name`, as `folder/` is `folder`
    if looks_like_hub_id(bare) and not local.is_dir():
        return bare
    return str(local.resolve())


def same_model(a: str, b: str) -> bool:
    """The one "same model?" rule: equal `normalise_source` spellings (a name it refuses compares as written,
    without surrounding spaces or a trailing '/'). Used for an adapter's base and for cache keys alike."""

    def key(name: str) -> str:
        try:
            return normalise_source(name)
        except ModelLoadError:
            return name.strip().rstrip("/")

    return key(a) == key(b)


@dataclass(frozen=True)
class ModelPolicy:
    """What an app may load: `check(source)` returns the normalised source or raises `ModelLoadError`.

    `allowed`: ids and folders offered (normalised when checked); `model_dirs`: folders whose insides may be
    loaded; `allow_any`: no restriction (local use). `load_model(..., policy=None)` means no restriction too.
    """

    allowed: tuple[str, ...] = ()
    allow_any: bool = False
    model_dirs: tuple[Path, ...] = ()

    def check(self, source: str) -> str:
        name = normalise_source(source)  # a bad name gets its own message: it reveals nothing about the disk
        if self.allow_any or name in self._allowed_names():
            return name
        path = Path(name) if Path(name).is_absolute() else (Path.cwd() / name).resolve()
        if any(path == folder or folder in path.parents for folder in self._folders()):
            return str(path)
        # One message whatever `source` is (a Hub id, a folder, a file, nothing): nothing to probe with.
        raise ModelLoadError(
            f"Model '{shown(source.strip())}' is not offered here: choose one from the model menu. "
            "(Whoever runs this app can offer more with LLMFT_MODELS or LLMFT_MODEL_DIRS, "
            "or allow any model with LLMFT_ALLOW_ANY_MODEL=1.)"
        )

    def _allowed_names(self) -> set[str]:
        names = set()
        for entry in self.allowed:
            try:
                names.add(normalise_source(entry))
            except ModelLoadError:
                logger.warning("ignoring an invalid model name in the allowlist: %s", shown(entry))
        return names

    def _folders(self) -> list[Path]:
        return [Path(folder).expanduser().resolve() for folder in self.model_dirs]


def local_model_dirs(sources: Iterable[str]) -> tuple[Path, ...]:
    """The folders among `sources` (configured local models): their insides, e.g. checkpoints, may be loaded."""
    folders = []
    for source in sources:
        try:
            name = normalise_source(source)
        except ModelLoadError:
            continue
        if not looks_like_hub_id(name):
            folders.append(Path(name))
    return tuple(folders)


def _has_weights(folder: Path) -> bool:
    return any(next(folder.rglob(pattern), None) is not None for pattern in WEIGHT_PATTERNS)


def _cached_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """A complete snapshot of `repo_id` in the local cache, found without any request to the Hub."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    for ignore in (IGNORE_PATTERNS + ["*.bin"], IGNORE_PATTERNS):  # the two ways `_download` may have fetched it
        try:
            folder = Path(
                snapshot_download(repo_id, revision=revision, ignore_patterns=ignore, local_files_only=True)
            )
        except (LocalEntryNotFoundError, OSError, ValueError):
            continue
        if _has_weights(folder):
            return folder
    return None


def _download(repo_id: str, revision: str | None, check: Callable[[Path], None] | None) -> Path:
    from huggingface_hub import snapshot_download

    endpoint = hub_endpoint()
    info = hub_api().model_info(repo_id, revision=revision)
    files = [sibling.rfilename for sibling in info.siblings or []]
    ignore = list(IGNORE_PATTERNS)
    if any(f.endswith(".safetensors") for f in files):
        ignore.append("*.bin")  # the same weights twice; safetensors loads faster and safer
    if check is not None:  # refuse a model that cannot be used before downloading its weights
        configs = snapshot_download(repo_id, revision=revision, endpoint=endpoint, allow_patterns=CONFIG_FILES)
        check(Path(configs))
    logger.info("downloading %s from %s", repo_id, endpoint or "the Hub")
    return Path(snapshot_download(repo_id, revision=revision, endpoint=endpoint, ignore_patterns=ignore))


def resolve_source(
    source: str, revision: str | None = None, check: Callable[[Path], None] | None = None
) -> Path:
    """A local folder for `source`: itself if it is one, else a Hub snapshot (the cached one first).

    `check(folder)` runs before the weights are fetched, on a folder holding at least the config files.
    """
    name = normalise_source(source)
    local = Path(name)
    if not looks_like_hub_id(name):
        if local.is_dir():
            if check is not None:
                check(local)
            return local
        if local.exists():
            raise ModelLoadError(f"'{shown(source)}' is a file; a model is a folder (config.json + weights) or Hub id.")
        raise ModelLoadError(f"Model '{shown(source)}': no such local folder, and it is not a valid Hub model id.")

    cached = _cached_snapshot(name, revision)
    if cached is not None:
        logger.debug("%s: using the cached snapshot %s", name, cached)
        if check is not None:
            check(cached)
        return cached
    with hub_errors(f"model '{name}'", ModelLoadError, revision):
        if hub_offline():
            from huggingface_hub.errors import OfflineModeIsEnabled

            raise OfflineModeIsEnabled("HF_HUB_OFFLINE is set")
        return _download(name, revision, check)

