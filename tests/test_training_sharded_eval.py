"""Sharded evaluation: two CPU processes each generate their share of the rows, and the predictions, their
order and the scores are exactly those of one process.

7 test rows on 2 processes are split 4 + 3 (Accelerate gives the first `7 % 2` processes one row more), 5
validation rows 3 + 2: uneven shards on purpose. One two-process training run (module fixture) gives both
the end-of-training evaluation and the trained model that `training/evaluate.py` then scores.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from llmft.data import write_jsonl
from llmft.errors import ConfigError
from llmft.evaluation import evaluate_model, evaluate_saved_model
from llmft.models import GenerationSettings, load_model
from llmft.training import read_train_log
from tests.support.apps import guarded_env
from tests.support.training import REPO_ROOT, free_port, load_script, make_project, one_torch_thread, train_argv

pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it

TEST_ROWS, VALIDATION_ROWS = 7, 5
# The tiny recipe's generation and prompt settings, which the training run uses for its evaluation.
SETTINGS = GenerationSettings(max_new_tokens=32)
MAX_SOURCE_TOKENS, EVAL_BATCH = 64, 16


def _launch(script: str, argv: list[str]) -> subprocess.CompletedProcess:
    """`script` on two CPU processes (gloo), as training/README.md says to run it."""
    # `accelerate launch --cpu --num_processes 2` starts one process in accelerate 1.15; the torchrun launcher
    # with ACCELERATE_USE_CPU starts two (see test_training_runs).
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()), str(REPO_ROOT / script), *argv,
    ]  # fmt: skip
    env = guarded_env() | {"ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def _summaries(folder: Path, column: str) -> list[tuple[str, str]]:
    with (folder / "predictions.csv").open(encoding="utf-8", newline="") as handle:
        return [(row["id"], row[column]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("sharded-eval"))


@pytest.fixture(scope="module")
def ddp_run(project, tmp_path_factory):
    """A full fine-tune on two processes, validated (5 generated rows) at its last step and tested on 7 rows.

    40 steps take the tiny model to a ROUGE-1 near 0.8 on its rows: scores with room to differ, not all 0 or 1.
    """
    out = tmp_path_factory.mktemp("ddp") / "run"
    flags = train_argv(
        project,
        "full",
        out,
        max_steps=40,
        per_device_train_batch_size=4,
        eval_steps=40,
        eval_generate_samples=VALIDATION_ROWS,
        save_steps=0,
        logging_steps=10,
        report_to="none",
        do_test_eval="true",
        max_test_samples=TEST_ROWS,
    )
    result = _launch("training/train.py", flags)
    assert "2 process(es)" in result.stderr, "not a two-process run"
    return out, result.stderr


def test_end_of_training_evaluation_is_sharded_and_matches_one_process(project, ddp_run, tmp_path):
    out, log = ddp_run
    # Each process generated only its contiguous share: 4 + 3 test rows, 3 + 2 validation rows.
    assert "Generated 7 summaries on 2 processes: [4, 3] rows each" in log
    assert "Generated 5 summaries on 2 processes: [3, 2] rows each" in log
    results = json.loads((out / "eval" / "results.json").read_text())
    assert results["rows"] == TEST_ROWS and results["models"]["full"]["rows_per_process"] == [4, 3]
    two = _summaries(out / "eval", "full_summary")
    assert [row_id for row_id, _ in two] == [row.id for row in project.rows[:TEST_ROWS]]  # input order

    # The same saved model scored by one process: the same summaries in the same order, the same ROUGE.
    test_rows = project.rows[:TEST_ROWS]
    one = evaluate_saved_model(
        out, "full", test_rows, str(project.data), "test", SETTINGS, EVAL_BATCH, MAX_SOURCE_TOKENS,
        device="cpu", output_dir=tmp_path / "one",
    )  # fmt: skip
    assert one is not None and one["models"]["full"]["rows_per_process"] == [TEST_ROWS]
    assert _summaries(tmp_path / "one", "full_summary") == two
    assert one["models"]["full"]["rouge"] == results["models"]["full"]["rouge"]
    rouge1 = results["models"]["full"]["rouge"]["rouge1"]
    assert 0.2 < rouge1 < 1.0, f"ROUGE-1 {rouge1}: too trivial a score to compare"
    assert len({summary for _, summary in two}) > 1, "every row got the same summary"

    # Validation at the last step generated with the final weights, sharded 3 + 2: one process scoring the
    # first 5 validation rows (the same rows here) with the saved model logs the same ROUGE.
    loaded = load_model(str(out), device="cpu", use_cache=False)
    scored = evaluate_model(loaded, project.rows[:VALIDATION_ROWS], settings=SETTINGS, batch_size=EVAL_BATCH,
                            max_input_tokens=MAX_SOURCE_TOKENS)  # fmt: skip
    assert scored is not None
    logged = {row["metric"]: row["value"] for row in read_train_log(out) if row["split"] == "eval"}
    for metric, value in scored.single.mean.items():
        assert logged[metric] == pytest.approx(value, abs=1e-6)  # the log keeps 6 significant digits


def test_evaluate_script_is_sharded_and_matches_one_process(project, ddp_run, tmp_path, capsys):
    trained, _ = ddp_run
    # Several references on some rows: multi-reference ROUGE comes from the gathered predictions too.
    rows = [
        replace(row, summaries=[*row.summaries, f"In short: {row.summaries[0]}"]) if index < 3 else row
        for index, row in enumerate(project.rows[:TEST_ROWS])
    ]
    data = write_jsonl(rows, tmp_path / "data" / "test.jsonl")
    argv = ["--models", f"base={project.base}", f"full={trained}", "--dataset_name", str(data)]
    argv += ["--batch_size", "2", "--max_new_tokens", "32"]

    result = _launch("training/evaluate.py", [*argv, "--output_dir", str(tmp_path / "two")])
    assert result.stdout.count(f"ROUGE on {TEST_ROWS} dialogues") == 1, "more than one process reported"
    assert result.stderr.count("Generated 7 summaries on 2 processes: [4, 3] rows each") == 2  # one per model
    assert load_script("evaluate").main([*argv, "--output_dir", str(tmp_path / "one")]) == 0
    capsys.readouterr()

    # Byte for byte: ids in input order, references, each model's summary and per-row ROUGE.
    one_csv, two_csv = ((tmp_path / name / "predictions.csv").read_text() for name in ("one", "two"))
    assert two_csv == one_csv
    assert [row_id for row_id, _ in _summaries(tmp_path / "two", "full_summary")] == [row.id for row in rows]
    one, two = (json.loads((tmp_path / name / "results.json").read_text()) for name in ("one", "two"))
    for name in ("base", "full"):
        assert two["models"][name]["rows_per_process"] == [4, 3] and one["models"][name]["rows_per_process"] == [7]
        assert two["models"][name]["rouge"] == one["models"][name]["rouge"]
        assert two["models"][name]["rouge_multi_ref"] == one["models"][name]["rouge_multi_ref"]
    assert two["differences_from_baseline"] == one["differences_from_baseline"]
    assert one["models"]["full"]["rouge"]["rouge1"] > 0.2  # a real score, not the untrained base's 0


def test_processes_that_cannot_join_one_run_are_refused_before_any_work(tmp_path, monkeypatch):
    """Started as 2 processes that come up as 2 separate ones (torchrun on CPUs without ACCELERATE_USE_CPU):
    each would score every row and write the same files, so the script stops and says what to set."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("ACCELERATE_USE_CPU", raising=False)
    # Neither model nor data exists: the check comes before either is read.
    argv = ["--models", f"base={tmp_path / 'no-model'}", "--dataset_name", str(tmp_path / "no-data.jsonl")]
    with pytest.raises(ConfigError, match="Started as 2 processes.*ACCELERATE_USE_CPU=true or pass --device cpu"):
        load_script("evaluate").main([*argv, "--output_dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
