#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the whole test suite, offline. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/ruff check .
.venv/bin/python -m pytest -q --timeout=600 "$@"
