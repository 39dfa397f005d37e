"""scripts/run.sh's choice between the Hub default and the embedded local demo model."""

import subprocess
import sys

from llmft.demo import hub_reachable
from llmft.hub import push_folder


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
