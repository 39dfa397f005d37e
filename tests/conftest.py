"""Shared fixtures: an offline, loopback-only world with tiny models and a local Hub.

- Every test runs with a network guard: a connection to anything but 127.0.0.1 raises and fails the test,
  also when a child process the test started (a script, an app) made it: children report to a file.
- Tests that need something outside the repository (Chromium, the DialogSum copy) call
  `tests.support.require.require`: skipped here, a failure under `LLMFT_REQUIRE_ALL=1` (CI).
- Hugging Face caches live in a per-session temporary folder, never in the user's home.
- `tiny_models` builds, once per session, a tiny T5 (tokenizer trained on the fly), a LoRA adapter for
  it, and a second tiny T5 of another shape (for adapter/base mismatch tests).
- `local_hub` starts the Hub API test double on 127.0.0.1 and points `HF_ENDPOINT` / `HF_TOKEN` at it.
- `subprocess_env` gives child processes (scripts, apps) the same guard and settings.
- `demo_build` builds the embedded demo model (`python -m llmft.demo build`) once per session.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import netguard

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DIALOGSUM_DIR = SHARED_DATA / "dialogsum"
WRITE_TOKEN = "hf_test_write_token"

netguard.install()

# Set before any test imports huggingface_hub / transformers / gradio, which read these at import.
_CACHE = Path(os.environ.setdefault("LLMFT_TEST_CACHE", f"/tmp/llmft-test-cache-{os.getpid()}"))
os.environ["HF_HOME"] = str(_CACHE / "hf")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
for _secret in ("HF_TOKEN", "OPENAI_API_KEY"):
    os.environ.pop(_secret, None)


_CHILD_LOG_READ = [0]  # bytes of netguard.child_log_path() already charged to a test
netguard.child_log_path().unlink(missing_ok=True)  # a file left by an earlier process with this pid


def _new_child_attempts() -> list[str]:
    attempts, _CHILD_LOG_READ[0] = netguard.child_attempts(_CHILD_LOG_READ[0])
    return attempts


@pytest.fixture(autouse=True)
def _no_network_escapes():
    """Fail any test during which something tried to leave the machine, even if it was caught: in this
    process (`netguard.ATTEMPTS`) or in a child it started (the children's log)."""
    before = len(netguard.ATTEMPTS)
    # Children's attempts since the last check count here too: an app started by a module fixture for
    # this test did so before this fixture's setup.
    yield
    escaped = netguard.ATTEMPTS[before:]
    assert not escaped, f"test tried to reach non-loopback hosts: {sorted(set(escaped))}"
    children = _new_child_attempts()
    assert not children, f"a child process of this test tried to reach non-loopback hosts: {children}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Attempts made after the last test's check (an app shutting down) still fail the run."""
    late = _new_child_attempts()
    netguard.child_log_path().unlink(missing_ok=True)
    if late:
        print(f"\nnetwork guard: child processes tried to reach non-loopback hosts after the tests: {late}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@dataclass
class TinyModels:
    base: Path  # tiny T5, "flan-t5-like"
    lora: Path  # LoRA (q, v) adapter on `base`
    other_base: Path  # another tiny T5 (different width): an adapter for `base` does not fit it
    other_lora: Path  # LoRA adapter on `other_base`


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    from llmft.demo.tiny import build_tiny_lora, build_tiny_t5

    root = tmp_path_factory.mktemp("tiny-models")
    base = build_tiny_t5(root / "tiny-t5", seed=0)
    other = build_tiny_t5(root / "other-tiny-t5", d_model=32, seed=1)
    return TinyModels(
        base=base,
        lora=build_tiny_lora(base, root / "tiny-t5-lora", seed=2),
        other_base=other,
        other_lora=build_tiny_lora(other, root / "other-tiny-t5-lora", seed=3),
    )


@pytest.fixture()
def local_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A Hub API server on 127.0.0.1, with HF_ENDPOINT, HF_TOKEN and a fresh cache pointing at it."""
    import huggingface_hub.constants as hf_constants

    from tests.support.hub_server import LocalHub

    with LocalHub(write_tokens=[WRITE_TOKEN]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        monkeypatch.setattr(hf_constants, "ENDPOINT", hub.url)
        # Download URLs come from a template fixed at import; code that passes no `endpoint=`
        # (transformers' from_pretrained) would otherwise still go to huggingface.co.
        monkeypatch.setattr(
            hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        )
        yield hub


@pytest.fixture()
def subprocess_env(tmp_path: Path) -> dict[str, str]:
    """Environment for child processes: the network guard, offline defaults, the repo importable."""
    from tests.support.apps import guarded_env  # one definition, shared with module-scoped app fixtures

    return guarded_env()


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable


@dataclass
class DemoBuild:
    root: Path  # the build folder
    result: subprocess.CompletedProcess[str]  # `python -m llmft.demo build ROOT`, run from outside the repository
    seconds: float

    @property
    def settings(self) -> dict[str, str]:
        """The `export NAME=VALUE` lines it printed, as a dict (what scripts/run.sh evaluates)."""
        pairs = [shlex.split(line.removeprefix("export "))[0] for line in self.result.stdout.splitlines()]
        return dict(pair.split("=", 1) for pair in pairs)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The embedded demo model (`python -m llmft.demo build`), built once per session for the tests that use it
    (tests/test_demo.py checks the build itself; tests/test_launcher.py serves it)."""
    from tests.support.apps import guarded_env

    root = tmp_path_factory.mktemp("demo-build") / "demo"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "llmft.demo", "build", str(root)],
        env=guarded_env(),
        cwd=root.parent,  # not the repository: the training code comes from the package
        capture_output=True,
        text=True,
        timeout=900,
    )
    return DemoBuild(root=root, result=result, seconds=time.monotonic() - started)
