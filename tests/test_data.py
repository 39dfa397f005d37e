"""DialogSum and user files -> validated rows, with row-level errors."""

import csv
import json

import pytest

from llmft.data import group_by_dialogue, load_dialogues, read_dialogue_file
from llmft.errors import DataError
from tests.conftest import DIALOGSUM_DIR
from tests.support.require import require


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_rows_are_normalised(tmp_path):
    path = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {"fname": "a", "dialogue": "#Person1#: hi", "summary": "They greet.", "topic": "greeting"},
            {"id": "b", "dialogue": "#Person1#: bye", "summary1": "One.", "summary2": "Two.", "topic1": "t"},
        ],
    )
    rows = read_dialogue_file(path)
    assert [r.id for r in rows] == ["a", "b"]
    assert rows[0].summaries == ["They greet."] and rows[0].topic == "greeting"
    assert rows[1].summaries == ["One.", "Two."] and rows[1].summary == "One."


def test_missing_field_names_file_row_and_field(tmp_path):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            {"fname": "ok", "dialogue": "#Person1#: hi", "summary": "fine"},
            {"fname": "no-summary", "dialogue": "#Person1#: hi"},
            {"fname": "no-dialogue", "summary": "x"},
        ],
    )
    with pytest.raises(DataError) as err:
        read_dialogue_file(path)
    message = str(err.value)
    assert f"{path}: row 2: missing field 'summary'" in message
    assert f"{path}: row 3: missing field 'dialogue'" in message
    # Inference-only use needs no summary: the same file then fails only on row 3.
    with pytest.raises(DataError, match="row 3: missing field 'dialogue'") as err:
        read_dialogue_file(path, require_summary=False)
    assert "row 2" not in str(err.value)


def test_invalid_json_line_and_wrong_type(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"dialogue": "a", "summary": "b"}\n{"dialogue": oops}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"broken.jsonl: row 2: not valid JSON"):
        read_dialogue_file(path)
    with pytest.raises(DataError, match=r"unsupported file type '.txt'"):
        (tmp_path / "x.txt").write_text("hello")
        read_dialogue_file(tmp_path / "x.txt")


def test_csv_with_wrong_columns_names_them(tmp_path):
    path = tmp_path / "d.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation", "summary"])
        writer.writerow(["#Person1#: hi", "hello"])
    with pytest.raises(DataError, match=r"row 1: missing field 'dialogue' \(fields present: conversation, summary\)"):
        read_dialogue_file(path)


def test_folder_split_lookup_and_errors(tmp_path):
    write_jsonl(tmp_path / "dialogsum.dev.jsonl", [{"fname": "dev_0", "dialogue": "d", "summary": "s"}])
    assert load_dialogues(tmp_path, split="validation")[0].id == "dev_0"
    assert load_dialogues(tmp_path, split="dev")[0].id == "dev_0"
    with pytest.raises(DataError, match="no file for split 'train'"):
        load_dialogues(tmp_path, split="train")
    with pytest.raises(DataError, match="no such file or folder"):
        load_dialogues(tmp_path / "missing.jsonl")


def test_hub_dataset_offline_fails_fast_with_the_id(monkeypatch):
    import datasets
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    # Both libraries read the variable once, at import; an earlier test may have imported them online.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError, match="Could not load dataset 'nobody/no-such-dataset' split 'test'"):
        load_dialogues("nobody/no-such-dataset", split="test")


def test_group_by_dialogue_merges_flat_references():
    from llmft.data import DialogueExample

    flat = [DialogueExample(f"test_0_{i}", "same dialogue", [f"ref {i}"]) for i in (1, 2, 3)]
    grouped = group_by_dialogue(flat + [DialogueExample("test_1_1", "other", ["x"])])
    assert [g.id for g in grouped] == ["test_0", "test_1"]
    assert grouped[0].summaries == ["ref 1", "ref 2", "ref 3"]


def test_real_dialogsum_splits():
    require(DIALOGSUM_DIR.is_dir(), f"the DialogSum copy at {DIALOGSUM_DIR}")
    test = load_dialogues(DIALOGSUM_DIR, split="test")
    assert len(test) == 500 and all(len(r.summaries) == 3 for r in test)
    flat = load_dialogues(DIALOGSUM_DIR / "dialogsum.test.flat.jsonl", group_references=True)
    assert [r.summaries for r in flat] == [r.summaries for r in test]
    assert len(load_dialogues(DIALOGSUM_DIR, split="validation")) == 500
    assert load_dialogues(DIALOGSUM_DIR, split="train", limit=3)[0].id == "train_0"
