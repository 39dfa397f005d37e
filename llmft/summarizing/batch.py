"""Batch files for the Summarizer: CSV or JSONL with a `dialogue` column and optional references.

Limits are checked before anything is parsed (the file's size) or kept (its rows), and a file over a
limit is refused with the limit named. Rows with nothing in them are skipped and counted; a row with a
reference but no dialogue is an error naming the row, since its reference would be silently lost.
Field names follow `llmft.data`: references in `summary` or `summary1`, `summary2`, ...; ids in `id` or
`fname` (else `row-N`), validated by `llmft.data.examples_from_records`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.data import DialogueExample, examples_from_records
from llmft.errors import DataError

BATCH_SUFFIXES = (".csv", ".jsonl")
_REFERENCE_FIELD = re.compile(r"^summary\d*$")
EXPECTED_COLUMNS = "'dialogue' (required) and 'summary' (optional reference; several as summary1, summary2, ...)"


@dataclass
class BatchFile:
    """The dialogues of an uploaded file, and what was skipped."""

    name: str
    examples: list[DialogueExample]
    columns: list[str]
    rows_read: int
    empty_rows_skipped: int

    @property
    def with_references(self) -> int:
        return sum(1 for e in self.examples if e.summaries)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:8192]:
        raise DataError(f"{name} is a binary file, not CSV or JSONL text: save it as UTF-8 text and upload that.")
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark, as spreadsheet programs write, is no problem
    except UnicodeDecodeError as err:
        raise DataError(
            f"{name} is not UTF-8 text (byte {err.start} cannot be decoded: {err.reason}). "
            "Save it with UTF-8 encoding and upload it again."
        ) from None


def _csv_records(text: str, name: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or []) if c is not None]
        records = [
            (number, {str(k).strip(): v for k, v in row.items() if k is not None})
            for number, row in enumerate(reader, start=1)
        ]
    except csv.Error as err:
        raise DataError(f"{name}: not a readable CSV file (line {reader.line_num}: {err}).") from None
    if not columns:
        raise DataError(f"{name} is empty: expected a header row with the columns {EXPECTED_COLUMNS}.")
    return columns, records


def _jsonl_records(text: str, name: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    columns: dict[str, None] = {}
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"{name}: line {number} is not valid JSON ({err.msg}); each line must be one object."
            ) from None
        if not isinstance(record, dict):
            kind = type(record).__name__
            raise DataError(f"{name}: line {number} is a JSON {kind}, not an object with a 'dialogue'.")
        columns.update(dict.fromkeys(map(str, record)))
        records.append((number, record))
    if not records:
        raise DataError(f"{name} is empty: expected one JSON object per line with {EXPECTED_COLUMNS}.")
    return list(columns), records


def read_batch_file(path: str | Path, max_bytes: int, max_rows: int, name: str | None = None) -> BatchFile:
    """Read an uploaded batch file within the limits, or raise a `DataError` a person can act on."""
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix not in BATCH_SUFFIXES:
        raise DataError(f"{name}: a batch file must be .csv or .jsonl, not '{suffix or '(no extension)'}'.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"{name} is {size:,} bytes; the limit is {max_bytes:,} bytes. Split it into smaller files.")
    text = _text(path.read_bytes(), name)
    columns, records = (_csv_records if suffix == ".csv" else _jsonl_records)(text, name)
    if "dialogue" not in columns:
        found = ", ".join(f"'{c}'" for c in columns) or "none"
        raise DataError(f"{name} has no 'dialogue' column. Columns found: {found}. Expected: {EXPECTED_COLUMNS}.")

    kept: list[tuple[int, Mapping[str, Any]]] = []
    empty = 0
    orphans = []
    for number, record in records:
        references = [k for k, v in record.items() if _REFERENCE_FIELD.match(str(k)) and not _blank(v)]
        if _blank(record.get("dialogue")):
            if references:
                orphans.append(number)
            else:
                empty += 1  # a blank line in a spreadsheet export: nothing lost by skipping it
            continue
        kept.append((number, record))
    if orphans:
        rows = ", ".join(map(str, orphans[:10])) + (" ..." if len(orphans) > 10 else "")
        raise DataError(f"{name}: row(s) {rows} have a reference summary but no dialogue. Add the dialogue or "
                        "remove the row.")
    if not kept:
        raise DataError(f"{name} has no dialogues: all {len(records)} row(s) are empty.")
    if len(kept) > max_rows:
        raise DataError(f"{name} has {len(kept):,} dialogues; the limit is {max_rows:,} per file. Split it.")
    examples = examples_from_records(kept, name, require_summary=False)
    return BatchFile(name, examples, columns, len(records), empty)
