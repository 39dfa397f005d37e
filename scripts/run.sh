#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and start the apps: http://127.0.0.1:7860 (prompting), :7861 (summarizer),
# :7862 (shopbot: the demo store, on OPENAI_API_KEY / OPENAI_BASE_URL or else the local SmolLM2 llama.cpp server).
# With the Hub reachable they use google/flan-t5-base and knkarthick/dialogsum. Without it (or with
# HF_HUB_OFFLINE=1) they use the embedded local default: a tiny T5 fine-tuned here on synthetic
# dialogues in about a minute (python -m llmft.demo). Set LLMFT_BASE_MODEL / LLMFT_DATASET to choose.
set -euo pipefail
cd "$(dirname "$0")/.."
LLMFT_SKIP_APT=1 bash scripts/setup.sh   # the apps need no browser
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1
export LLMFT_ALLOW_ANY_MODEL="${LLMFT_ALLOW_ANY_MODEL:-1}"  # local use: any Hub id or folder (a hosted Space keeps 0)

if [[ -z "${LLMFT_BASE_MODEL:-}" ]] && ! .venv/bin/python -m llmft.demo check-hub; then
  echo "==> the Hub is not reachable: building the embedded local demo model (a minute or two, once)"
  eval "$(.venv/bin/python -m llmft.demo build outputs/demo)"
  echo "==> model: $LLMFT_BASE_MODEL  data: $LLMFT_DATASET"
fi

host="${GRADIO_SERVER_NAME:-127.0.0.1}"
echo "==> prompting Space on http://$host:7860, summarizer Space on http://$host:7861, shopbot Space on http://$host:7862 (Ctrl-C stops all)"
GRADIO_SERVER_PORT=7860 .venv/bin/python spaces/prompting/app.py &
GRADIO_SERVER_PORT=7861 .venv/bin/python spaces/summarizer/app.py &
GRADIO_SERVER_PORT=7862 .venv/bin/python spaces/shopbot/app.py &
trap 'kill $(jobs -p) 2>/dev/null || true' INT TERM EXIT  # Ctrl-C, or one app ending, stops the others too
wait -n
