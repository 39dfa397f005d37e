"""What the Summarizer returns: summaries per variant, ROUGE in percent, the course's comparison table, charts, CSV.

ROUGE is on one scale everywhere, in the UI and the API: F-measure in percent (`ROUGE_SCALE`), computed
by `llmft.metrics` and multiplied by 100, not rounded (tables round for display). The comparison table
is `llmft.metrics.comparison_rows` with the base as baseline: each variant's scores, then each
variant's absolute improvement over the base, in percentage points, as the course lab prints it.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmft.charts import grouped_bar_chart
from llmft.metrics import ROUGE_TYPES, comparison_rows

ROUGE_SCALE = "ROUGE F-measure, %"
ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
COMPARISON_HEADERS = ["variant", *(ROUGE_LABELS[k] for k in ROUGE_TYPES)]
BASELINE = "base"
EMPTY_SUMMARY = "(empty: the model ended its summary at once)"  # for the table; the JSON keeps ""


def percent(scores: dict[str, float]) -> dict[str, float]:
    """F-measures in [0, 1] -> percent."""
    return {name: 100.0 * value for name, value in scores.items()}


def comparison_table(means: dict[str, dict[str, float]]) -> list[list[Any]]:
    """The course table under `COMPARISON_HEADERS`: each variant, then 'X - base' rows (percentage points)."""
    rows = comparison_rows(means, baseline=BASELINE if BASELINE in means else None)
    return [[row["model"], *(round(float(row[k]), 2) for k in ROUGE_TYPES)] for row in rows]


def rouge_chart(means: dict[str, dict[str, float]], title: str) -> Any | None:
    if not means:
        return None
    groups = {name: {ROUGE_LABELS[k]: v for k, v in scores.items()} for name, scores in means.items()}
    return grouped_bar_chart(groups, title=title, ylabel=ROUGE_SCALE)


@dataclass
class VariantSummary:
    """One variant's summary of one dialogue, or why it has none."""

    variant: str
    kind: str
    source: str
    summary: str | None = None
    seconds: float | None = None
    rouge: dict[str, float] | None = None  # percent; None without a reference
    error: str | None = None  # the variant could not load


@dataclass
class SingleResult:
    references: list[str]
    results: list[VariantSummary]
    warnings: list[str] = field(default_factory=list)

    TABLE_HEADERS = ["variant", "source", "summary", "seconds", *(ROUGE_LABELS[k] for k in ROUGE_TYPES)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rouge_scale": ROUGE_SCALE,
            "references": self.references,
            "warnings": self.warnings,
            "results": [asdict(r) for r in self.results],
            "comparison": [dict(zip(COMPARISON_HEADERS, row, strict=True)) for row in self.comparison()],
        }

    @property
    def means(self) -> dict[str, dict[str, float]]:
        return {r.variant: r.rouge for r in self.results if r.rouge is not None}

    def table(self) -> list[list[Any]]:
        """Rows under `TABLE_HEADERS`; an unavailable variant says why in place of its summary."""
        return [
            [
                r.variant,
                r.source,
                f"unavailable: {r.error}" if r.error is not None else r.summary or EMPTY_SUMMARY,
                r.seconds,
                *((round(r.rouge[k], 2) if r.rouge else None) for k in ROUGE_TYPES),
            ]
            for r in self.results
        ]

    def comparison(self) -> list[list[Any]]:
        return comparison_table(self.means)

    def chart(self) -> Any | None:
        return rouge_chart(self.means, "ROUGE against the reference")


@dataclass
class BatchResult:
    """Every dialogue through every variant: per-row summaries and ROUGE, means over rows with references."""

    title: str
    variants: list[str]
    rows: list[dict[str, Any]]  # per dialogue: id, dialogue, references, per variant summary and ROUGE (percent)
    means: dict[str, dict[str, float]]  # per variant, over the rows with references (percent)
    seconds: dict[str, float]
    unavailable: dict[str, str]  # variant -> why it could not run
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rouge_scale": ROUGE_SCALE,
            "dialogues": len(self.rows),
            "with_references": sum(1 for r in self.rows if r["references"]),
            "variants": self.variants,
            "mean_rouge": self.means,
            "seconds": self.seconds,
            "unavailable": self.unavailable,
            "notes": self.notes,
            "comparison": [dict(zip(COMPARISON_HEADERS, row, strict=True)) for row in self.comparison()],
        }

    def comparison(self) -> list[list[Any]]:
        return comparison_table(self.means)

    def chart(self) -> Any | None:
        return rouge_chart(self.means, f"Mean ROUGE over {sum(1 for r in self.rows if r['references'])} dialogue(s)")

    @property
    def row_headers(self) -> list[str]:
        return ["id", *(f"{v}: summary" for v in self.variants), *(f"{v}: ROUGE-L" for v in self.variants)]

    def row_table(self) -> list[list[Any]]:
        """Per dialogue: its id, each variant's summary, then each variant's ROUGE-L (percent) when scored."""
        return [
            [
                row["id"],
                *(row.get(f"{v}: summary", "") for v in self.variants),
                *(round(row[f"{v}: rougeL"], 2) if f"{v}: rougeL" in row else None for v in self.variants),
            ]
            for row in self.rows
        ]

    @property
    def csv_fields(self) -> list[str]:
        fields = ["id", "dialogue", "references"]
        for variant in self.variants:
            fields += [f"{variant}: summary", *(f"{variant}: {k}" for k in ROUGE_TYPES)]
        return fields

    def write_csv(self, path: str | Path) -> Path:
        """Every dialogue with each variant's summary and ROUGE (percent); references one per line."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.csv_fields, extrasaction="ignore")
            writer.writeheader()
            for row in self.rows:
                writer.writerow({**row, "references": "\n".join(row["references"])})
        return path


def models_note(status: list[dict[str, Any]]) -> str:
    """Markdown for the page: each variant, its source and base, or why it is unavailable; the demo notice."""
    lines = []
    for row in status:
        where = f"`{row['source']}`" + (f" @ `{row['revision']}`" if row.get("revision") else "")
        if row["kind"] == "lora":
            where += f" on base `{row['base']}`"
        if row.get("available"):
            lines.append(f"- **{row['variant']}** ({row['kind']}): {where}")
        else:
            lines.append(f"- **{row['variant']}** ({row['kind']}): {where}: **unavailable**: {row['reason']}")
    notes = list(dict.fromkeys(row["demo_note"] for row in status if row.get("demo_note")))
    if notes:  # the embedded demo models (llmft.demo): say so before anything else
        lines[:0] = [f"**Note: {note}**\n" for note in notes]
    return "\n".join(lines)
