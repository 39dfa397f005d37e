"""`python -m llmft.training --config RECIPE ...`: the same run as `training/train.py`, without its path."""

from llmft.errors import run_cli
from llmft.training.run import main

if __name__ == "__main__":
    run_cli(main)
