"""Dialogue data: DialogSum (Hub id or local files) and user files -> validated `DialogueExample` rows.

Sources, tried in this order:
- a local folder laid out like the DialogSum release (`dialogsum.{train,dev,test}.jsonl`) or holding
  `{split}.jsonl` / `{split}.json` / `{split}.csv`;
- a local `.jsonl`, `.json` or `.csv` file;
- a Hub dataset id such as `knkarthick/dialogsum` (through `datasets.load_dataset`).

Field names are normalised: the id comes from `id` or `fname`; the reference summaries from `summary`
or `summary1`, `summary2`, ... (the DialogSum test split has three references per dialogue); the topic
from `topic` or `topic1`. A row without a needed field fails with the file, the row and the field.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmft.errors import DataError
from llmft.settings.spaces import DEFAULT_DATASET  # the apps let LLMFT_DATASET override it

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".csv")
# DialogSum's own files call the validation split "dev"; the Hub copy calls it "validation".
_SPLIT_FILE_NAMES = {"train": ["train"], "validation": ["dev", "validation"], "test": ["test"]}
_SPLIT_ALIASES = {"dev": "validation", "val": "validation", "valid": "validation"}
_NUMBERED_SUMMARY = re.compile(r"^summary(\d+)$")
_MAX_ERRORS_SHOWN = 5


@dataclass
class DialogueExample:
    """One dialogue with its reference summaries (zero, one or several)."""

    id: str
    dialogue: str
    summaries: list[str] = field(default_factory=list)
    topic: str | None = None

    @property
    def summary(self) -> str | None:
        """The first reference, which training uses as the target."""
        return self.summaries[0] if self.summaries else None


def normalise_split(split: str) -> str:
    split = split.strip().lower()
    return _SPLIT_ALIASES.get(split, split)


def _row_to_example(
    row: Mapping[str, Any], where: str, row_number: int, require_summary: bool
) -> DialogueExample:
    """Map one raw record onto a `DialogueExample`, or raise naming `where`, the row and the field."""
    present = ", ".join(sorted(map(str, row.keys()))) or "none"
    dialogue = row.get("dialogue")
    if not isinstance(dialogue, str) or not dialogue.strip():
        problem = "missing field 'dialogue'" if dialogue is None else "field 'dialogue' is empty"
        raise DataError(f"{where}: row {row_number}: {problem} (fields present: {present})")

    summaries: list[str] = []
    if isinstance(row.get("summary"), str) and row["summary"].strip():
        summaries.append(row["summary"].strip())
    numbered = sorted(
        (int(m.group(1)), key) for key in row if (m := _NUMBERED_SUMMARY.match(str(key)))
    )
    summaries += [str(row[key]).strip() for _, key in numbered if str(row[key] or "").strip()]
    if require_summary and not summaries:
        raise DataError(
            f"{where}: row {row_number}: missing field 'summary' (or 'summary1', 'summary2', ...) "
            f"(fields present: {present})"
        )

    raw_id = row.get("id", row.get("fname"))
    example_id = str(raw_id) if raw_id not in (None, "") else f"row-{row_number}"
    topic = row.get("topic", row.get("topic1"))
    return DialogueExample(
        id=example_id,
        dialogue=dialogue.strip(),
        summaries=summaries,
        topic=str(topic) if topic not in (None, "") else None,
    )


def examples_from_records(
    records: Iterable[tuple[int, Mapping[str, Any]]], where: str, require_summary: bool = True
) -> list[DialogueExample]:
    """Validate numbered records; collect the first few errors so one run shows several bad rows."""
    examples: list[DialogueExample] = []
    errors: list[str] = []
    error_count = 0
    for row_number, row in records:
        try:
            examples.append(_row_to_example(row, where, row_number, require_summary))
        except DataError as err:
            error_count += 1
            if len(errors) < _MAX_ERRORS_SHOWN:
                errors.append(str(err))
    if error_count:
        more = f"\n... and {error_count - len(errors)} more bad rows" if error_count > len(errors) else ""
        raise DataError("\n".join(errors) + more)
    if not examples:
        raise DataError(f"{where}: no rows found")
    return examples


def _read_jsonl(path: Path) -> Iterable[tuple[int, Mapping[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}: row {line_number}: not valid JSON ({err.msg})") from err
            if not isinstance(record, dict):
                raise DataError(f"{path}: row {line_number}: expected a JSON object, got {type(record).__name__}")
            yield line_number, record


def _read_json(path: Path) -> Iterable[tuple[int, Mapping[str, Any]]]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from err
    if isinstance(payload, dict):  # {"data": [...]} as written by some exporters
        payload = payload.get("data", payload.get("rows", [payload]))
    if not isinstance(payload, list):
        raise DataError(f"{path}: expected a list of objects")
    for index, record in enumerate(payload, start=1):
        if not isinstance(record, dict):
            raise DataError(f"{path}: row {index}: expected a JSON object, got {type(record).__name__}")
        yield index, record


def _read_csv(path: Path) -> Iterable[tuple[int, Mapping[str, Any]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise DataError(f"{path}: empty CSV file (no header row)")
        for index, record in enumerate(reader, start=1):
            yield index, {key.strip(): value for key, value in record.items() if key is not None}


def read_dialogue_file(path: str | Path, require_summary: bool = True) -> list[DialogueExample]:
    """Read one `.jsonl`, `.json` or `.csv` file of dialogues."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    readers = {".jsonl": _read_jsonl, ".json": _read_json, ".csv": _read_csv}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise DataError(
            f"{path}: unsupported file type '{path.suffix or '(none)'}'; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        return examples_from_records(reader(path), str(path), require_summary)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def _find_split_file(folder: Path, split: str) -> Path:
    names = _SPLIT_FILE_NAMES.get(split, [split])
    candidates = [
        folder / f"{prefix}{name}{suffix}"
        for name in names
        for prefix in ("dialogsum.", "")
        for suffix in SUPPORTED_SUFFIXES
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(c.name for c in candidates[:4])
    raise DataError(f"{folder}: no file for split '{split}' (looked for {looked}, ...)")


def _probe_hub_dataset(dataset_id: str) -> None:
    """Fail fast, with a message, when the Hub does not answer for `dataset_id` within LLMFT_HUB_TIMEOUT.

    `datasets` retries a silent Hub for minutes; one bounded look-up first tells the user at once.
    """
    from llmft.hub.client import hub_api, hub_errors, hub_offline

    if hub_offline():  # datasets then uses its own cache, without asking the Hub
        return
    try:
        with hub_errors(f"dataset '{dataset_id}'", DataError):
            hub_api().dataset_info(dataset_id)
    except DataError as err:
        raise DataError(
            f"{err} A copy loaded before can be used with HF_HUB_OFFLINE=1; or give a local folder or "
            ".jsonl/.csv file (LLMFT_DATASET, --dataset_name)."
        ) from err.__cause__


def _load_hub_dataset(dataset_id: str, split: str, require_summary: bool) -> list[DialogueExample]:
    _probe_hub_dataset(dataset_id)
    import datasets  # imported here: it is slow to import and only this path needs it

    try:  # every request datasets makes goes through huggingface_hub's session: bounded by LLMFT_HUB_TIMEOUT
        rows = datasets.load_dataset(dataset_id, split=split)
    except Exception as err:  # datasets raises many types; the user needs the id and a way out
        from llmft.hub.client import hub_offline

        offline = " (HF_HUB_OFFLINE is set)" if hub_offline() else ""
        raise DataError(
            f"Could not load dataset '{dataset_id}' split '{split}' from the Hub{offline}: "
            f"{type(err).__name__}: {err}. Give a local folder or .jsonl/.csv file instead."
        ) from err
    return examples_from_records(enumerate(rows, start=1), f"{dataset_id}[{split}]", require_summary)


def load_dialogues(
    source: str | os.PathLike[str] = DEFAULT_DATASET,
    split: str = "test",
    require_summary: bool = True,
    limit: int | None = None,
    group_references: bool = False,
) -> list[DialogueExample]:
    """Load a split of dialogues from a local folder, a local file, or a Hub dataset id.

    `group_references` merges rows that share a dialogue (the Hub copy of the DialogSum test split
    has one row per reference) into one example with several references.
    """
    split = normalise_split(split)
    path = Path(source).expanduser()
    if path.is_dir():
        examples = read_dialogue_file(_find_split_file(path, split), require_summary)
    elif path.is_file():
        examples = read_dialogue_file(path, require_summary)
    elif path.suffix.lower() in SUPPORTED_SUFFIXES or str(source).startswith((".", "/", "~")):
        raise DataError(f"{source}: no such file or folder")
    elif re.fullmatch(r"[\w.-]+(/[\w.-]+)?", str(source)):
        examples = _load_hub_dataset(str(source), split, require_summary)
    else:
        raise DataError(f"'{source}' is neither a local file or folder nor a Hub dataset id")
    if group_references:
        examples = group_by_dialogue(examples)
    return examples[:limit] if limit is not None else examples


def group_by_dialogue(examples: Iterable[DialogueExample]) -> list[DialogueExample]:
    """Merge examples with the same dialogue text, keeping first-seen order and every reference."""
    merged: dict[str, DialogueExample] = {}
    for example in examples:
        seen = merged.get(example.dialogue)
        if seen is None:
            merged[example.dialogue] = DialogueExample(
                id=re.sub(r"_\d+$", "", example.id) if example.id.count("_") > 1 else example.id,
                dialogue=example.dialogue,
                summaries=list(example.summaries),
                topic=example.topic,
            )
        else:
            seen.summaries += example.summaries  # keep repeats: the source lists them, and counts matter
    return list(merged.values())


def write_jsonl(examples: Iterable[DialogueExample], path: str | os.PathLike[str]) -> Path:
    """Write examples in DialogSum's own layout (`fname`, `dialogue`, `summary` or `summary1..N`, `topic`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            record: dict[str, Any] = {"fname": example.id, "dialogue": example.dialogue}
            if len(example.summaries) == 1:
                record["summary"] = example.summaries[0]
            else:
                record.update({f"summary{i}": s for i, s in enumerate(example.summaries, start=1)})
            if example.topic is not None:
                record["topic"] = example.topic
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
