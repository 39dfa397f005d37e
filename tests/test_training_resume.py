"""Resume rules: the learning-rate schedule never changes mid-run, and an abandoned branch's checkpoints
are never picked by `latest`."""

from __future__ import annotations

import json
import logging

import pytest

from llmft.errors import ConfigError
from llmft.training import latest_checkpoint, list_checkpoints, read_train_log
from tests.support.training import load_script, make_project, one_torch_thread, train_argv

pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it
QUICK = {"eval_steps": 0, "do_test_eval": "false", "report_to": "none", "logging_steps": 1, "save_total_limit": "none"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("resume-project"))


def _losses(folder) -> dict[int, float]:
    return {r["step"]: r["value"] for r in read_train_log(folder) if r["metric"] == "loss"}


def _learning_rates(folder) -> dict[int, float]:
    return {r["step"]: r["value"] for r in read_train_log(folder) if r["metric"] == "learning_rate"}


def test_a_longer_run_on_resume_is_refused_with_a_decaying_schedule(project, tmp_path):
    train = load_script("train").main
    out = tmp_path / "linear"
    train(train_argv(project, "full", out, max_steps=4, save_steps=2, **QUICK))
    recorded = (out / "run_config.json").read_text()
    with pytest.raises(ConfigError, match=r"belongs to a run of 4 steps, and these settings make it 8") as err:
        train(train_argv(project, "full", out, max_steps=8, save_steps=2, resume_from_checkpoint="latest", **QUICK))
    assert "'linear' learning-rate schedule is laid out over the run's steps" in str(err.value)
    assert "lr_scheduler_type: constant" in str(err.value)
    # num_train_epochs counts too: 16 rows at 16 a step (the tiny recipe) is one step an epoch: 3 epochs, 3 steps.
    with pytest.raises(ConfigError, match=r"run of 4 steps, and these settings make it 3 "):
        train(
            train_argv(
                project,
                "full",
                out,
                max_steps=-1,
                num_train_epochs=3,
                save_steps=2,
                resume_from_checkpoint="latest",
                **QUICK,
            )
        )
    assert (out / "run_config.json").read_text() == recorded, "a refused resume must not touch the run folder"
    # The same length resumes (from the last step: straight to the final model).
    assert (
        train(train_argv(project, "full", out, max_steps=4, save_steps=2, resume_from_checkpoint="latest", **QUICK))
        == 0
    )


def test_a_constant_schedule_run_extends_exactly(project, tmp_path):
    """Four steps, then resumed to eight: the same losses and learning rates as eight steps in one go."""
    train = load_script("train").main
    constant = {"lr_scheduler_type": "constant", "dropout_rate": 0.1, "per_device_train_batch_size": 4, **QUICK}
    extended, reference = tmp_path / "extended", tmp_path / "reference"
    train(train_argv(project, "full", extended, max_steps=4, save_steps=4, **constant))
    train(train_argv(project, "full", extended, max_steps=8, save_steps=4, resume_from_checkpoint="latest", **constant))
    train(train_argv(project, "full", reference, max_steps=8, save_steps=4, **constant))
    assert sorted(_losses(extended)) == list(range(1, 9))
    assert _losses(extended) == pytest.approx(_losses(reference), rel=1e-4)
    assert set(_learning_rates(extended).values()) == {0.01}  # the tiny recipe's rate, at every step
    assert json.loads((extended / "run_config.json").read_text())["max_steps"] == 8


def test_resuming_an_older_checkpoint_retires_the_newer_ones(project, tmp_path, caplog):
    train = load_script("train").main
    out = tmp_path / "branch"
    train(train_argv(project, "full", out, max_steps=6, save_steps=2, **QUICK))
    assert [step for step, _ in list_checkpoints(out)] == [2, 4, 6]

    caplog.set_level(logging.WARNING, logger="llmft")
    # Back to step 2, and this time no checkpoints are written: only the old branch's 4 and 6 could be newer.
    argv = train_argv(
        project, "full", out, max_steps=6, save_steps=0, resume_from_checkpoint=out / "checkpoint-2", **QUICK
    )
    assert train(argv) == 0
    assert latest_checkpoint(out) == out / "checkpoint-2"
    assert (out / "checkpoint-4.abandoned").is_dir() and (out / "checkpoint-6.abandoned").is_dir()
    assert "renamed the newer checkpoints of the abandoned run (checkpoint-4, checkpoint-6)" in caplog.text
    assert sorted(_losses(out)) == list(range(1, 7)), "the log holds one row per step: the old branch's dropped"

    # `latest` now resumes from step 2, the branch that was kept (the run is finished: nothing to train).
    assert (
        train(train_argv(project, "full", out, max_steps=6, save_steps=0, resume_from_checkpoint="latest", **QUICK))
        == 0
    )
