"""Training as users run it, in child processes: DDP on two CPU processes, and a run killed then resumed."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import zero_shot_prompt
from llmft.training import latest_checkpoint, list_checkpoints, read_train_log, read_training_state
from tests.support.training import REPO_ROOT, free_port, load_script, make_project, one_torch_thread, train_argv

TRAIN_PY = str(REPO_ROOT / "training" / "train.py")
SETTINGS = GenerationSettings(max_new_tokens=8)
pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("training-runs"))


@pytest.fixture()
def env(subprocess_env):
    # One thread per process: two DDP processes share the runner's two cores.
    return subprocess_env | {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _run(command: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def test_ddp_on_two_cpu_processes_writes_a_checkpoint_that_loads(project, tmp_path, env):
    out = tmp_path / "ddp"
    # `accelerate launch --cpu --num_processes 2` starts a single process in accelerate 1.15 (its CPU launcher
    # expects to run under mpirun); the torchrun launcher with ACCELERATE_USE_CPU gives two processes on gloo.
    launch = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
    ]
    # 16 rows, 4 per process per step: 2 steps per epoch, so step 4 is in the second epoch.
    flags = train_argv(
        project,
        "lora",
        out,
        max_steps=4,
        save_steps=2,
        eval_steps=2,
        eval_generate_samples=4,
        per_device_train_batch_size=4,
        logging_steps=1,
        report_to="none",
        do_test_eval="false",
    )
    result = _run([*launch, TRAIN_PY, *flags], env | {"ACCELERATE_USE_CPU": "true"})
    assert "2 process(es)" in result.stderr, "not a two-process run"  # logging goes to stderr

    checkpoint = latest_checkpoint(out)
    assert checkpoint == out / "checkpoint-4" and [s for s, _ in list_checkpoints(out)] == [2, 4]
    state = read_training_state(checkpoint)
    assert state["num_processes"] == 2 and state["global_step"] == 4 and state["epoch"] == 1
    assert {p.name for p in checkpoint.glob("random_states_*.pkl")} == {"random_states_0.pkl", "random_states_1.pkl"}
    log = read_train_log(out)
    assert [r["step"] for r in log if r["metric"] == "loss" and r["split"] == "train"] == [1, 2, 3, 4]
    assert {r["step"] for r in log if r["metric"] == "rouge1"} == {2, 4}  # evaluated on the main process

    loaded = load_model(str(checkpoint), use_cache=False)  # the checkpoint is an adapter folder like any other
    assert loaded.kind == "adapter" and loaded.base_model == str(project.base)
    prompts = [zero_shot_prompt(row.dialogue) for row in project.rows[:3]]
    final = load_model(str(out), use_cache=False)  # saved after step 4 too: the same weights
    assert generate(loaded, prompts, SETTINGS) == generate(final, prompts, SETTINGS)
    saved, trained = load_file(checkpoint / "adapter_model.safetensors"), load_file(out / "adapter_model.safetensors")
    assert saved.keys() == trained.keys() and all(torch.equal(saved[k], trained[k]) for k in saved)
    untrained = load_model(str(project.base), use_cache=False).model.state_dict()
    assert not all(torch.equal(v, untrained[k]) for k, v in final.model.merge_and_unload().state_dict().items())


def test_killed_run_resumes_from_latest_at_the_exact_step(project, tmp_path, env):
    """Kill a run after its first checkpoint; `--resume_from_checkpoint latest` finishes it with the very losses
    an uninterrupted run has (same batches, same dropout masks, same optimizer and schedule state)."""
    out = tmp_path / "killed"
    # 2 rows a micro-batch, 2 micro-batches a step, 4 steps an epoch: step 5 is two micro-batches into the
    # second epoch, so the data position and the accumulation count must come back. Dropout on: the RNG too.
    settings = dict(
        per_device_train_batch_size=2,
        gradient_accumulation_steps=2,
        max_steps=60,
        save_steps=5,
        save_total_limit=3,
        logging_steps=1,
        eval_steps=0,
        do_test_eval="false",
        report_to="none",
        dropout_rate=0.1,
    )
    command = [sys.executable, TRAIN_PY, *train_argv(project, "full", out, **settings)]
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 240
        while not (out / "checkpoint-5").is_dir():  # appears whole, by rename, once the save is complete
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint within 4 minutes"
            time.sleep(0.02)
        first.kill()  # SIGKILL: no clean-up of any kind, as a crash or a preemption
        first.wait()
    killed_at = latest_checkpoint(out)
    step = read_training_state(killed_at)["global_step"]
    assert 5 <= step < 60 and not (out / "model.safetensors").exists(), "the run finished before it was killed"

    resumed = _run([*command, "--resume_from_checkpoint", "latest"], env)
    assert f"Resuming from {killed_at} at step {step}" in resumed.stderr
    assert (out / "model.safetensors").is_file() and latest_checkpoint(out).name == "checkpoint-60"
    losses = {r["step"]: r["value"] for r in read_train_log(out) if r["metric"] == "loss"}
    assert sorted(losses) == list(range(1, 61)), "each step logged once, the stopped run's extra steps dropped"

    reference = tmp_path / "uninterrupted"
    load_script("train").main(train_argv(project, "full", reference, **settings))
    expected = {r["step"]: r["value"] for r in read_train_log(reference) if r["metric"] == "loss"}
    assert losses == pytest.approx(expected, rel=1e-4)


def test_a_bad_recipe_ends_with_a_message_not_a_traceback(tmp_path, env):
    recipe = tmp_path / "typo.yaml"
    recipe.write_text("method: lora\nlora_rank: 16\n")
    result = subprocess.run(
        [sys.executable, TRAIN_PY, "--config", str(recipe)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "error: Recipe" in result.stderr and "unknown key 'lora_rank'" in result.stderr
    assert "Traceback" not in result.stderr
