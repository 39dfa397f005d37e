"""What the Summarizer returns: summaries per variant, ROUGE in percent, the course's comparison table, charts, CSV.

ROUGE is on one scale everywhere, in the UI and the API: F-measure in percent (`ROUGE_SCALE`), computed
by `llmft.metrics` and multiplied by 100, not rounded (tables round for display). The comparison table
is `llmft.metrics.comparison_rows` with the base as baseline: each variant's scores, then each
variant's absolute improvement over the base, in percentage points, as the course lab prints it, here with
the paired bootstrap 95% interval of that improvement over the dialogues (`llmft.bootstrap`), and each variant's
share of summaries with an unsupported fact (`llmft.faithfulness`).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmft.bootstrap import DifferenceInterval, rouge_intervals
from llmft.charts import grouped_bar_chart
from llmft.faithfulness import METHOD
from llmft.metrics import ROUGE_TYPES, comparison_rows
from llmft.summarizing.variants import VariantKind

ROUGE_SCALE = "ROUGE F-measure, %"
ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
INTERVAL_TYPE = "rougeL"  # the table shows this type's interval; the JSON has every type's
INTERVAL_HEADER = "ROUGE-L difference [95% interval]"
FLAGGED_HEADER = "summaries with an unsupported fact (%)"
COMPARISON_HEADERS = ["variant", *(ROUGE_LABELS[k] for k in ROUGE_TYPES), INTERVAL_HEADER, FLAGGED_HEADER]
BASELINE = "base"
EMPTY_SUMMARY = "(empty: the model ended its summary at once)"  # for the table; the JSON keeps ""


def percent(scores: dict[str, float]) -> dict[str, float]:
    """F-measures in [0, 1] -> percent."""
    return {name: 100.0 * value for name, value in scores.items()}


def comparison_table(
    means: dict[str, dict[str, float]],
    intervals: dict[str, dict[str, DifferenceInterval]] | None = None,
    flagged: dict[str, float] | None = None,
) -> list[list[Any]]:
    """The course table: each variant, then 'X - base' rows (percentage points). With `intervals` or `flagged`
    (the apps), two more columns: the ROUGE-L difference's interval, and the share of flagged summaries (%)."""
    rows = comparison_rows(means, baseline=BASELINE if BASELINE in means else None)
    table = [[row["model"], *(round(float(row[k]), 2) for k in ROUGE_TYPES)] for row in rows]
    if intervals is None and flagged is None:
        return table
    for row in table:
        name = str(row[0]).removesuffix(f" - {BASELINE}")
        interval = (intervals or {}).get(name, {}).get(INTERVAL_TYPE) if " - " in str(row[0]) else None
        share = (flagged or {}).get(name) if " - " not in str(row[0]) else None
        row += [interval.label() if interval else "", round(100 * share, 1) if share is not None else None]
    return table


def differences_from_base(rows: list[dict[str, Any]], variants: list[str]) -> dict[str, dict[str, DifferenceInterval]]:
    """Per variant, the paired bootstrap interval of its ROUGE (percent) minus the base's, over the rows both scored."""
    if BASELINE not in variants:
        return {}
    scored = [row for row in rows if row["references"] and f"{BASELINE}: rouge1" in row]
    found = {}
    for name in variants:
        pairs = [row for row in scored if name != BASELINE and f"{name}: rouge1" in row]
        if pairs:
            per_row = [{k: row[f"{name}: {k}"] for k in ROUGE_TYPES} for row in pairs]
            base = [{k: row[f"{BASELINE}: {k}"] for k in ROUGE_TYPES} for row in pairs]
            found[name] = rouge_intervals(per_row, base, ROUGE_TYPES)
    return found


def rouge_chart(
    means: dict[str, dict[str, float]], title: str, intervals: dict[str, dict[str, DifferenceInterval]] | None = None
) -> Any | None:
    """Mean ROUGE per variant; with `intervals`, a second panel: each variant minus the base, with error bars."""
    if not means:
        return None
    groups = {name: {ROUGE_LABELS[k]: v for k, v in scores.items()} for name, scores in means.items()}
    differences = {
        f"{name} - {BASELINE}": {ROUGE_LABELS[k]: (i.difference, i.low, i.high) for k, i in by_type.items()}
        for name, by_type in (intervals or {}).items()
    }
    return grouped_bar_chart(groups, title=title, ylabel=ROUGE_SCALE, differences=differences or None)


@dataclass
class VariantSummary:
    """One variant's summary of one dialogue, or why it has none."""

    variant: str
    kind: VariantKind
    source: str
    summary: str | None = None
    seconds: float | None = None
    rouge: dict[str, float] | None = None  # percent; None without a reference
    error: str | None = None  # the variant could not load
    faithfulness: dict[str, Any] | None = None  # llmft.faithfulness.check: unsupported facts, their count per kind


@dataclass
class SingleResult:
    references: list[str]
    results: list[VariantSummary]
    warnings: list[str] = field(default_factory=list)

    TABLE_HEADERS = ["variant", "source", "summary", "seconds", *(ROUGE_LABELS[k] for k in ROUGE_TYPES),
                     "unsupported facts"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rouge_scale": ROUGE_SCALE,
            "faithfulness_method": METHOD,
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
                r.faithfulness["unsupported_count"] if r.faithfulness else None,
            ]
            for r in self.results
        ]

    @property
    def flagged(self) -> dict[str, float]:
        return {r.variant: float(bool(r.faithfulness["unsupported_count"])) for r in self.results if r.faithfulness}

    def comparison(self) -> list[list[Any]]:
        return comparison_table(self.means, {}, self.flagged)

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

    @property
    def flagged(self) -> dict[str, float]:
        """Per variant, the share of its summaries with at least one unsupported fact (0 to 1)."""
        return {v: sum(1 for r in self.rows if r.get(f"{v}: unsupported")) / len(self.rows) for v in self.variants
                if self.rows}

    @property
    def intervals(self) -> dict[str, dict[str, DifferenceInterval]]:
        return differences_from_base(self.rows, self.variants)

    def to_dict(self) -> dict[str, Any]:
        intervals = self.intervals
        return {
            "title": self.title,
            "rouge_scale": ROUGE_SCALE,
            "faithfulness_method": METHOD,
            "share_with_unsupported_fact": self.flagged,
            "differences_from_base": {
                name: {k: i.to_dict() for k, i in by_type.items()} for name, by_type in intervals.items()
            },
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
        return comparison_table(self.means, self.intervals, self.flagged)

    def chart(self) -> Any | None:
        scored = sum(1 for r in self.rows if r["references"])
        return rouge_chart(self.means, f"Mean ROUGE over {scored} dialogue(s)", self.intervals)

    @property
    def row_headers(self) -> list[str]:
        return ["id", *(f"{v}: summary" for v in self.variants), *(f"{v}: ROUGE-L" for v in self.variants),
                *(f"{v}: unsupported facts" for v in self.variants)]

    def row_table(self) -> list[list[Any]]:
        """Per dialogue: its id, each variant's summary, then each variant's ROUGE-L (percent) when scored."""
        return [
            [
                row["id"],
                *(row.get(f"{v}: summary", "") for v in self.variants),
                *(round(row[f"{v}: rougeL"], 2) if f"{v}: rougeL" in row else None for v in self.variants),
                *(row.get(f"{v}: unsupported") for v in self.variants),
            ]
            for row in self.rows
        ]

    @property
    def csv_fields(self) -> list[str]:
        fields = ["id", "dialogue", "references"]
        for variant in self.variants:
            fields += [f"{variant}: summary", *(f"{variant}: {k}" for k in ROUGE_TYPES), f"{variant}: unsupported",
                       f"{variant}: unsupported facts"]
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
