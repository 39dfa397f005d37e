"""One switch between "skip" and "fail" for tests that need something outside the repository.

A test that needs Chromium, a running service or a data folder calls ``require(condition, what)``.
On a person's own machine a missing requirement skips the test and says what is missing. CI
(``.ci/run``) sets ``LLMFT_REQUIRE_ALL=1``: there every test it has must run, so the same missing
requirement fails the test with a message naming it instead of quietly shrinking the suite.
"""

from __future__ import annotations

import os

import pytest

SWITCH = "LLMFT_REQUIRE_ALL"


def require_all() -> bool:
    """Whether the switch is on (``LLMFT_REQUIRE_ALL=1``)."""
    return os.environ.get(SWITCH, "").strip() == "1"


def require(condition: bool, what: str) -> None:
    """Do nothing when ``condition`` holds; otherwise skip the test, or fail it under the switch.

    ``what`` names the missing thing and, where it helps, how to get it, e.g.
    ``"Chromium at /usr/bin/chromium (apt-get install chromium)"``.
    """
    if condition:
        return
    if require_all():
        pytest.fail(f"{what} is missing and {SWITCH}=1 (CI runs every test): install or start it", pytrace=False)
    pytest.skip(f"{what} is missing; skipped on this machine (set {SWITCH}=1 to make this a failure)")
