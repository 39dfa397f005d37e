#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and start the three apps (python -m llmft.launch): http://127.0.0.1:7860 (prompting),
# :7861 (summarizer), :7862 (shopbot: the demo store, on OPENAI_API_KEY / OPENAI_BASE_URL or else the local SmolLM2
# llama.cpp server). With the Hub reachable they use google/flan-t5-base and knkarthick/dialogsum. Without it (or
# with HF_HUB_OFFLINE=1) they use the embedded local default: a tiny T5 trained here on synthetic dialogues in a
# minute or two, once (python -m llmft.demo). Set LLMFT_BASE_MODEL etc. (README: Settings) to choose the models.
# Arguments go to the launcher (--ports, --apps, --host). Ctrl-C stops every app and what they started.
#   LLMFT_SKIP_SETUP=1  skip scripts/setup.sh (an environment already set up)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${LLMFT_SKIP_SETUP:-0}" != 1 ]]; then
  LLMFT_SKIP_APT=1 bash scripts/setup.sh   # the apps need no browser
fi
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1
export LLMFT_ALLOW_ANY_MODEL="${LLMFT_ALLOW_ANY_MODEL:-1}"  # local use: any Hub id or folder (a hosted Space keeps 0)

if [[ -z "${LLMFT_BASE_MODEL:-}" ]] && ! .venv/bin/python -m llmft.demo check-hub; then
  echo "==> the Hub is not reachable: building the embedded local demo model (a minute or two, once)"
  eval "$(.venv/bin/python -m llmft.demo build outputs/demo)"
  echo "==> model: $LLMFT_BASE_MODEL  data: $LLMFT_DATASET"
fi

exec .venv/bin/python -m llmft.launch "$@"   # exec: Ctrl-C and kill reach the launcher itself, which stops the apps
