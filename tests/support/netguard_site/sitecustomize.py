"""Loaded by Python in subprocesses the tests start (this folder is put first on PYTHONPATH).

It installs the same network guard as the test process, so a script or app under test that reaches
beyond 127.0.0.1 fails with a clear error instead of hanging or silently downloading.
"""

import os
import sys

if os.environ.get("LLMFT_NETGUARD") == "1":
    sys.path.insert(0, os.environ["LLMFT_NETGUARD_PATH"])
    import netguard  # noqa: E402

    netguard.install()
