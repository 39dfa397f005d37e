"""Importing a Space's `app.py` starts nothing: no model server, no thread, no child process, no store or votes
folder. Each import runs in a fresh interpreter (the test process has threads of its own), through `runpy` as
`import app` would; only `main()` makes the services and serves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.apps import guarded_env

SPACES = Path(__file__).resolve().parent.parent / "spaces"
PROBE = """
import json, os, runpy, sys, threading
import psutil
module = runpy.run_path(sys.argv[1], run_name="app")
print(json.dumps({"threads": [t.name for t in threading.enumerate()],
                  "children": [p.pid for p in psutil.Process().children(recursive=True)],
                  "main": callable(module.get("main"))}))
"""


@pytest.mark.parametrize("space", ["shopbot", "summarizer", "prompting"])
def test_importing_the_app_starts_nothing(space: str, tmp_path: Path) -> None:
    env = dict(guarded_env(), LLMFT_STORE_PATH=str(tmp_path / "store"), LLMFT_FEEDBACK_DIR=str(tmp_path / "votes"),
               LLMFT_FEEDBACK_DATASET="someone/votes", LLMFT_FEEDBACK_TOKEN="hf_not_a_token_for_tests",
               HF_HOME=str(tmp_path / "hf"))
    done = subprocess.run([sys.executable, "-c", PROBE, str(SPACES / space / "app.py")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"threads": ["MainThread"], "children": [], "main": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no store, no votes folder, no Hub cache
