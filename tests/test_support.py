"""The test suite's own safety nets: `require` (skip here, fail in CI) and the network guard's report from
child processes. A net that cannot fail catches nothing, so each is shown failing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.require import require

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_require_is_silent_when_met_skips_here_and_fails_under_the_switch(monkeypatch):
    monkeypatch.delenv("LLMFT_REQUIRE_ALL", raising=False)
    require(True, "anything")  # met: nothing happens
    with pytest.raises(pytest.skip.Exception, match="Chromium at /usr/bin/chromium is missing; skipped"):
        require(False, "Chromium at /usr/bin/chromium")
    monkeypatch.setenv("LLMFT_REQUIRE_ALL", "1")
    require(True, "anything")
    with pytest.raises(pytest.fail.Exception, match="Chromium at /usr/bin/chromium is missing and LLMFT_REQUIRE_ALL=1"):
        require(False, "Chromium at /usr/bin/chromium")
    monkeypatch.setenv("LLMFT_REQUIRE_ALL", "0")  # only "1" turns it on
    with pytest.raises(pytest.skip.Exception):
        require(False, "x")


INNER_TESTS = '''
import subprocess
import sys

from tests.support.apps import guarded_env

# The child catches the guard's error and exits 0: only the report to the parent can give it away.
REACH_OUT = """
import socket
try:
    socket.create_connection(("10.255.255.1", 80), timeout=1)
except OSError as err:
    print("caught:", err)
"""


def test_a_child_that_reaches_out():
    subprocess.run([sys.executable, "-c", REACH_OUT], env=guarded_env(), check=True, timeout=60)


def test_a_child_that_stays_local():
    subprocess.run([sys.executable, "-c", "print('hello')"], env=guarded_env(), check=True, timeout=60)
'''


def test_a_childs_blocked_connection_fails_the_parents_test(tmp_path, subprocess_env):
    """An inner pytest run with this suite's conftest: the test whose child tried the network fails, the
    other passes, and the report names the address."""
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS), encoding="utf-8")
    env = {k: v for k, v in subprocess_env.items() if not k.startswith("LLMFT_NETGUARD")}  # a fresh parent
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "a child process of this test tried to reach non-loopback hosts" in out and "10.255.255.1" in out, out
    assert "2 passed, 1 error" in out, out  # the call phases pass; the guard fails the first at teardown
    assert "ERROR at teardown of test_a_child_that_reaches_out" in out, out
