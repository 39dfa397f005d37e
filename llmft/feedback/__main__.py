"""python -m llmft.feedback stats|export: counts of the votes, and votes turned into evaluation drafts.

    python -m llmft.feedback stats                      # votes per app, per variant, per status
    python -m llmft.feedback export --out outputs/feedback-export
    python -m llmft.feedback export --from pulled-dataset/   # a folder pulled from the feedback dataset works too

`--from` defaults to LLMFT_FEEDBACK_DIR (outputs/feedback). The export writes shopbot_drafts.jsonl (down-voted
answers in bench/shopbot_questions.jsonl's fields, with `must` and `must_not` left for a person to fill in) and
summary_votes.csv (a file the Summarizer's batch tab accepts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llmft.errors import ConfigError, run_cli
from llmft.feedback.export import export, stats_lines
from llmft.feedback.store import read_rows
from llmft.settings import FeedbackSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmft.feedback", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["stats", "export"])
    parser.add_argument("--from", dest="source", type=Path,
                        help="folder of votes-*.jsonl (default: LLMFT_FEEDBACK_DIR)")
    parser.add_argument("--out", type=Path, default=Path("outputs/feedback-export"), help="export: where to write")
    args = parser.parse_args(argv)
    source = args.source or FeedbackSettings.from_env().folder
    if not source.is_dir():
        raise ConfigError(f"{source} is not a folder of votes (set --from or LLMFT_FEEDBACK_DIR).")
    rows = read_rows(source)
    if args.command == "stats":
        print("\n".join(stats_lines(rows)))
        return 0
    drafts, n_drafts, summaries, n_summaries = export(rows, args.out)
    print(f"{n_drafts} draft question(s) from down-voted Shopbot answers: {drafts}")
    print("  A person must fill in each draft's 'must' and 'must_not' (the expected facts) before adding it to "
          "bench/shopbot_questions.jsonl.")
    print(f"{n_summaries} summary vote(s) as a batch file for the Summarizer: {summaries}")
    return 0


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
