"""scripts/run.sh's choice between the Hub default and the embedded local demo model."""

import json
import subprocess
import sys

from llmft.demo import hub_reachable
from llmft.hub import push_folder
from llmft.models import load_model


def test_hub_check_follows_the_hub(tiny_models, local_hub, monkeypatch):
    assert not hub_reachable("me/flan-demo", timeout=2)  # not there yet
    push_folder(tiny_models.base, "me/flan-demo")
    assert hub_reachable("me/flan-demo", timeout=2)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not hub_reachable("me/flan-demo", timeout=2)


def test_check_hub_command_exits_1_offline(subprocess_env):
    result = subprocess.run(
        [sys.executable, "-m", "llmft.demo", "check-hub"], env=subprocess_env, capture_output=True, timeout=120
    )
    assert result.returncode == 1, result.stderr.decode()[-2000:]


def test_demo_build_trains_through_the_package_and_marks_its_models(tmp_path, subprocess_env):
    """`python -m llmft.demo build` (what scripts/run.sh runs without the Hub): both models trained by
    `python -m llmft.training`, each folder marked as the demo model, and export lines on stdout alone."""
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "llmft.demo", "build", str(out)],
        env=subprocess_env | {"OMP_NUM_THREADS": "1"},
        cwd=tmp_path,  # not the repository: the training code comes from the package
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        f"export LLMFT_BASE_MODEL={out / 'full'}",
        f"export LLMFT_LORA_ADAPTER={out / 'lora'}",
        f"export LLMFT_SUMMARIZER_BASE={out / 'model'}",
        f"export LLMFT_FULL_MODEL={out / 'full'}",
        f"export LLMFT_DATASET={out / 'data'}",
        "export HF_HUB_OFFLINE=1",
    ]
    for folder in ("model", "full", "lora"):  # the untuned base too: the Summarizer shows it as a variant
        marker = json.loads((out / folder / "llmft_demo.json").read_text())
        assert marker == {"demo": True, "what": "tiny T5 trained on synthetic dialogues by llmft.demo"}
    for method in ("full", "lora"):
        assert (out / method / "eval" / "results.json").is_file()
    assert load_model(str(out / "lora"), use_cache=False).kind == "adapter"
