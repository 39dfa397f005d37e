r"""Fine-tune FLAN-T5 on DialogSum, fully or with LoRA, with Accelerate; score it with ROUGE; push it to the Hub.

One GPU:
    accelerate launch --config_file training/configs/single_gpu.yaml training/train.py \
        --config training/recipes/flan-t5-base/lora.yaml

Several GPUs (DDP), or DeepSpeed ZeRO-2 (needs `pip install deepspeed`); CPU for a smoke test:
    accelerate launch --config_file training/configs/multi_gpu.yaml --num_processes 4 training/train.py --config ...
    accelerate launch --config_file training/configs/deepspeed_zero2.yaml training/train.py --config ...
    accelerate launch --config_file training/configs/cpu.yaml training/train.py --config training/recipes/tiny/lora.yaml
    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 training/train.py --config ...  # CPU DDP

Every recipe key is also a flag (`--learning_rate 3e-4`, `--max_steps 100`), and a flag wins over the recipe.
After a crash or preemption, run the same command with `--resume_from_checkpoint latest`.
To publish: `--push_to_hub --hub_model_id you/flan-t5-base-dialogsum-lora` (HF_TOKEN must be set).
`python -m llmft.training ...` runs the same thing without this file's path.

The stages (settings, model, data, the loop, the final model, its test score, publishing) are
`llmft.training.run.main`; each stage's logic is one module of `llmft.training`.
"""

from __future__ import annotations

from llmft.errors import run_cli
from llmft.training.run import main as _main


def main(argv: list[str] | None = None) -> int:
    return _main(argv, usage=__doc__)


if __name__ == "__main__":
    run_cli(main)
