"""Run logs: metrics to the tracker and `train_log.csv`."""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TRAIN_LOG = "train_log.csv"


class MetricsLogger:
    """Metrics to the tracker (TensorBoard) and to `train_log.csv`, one row per value; main process writes.

    On resume, rows logged after the checkpoint (by the run that was stopped) are dropped first, so the
    CSV reads as one uninterrupted run.
    """

    FIELDS = ("step", "epoch", "split", "metric", "value", "elapsed_s")

    def __init__(self, accelerator: Any, output_dir: str | Path, resume_step: int | None = None):
        self.accelerator = accelerator
        self.path = Path(output_dir) / TRAIN_LOG
        self.started = time.monotonic()
        self._handle = None
        if not accelerator.is_main_process:
            return
        kept: list[dict[str, str]] = []
        if resume_step is not None and self.path.is_file():
            with self.path.open(encoding="utf-8", newline="") as handle:
                kept = [row for row in csv.DictReader(handle) if int(row["step"]) <= resume_step]
            if kept:
                self.started -= float(kept[-1]["elapsed_s"])
        self._handle = self.path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=self.FIELDS)
        self._writer.writeheader()
        self._writer.writerows(kept)
        self._handle.flush()

    def log(self, metrics: Mapping[str, float], step: int, epoch: float) -> None:
        """`metrics` keys are `split/metric`, like `train/loss` or `eval/rouge1`."""
        self.accelerator.log(dict(metrics), step=step)
        if self._handle is None:
            return
        elapsed = round(time.monotonic() - self.started, 3)
        for key, value in metrics.items():
            split, _, metric = key.partition("/")
            self._writer.writerow(
                {
                    "step": step,
                    "epoch": round(epoch, 4),
                    "split": split,
                    "metric": metric,
                    "value": f"{float(value):.6g}",
                    "elapsed_s": elapsed,
                }
            )
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_train_log(output_dir: str | Path) -> list[dict[str, Any]]:
    """The CSV log as dicts with numbers parsed (for tests and notebooks)."""
    with (Path(output_dir) / TRAIN_LOG).open(encoding="utf-8", newline="") as handle:
        return [
            {
                **row,
                "step": int(row["step"]),
                "epoch": float(row["epoch"]),
                "value": float(row["value"]),
                "elapsed_s": float(row["elapsed_s"]),
            }
            for row in csv.DictReader(handle)
        ]


def setup_logging(is_main_process: bool = True) -> None:
    """Status lines from llmft at INFO on the main process and WARNING on the others, so each appears once.

    Progress stays with tqdm. Transformers is kept at WARNING (ERROR off the main process): its INFO
    lines are per-file chatter. A handler on stderr is added only if the program has none (a script).
    """
    import logging

    from transformers.utils import logging as hf_logging

    level = logging.INFO if is_main_process else logging.WARNING
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("llmft").setLevel(level)
    hf_logging.set_verbosity(logging.WARNING if is_main_process else logging.ERROR)
