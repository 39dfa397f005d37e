"""A bounded, thread-safe cache of loaded models (or anything heavy), least recently used dropped first."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ModelCache(Generic[T]):
    """Loaded models by key, at most `max_models` of them (None: no bound); the least recently used goes first.

    Thread-safe. A load runs under a lock for its key only: two requests for one model load it once, and
    requests for other models (loaded or loading) never wait for it. With `one_load_at_a_time`, loads of
    different models also wait for each other (two at once would double the peak memory); requests for
    models already loaded still never wait. An evicted or discarded model is no longer referenced here;
    requests still using it keep it alive until they finish.
    """

    def __init__(self, max_models: int | None = None, one_load_at_a_time: bool = False) -> None:
        self._models: OrderedDict[Hashable, T] = OrderedDict()
        self._loading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._max_models = max_models
        self._one_load: contextlib.AbstractContextManager = (
            threading.Lock() if one_load_at_a_time else contextlib.nullcontext()
        )

    @property
    def max_models(self) -> int | None:
        return self._max_models

    @max_models.setter
    def max_models(self, value: int | None) -> None:
        if value is not None and value < 1:
            raise ValueError(f"max_models must be at least 1, not {value}")
        with self._lock:
            self._max_models = value
            self._evict(value)

    def _evict(self, keep: int | None) -> None:  # under self._lock
        while keep is not None and len(self._models) > max(keep, 0):
            key, _ = self._models.popitem(last=False)
            logger.info("model cache: dropping %s (least recently used)", key)

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            loaded = self._models.get(key)
            if loaded is not None:
                self._models.move_to_end(key)
            return loaded

    def get_or_load(self, key: Hashable, load: Callable[[], T]) -> T:
        loaded = self.get(key)
        if loaded is not None:
            return loaded
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock, self._one_load:
            loaded = self.get(key)  # loaded by the request we waited for
            if loaded is not None:
                return loaded
            with self._lock:  # make room first: the new model's peak memory comes on top of the kept ones
                self._evict(None if self._max_models is None else self._max_models - 1)
            try:
                loaded = load()
                with self._lock:
                    self._models[key] = loaded
                    self._evict(self._max_models)
                return loaded
            finally:  # after the model is in: a request arriving now finds it, not a fresh lock
                with self._lock:
                    self._loading.pop(key, None)

    def keys(self) -> list[Hashable]:
        """Cached keys, least recently used first."""
        with self._lock:
            return list(self._models)

    def discard(self, key: Hashable) -> None:
        """Forget `key` (a model left broken, say): the next request loads it again."""
        with self._lock:
            self._models.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
