#!/usr/bin/env bash
# The training benchmarks on one CUDA GPU, in under 8 minutes, into ONE markdown report:
#   1. bench/train_loop_vs_trainer.py: our Accelerate loop against Seq2SeqTrainer, full and LoRA, bf16, batch 8
#   2. bench/train_memory.py --table in bf16: full and LoRA, gradient checkpointing off and on, batches 2, 8, 16
#      (512 prompt + 128 summary tokens: the recipes' longest rows)
#   3. the tiny recipe (training/recipes/tiny, data from llmft.demo.tiny), full and LoRA, 100 steps each through
#      `accelerate launch training/train.py`, with a check that the logged loss falls (first vs last)
#   4. bench/summarize_throughput.py: summaries per second (the script runs on the CPU; ct2 only if installed)
#
#   bash bench/gpu_suite.sh [OUT_DIR]                 # report: OUT_DIR/gpu_suite_report.md (default outputs/gpu-suite)
#   PYTHON=/path/to/python bash bench/gpu_suite.sh    # default: .venv/bin/python if there, else python3
#   LLMFT_GPU_SUITE_QUICK=1 bash bench/gpu_suite.sh   # the same steps, shrunk to a few minutes on a CPU
#
# Without a CUDA GPU the suite runs in quick mode on the CPU (and says so). Every step has a time limit
# (`timeout`, its whole process group) and runs whatever the steps before it did: a failed or timed-out
# step is reported and the suite goes on. Exit status: the number of failed steps. Only the report (and
# nothing else) is written to OUT_DIR; step logs and run folders go to a temporary folder.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/outputs/gpu-suite}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
REPORT=$OUT/gpu_suite_report.md
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmft-gpu-suite.XXXXXX")
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON=$REPO/.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TQDM_DISABLE=1
cd "$REPO" || exit 99

SUITE_START=$(date +%s)
FAILED=0
SUMMARY=()

if [[ "$("$PYTHON" -c 'import torch; print(torch.cuda.is_available())' 2>/dev/null)" == "True" ]]; then
    CUDA=1
else
    CUDA=0
fi
QUICK=${LLMFT_GPU_SUITE_QUICK:-0}
if [[ $CUDA == 0 ]]; then QUICK=1; fi

# step NAME SECONDS COMMAND...: run it with a time limit, stdout and stderr apart; its stdout goes into the
# report, and, if it failed, the end of its stderr too.
step() {
    local name=$1 limit=$2
    shift 2
    local started status seconds last
    started=$(date +%s)
    echo "== $name (limit ${limit} s): $*" >&2
    timeout --kill-after=15 "$limit" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    status=$?
    seconds=$(($(date +%s) - started))
    if [[ $status == 0 ]]; then
        last=$(grep -v '^\s*$' "$WORK/$name.out" | tail -n 1)
        SUMMARY+=("| $name | ok | $seconds | ${last//|/\\|} |")
    else
        FAILED=$((FAILED + 1))
        if [[ $status == 124 || $status == 137 ]]; then last="TIMED OUT after $limit s"; else last="FAILED (exit $status)"; fi
        SUMMARY+=("| $name | **$last** | $seconds | see its section |")
    fi
    {
        echo "## $name"
        echo
        echo "\`$*\`: exit $status, $seconds s (limit $limit s)"
        echo
        echo '```'
        grep -v '^\s*$' "$WORK/$name.out"
        echo '```'
        if [[ $status != 0 ]]; then
            echo
            echo "End of its stderr:"
            echo
            echo '```'
            tail -n 25 "$WORK/$name.err"
            echo '```'
        fi
        echo
    } >>"$REPORT"
    echo "   $name: exit $status in $seconds s" >&2
    return 0
}

# --- header: the machine and the versions -----------------------------------------------------------------
{
    echo "# GPU suite report"
    echo
    echo "Written by \`bench/gpu_suite.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')$([[ $QUICK == 1 ]] && echo ', QUICK mode (shrunk sizes: not numbers to quote)')."
    echo
    echo '```'
    if [[ $CUDA == 1 ]] && command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/nvidia-smi: /'
    fi
    "$PYTHON" - <<'EOF' 2>&1
import os, platform, sys
import accelerate, peft, torch, transformers
gpu = (f"{torch.cuda.get_device_name(0)}, {torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB, "
       f"CUDA {torch.version.cuda}") if torch.cuda.is_available() else "none (CPU only)"
print(f"GPU: {gpu}")
print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}")
print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, "
      f"accelerate {accelerate.__version__}")
EOF
    echo '```'
    echo
} >"$REPORT"

# --- the steps ----------------------------------------------------------------------------------------------
if [[ $QUICK == 1 ]]; then
    MEMORY=(--device cpu --table --source_tokens 16 --target_tokens 4 --batch_sizes 2 --warmup_steps 1 --steps 1)
    LOOP=(--device cpu --model tiny --steps 3 --warmup_steps 1 --unfused)
    THROUGHPUT=(--dialogues 4 --round-size 4 --new-tokens 8)
    TINY_STEPS=30
    MFU_BATCHES=(4)
    LIMITS=(300 300 300 240)  # memory, loop, throughput, each tiny run: a shared 2-core machine is slow
    ACCELERATE_CONFIG=training/configs/cpu.yaml
else
    MEMORY=(--table --source_tokens 512 --target_tokens 128 --batch_sizes 2 8 16 --warmup_steps 2 --steps 5)
    LOOP=(--device cuda --model base --precision bf16 --batch_size 8 --steps 30 --warmup_steps 5)
    THROUGHPUT=(--dialogues 16 --round-size 16)
    TINY_STEPS=100
    MFU_BATCHES=(16 32)
    # On an H200 each benchmark child process took 15-30 s to start and load (2026-11-26): 12 for the
    # memory table, 4 for the loop. Typical total about 7 minutes, plus about 6 for the MFU steps (issue 19).
    LIMITS=(230 160 90 90)
    ACCELERATE_CONFIG=training/configs/single_gpu.yaml
fi
PATHS=(naive fp32 bf16)
if "$PYTHON" -c 'import ctranslate2' 2>/dev/null; then PATHS+=(ct2); else
    echo "ctranslate2 is not installed: the throughput step skips its ct2 path." >>"$REPORT"; echo >>"$REPORT"; fi

# Most wanted first: if the machine is taken back mid-way, the report holds what ran.
step train_loop_vs_trainer "${LIMITS[1]}" "$PYTHON" bench/train_loop_vs_trainer.py "${LOOP[@]}"
step train_memory "${LIMITS[0]}" "$PYTHON" bench/train_memory.py "${MEMORY[@]}"
# Issue 19: model FLOPs utilisation of full fine-tuning at larger batches, eager and compiled (target >= 30%
# on an H100/H200-class GPU); the loop benchmark prints tokens/s and MFU for each.
for batch in "${MFU_BATCHES[@]}"; do
    step "mfu_full_batch$batch" "${LIMITS[1]}" "$PYTHON" bench/train_loop_vs_trainer.py "${LOOP[@]}" \
        --methods full --batch_size "$batch"
done
if [[ $QUICK != 1 ]]; then  # inductor's C++ compile of even the tiny model takes minutes on a small CPU
    step mfu_full_compiled "${LIMITS[1]}" "$PYTHON" bench/train_loop_vs_trainer.py "${LOOP[@]}" --methods full \
        --batch_size "${MFU_BATCHES[-1]}" --torch_compile
fi

step tiny_project 60 "$PYTHON" -m llmft.demo.tiny "$WORK/tiny"
for method in full lora; do
    step "tiny_$method" "${LIMITS[3]}" "$PYTHON" -m accelerate.commands.launch --config_file "$ACCELERATE_CONFIG" \
        training/train.py --config "training/recipes/tiny/$method.yaml" \
        --model_name_or_path "$WORK/tiny/model" --dataset_name "$WORK/tiny/data" \
        --output_dir "$WORK/tiny-$method" --overwrite_output_dir --max_steps "$TINY_STEPS" --report_to none
    step "tiny_${method}_loss" 30 "$PYTHON" - "$WORK/tiny-$method" <<'EOF'
"""First against last logged training loss of a run folder, its test ROUGE and its speed; exit 1 unless it fell."""
import json
import sys
from pathlib import Path

from llmft.training import read_train_log

run = Path(sys.argv[1])
rows = [r for r in read_train_log(run) if r["split"] == "train" and r["metric"] == "loss"]
first, last = rows[0], rows[-1]
seconds = max(last["elapsed_s"] - first["elapsed_s"], 1e-9)
print("losses: " + ", ".join(f"{r['step']}: {r['value']:.3f}" for r in rows))
results = run / "eval" / "results.json"
if results.is_file():
    for name, model in json.loads(results.read_text())["models"].items():
        rouge = ", ".join(f"{k} {100 * v:.1f}" for k, v in model["rouge"].items())
        print(f"test split ROUGE (%) of '{name}': {rouge}")
falling = last["value"] < first["value"]
speed = {r["metric"]: r["value"] for r in read_train_log(run) if r["step"] == last["step"] and r["split"] == "train"}
print(f"last logged window: {speed.get('tokens_per_second', 0):.0f} tokens/s, padding "
      f"{100 * speed.get('pad_share', 0):.1f}%" + (f", MFU {100 * speed['mfu']:.1f}%" if "mfu" in speed else ""))
print(f"loss step {first['step']} {first['value']:.3f} -> step {last['step']} {last['value']:.3f}: "
      f"{'falling' if falling else 'NOT FALLING'}; {(last['step'] - first['step']) / seconds:.1f} steps/s between them")
sys.exit(0 if falling else 1)
EOF
done
step summarize_throughput "${LIMITS[2]}" "$PYTHON" bench/summarize_throughput.py "${THROUGHPUT[@]}" --paths "${PATHS[@]}"

# --- summary --------------------------------------------------------------------------------------------------
TOTAL=$(($(date +%s) - SUITE_START))
{
    echo "## Summary"
    echo
    echo "$((${#SUMMARY[@]} - FAILED)) of ${#SUMMARY[@]} steps passed in $TOTAL s (target: under 480 s on a GPU)."
    echo
    echo "| step | status | seconds | last line |"
    echo "|---|---|---|---|"
    printf '%s\n' "${SUMMARY[@]}"
} >>"$REPORT"
rm -rf "$WORK"
echo "report: $REPORT ($TOTAL s, $FAILED failed)" >&2
exit "$FAILED"
