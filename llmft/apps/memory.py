"""Fewer malloc arenas in a serving process, so its memory stops creeping up request after request.

Gradio runs each request in one of anyio's worker threads (up to 40), and glibc gives every new thread that
allocates an arena of its own, up to 8 per CPU. Each arena keeps the memory its requests freed, so a Space's
resident memory kept growing under load without a leak (bench/load.py, the Prompting Space, 5 rounds of 50
requests: +15% with glibc's default, +2% with 2 arenas). `limit_malloc_arenas()` sets glibc's `M_ARENA_MAX`
for this process; it must run before the threads start, so each app.py calls it before importing Gradio.
`MALLOC_ARENA_MAX` in the environment, which glibc reads itself at start, wins. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h
DEFAULT_ARENAS = 2


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> int | None:
    """Cap this process's malloc arenas; return the cap set, or None (MALLOC_ARENA_MAX set, or no glibc)."""
    if os.environ.get("MALLOC_ARENA_MAX", "").strip():
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS, Windows): nothing to cap
        return None
    if mallopt(M_ARENA_MAX, arenas) != 1:
        logger.info("mallopt(M_ARENA_MAX, %d) was refused; malloc keeps its default arenas", arenas)
        return None
    return arenas
