"""Batch files for the Summarizer: what is read, what is skipped, and the message for each bad file.

Plus one batch run through the tiny models: per-row and mean ROUGE against hand-made references.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from llmft.errors import DataError
from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import fit_prompt
from llmft.summarizing import Summarizer, SummarizerSettings, read_batch_file

LIMITS = {"max_bytes": 10_000, "max_rows": 3}
D1 = "#Person1#: Hello Anna, are you going to the bank today?\n#Person2#: Yes, I need a ticket."
D2 = "#Person1#: Can I come with you?\n#Person2#: Sure, let us meet at the station."


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_references_and_empty_rows(tmp_path):
    path = tmp_path / "dialogues.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "dialogue", "summary"])
        writer.writerow(["a", D1, "Anna goes to the bank."])
        writer.writerow(["", "", ""])  # a blank spreadsheet row
        writer.writerow(["c", D2, ""])
    batch = read_batch_file(path, **LIMITS)
    assert [(e.id, e.dialogue, e.summaries) for e in batch.examples] == [
        ("a", D1, ["Anna goes to the bank."]), ("c", D2, []),
    ]
    assert batch.empty_rows_skipped == 1 and batch.rows_read == 3 and batch.with_references == 1
    assert batch.columns == ["id", "dialogue", "summary"]


def test_jsonl_with_several_references_and_a_byte_order_mark(tmp_path):
    lines = [json.dumps({"dialogue": D1, "summary1": "One.", "summary2": "Two."}), "", json.dumps({"dialogue": D2})]
    batch = read_batch_file(write(tmp_path / "d.jsonl", "\ufeff" + "\n".join(lines)), **LIMITS)
    assert [(e.id, e.summaries) for e in batch.examples] == [("row-1", ["One.", "Two."]), ("row-3", [])]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("d.csv", "text,summary\nhello,hi\n",
         "d.csv has no 'dialogue' column. Columns found: 'text', 'summary'. Expected: 'dialogue' (required)"),
        ("d.jsonl", '{"conversation": "x"}\n',
         "d.jsonl has no 'dialogue' column. Columns found: 'conversation'. Expected: 'dialogue' (required)"),
        ("d.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "d.csv is a binary file, not CSV or JSONL text"),
        ("d.csv", "dialogue\nCaf\u00e9 talk\n".encode("latin-1"), "d.csv is not UTF-8 text (byte 12 cannot be decoded"),
        ("d.txt", "dialogue\nhi\n", "a batch file must be .csv or .jsonl, not '.txt'"),
        ("d.csv", "", "d.csv is empty: expected a header row"),
        ("d.csv", "dialogue,summary\n,\n , \n", "d.csv has no dialogues: all 2 row(s) are empty"),
        ("d.csv", f'dialogue,summary\n"{D1}",ok\n,Orphan reference.\n',
         "d.csv: row(s) 2 have a reference summary but no dialogue"),
        ("d.jsonl", '{"dialogue": "hi"}\nnot json\n', "d.jsonl: line 2 is not valid JSON"),
        ("d.jsonl", '["dialogue"]\n', "d.jsonl: line 1 is a JSON list, not an object"),
        ("d.csv", "dialogue\n" + "hi\n" * 4, "d.csv has 4 dialogues; the limit is 3 per file"),
        ("d.csv", "dialogue\n" + "x" * 10_001, "d.csv is 10,010 bytes; the limit is 10,000 bytes"),
    ],
)
def test_bad_files_are_refused_with_a_message_that_names_the_problem(tmp_path, name, content, message):
    with pytest.raises(DataError) as caught:
        read_batch_file(write(tmp_path / name, content), **LIMITS)
    assert message in str(caught.value)


def test_a_batch_run_scores_each_row_and_averages_over_rows_with_references(tiny_models, tmp_path):
    settings = GenerationSettings(max_new_tokens=8)
    loaded = load_model(str(tiny_models.base))
    first = generate(loaded, [fit_prompt(loaded.tokenizer, D1).text], settings)[0]
    # References by hand: the base's own summary (ROUGE 100), words it never writes (0), and no reference.
    rows = [
        {"id": "same", "dialogue": D1, "summary": first},
        {"id": "other", "dialogue": D2, "summary": "Quokka xylophone."},
        {"id": "none", "dialogue": D2},
    ]
    path = write(tmp_path / "b.jsonl", "\n".join(json.dumps(r) for r in rows))
    summarizer = Summarizer(SummarizerSettings(base_model=str(tiny_models.base), adapters=[str(tiny_models.lora)]))
    result = summarizer.summarize_file(str(path), summarizer.specs(), ["base"], max_new_tokens=8)
    assert result.variants == ["base"] and [r["base: summary"] for r in result.rows][0] == first
    assert [r.get("base: rouge1") for r in result.rows] == [100.0, 0.0, None]
    assert result.means["base"]["rouge1"] == 50.0
    assert "Mean ROUGE is over the 2 row(s) with a reference." in result.notes
    with result.write_csv(tmp_path / "out.csv").open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [w["id"] for w in written] == ["same", "other", "none"]
    assert float(written[0]["base: rouge1"]) == 100.0 and written[2]["base: rouge1"] == ""
