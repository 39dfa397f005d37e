"""`python -m llmft.deploy SPACE --repo-id OWNER/NAME`: build the Space's folder and upload it to the Hub.

    python -m llmft.deploy summarizer --repo-id me/flan-t5-summarizer --dry-run      # list files and size only
    python -m llmft.deploy summarizer --repo-id me/flan-t5-summarizer \\
        --variable LLMFT_LORA_ADAPTERS=me/flan-t5-lora --secret HF_TOKEN=SPACE_READ_TOKEN
    python -m llmft.deploy shopbot --repo-id me/shopbot --secret OPENAI_API_KEY --private

`--secret NAME` sends the value of the environment variable NAME to the Space as a secret (never to a file, a log
or the screen; `--secret NAME=ENV_VAR` takes it from ENV_VAR instead); `--variable NAME=VALUE` sets a public Space
variable (model ids, settings). Both reach the app as environment variables. The token is HF_TOKEN or the one
`hf auth login` saved; HF_ENDPOINT picks another Hub.

`--feedback-dataset OWNER/NAME` keeps visitors' votes (llmft.feedback) in that private Hub dataset: it sets the
Space variables LLMFT_FEEDBACK_DATASET (and LLMFT_FEEDBACK_EVERY_MINUTES with `--feedback-every`) and the secret
LLMFT_FEEDBACK_TOKEN from the environment variable of that name (a token with write access to the dataset).

    LLMFT_FEEDBACK_TOKEN=hf_... python -m llmft.deploy shopbot --repo-id me/shopbot --feedback-dataset me/shop-votes
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from llmft.deploy.build import SpacePlan, human_size, plan_space
from llmft.deploy.spaces import SPACE_NAMES
from llmft.deploy.upload import check_env_name, check_no_secret_in_files, check_repo_id, deploy
from llmft.errors import ConfigError, run_cli

logger = logging.getLogger("llmft.deploy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m llmft.deploy",
        description="Build a Space's self-contained folder (app, the llmft modules it imports, pinned requirements, "
                    "README front matter, data) and upload it to the Hugging Face Hub.",
    )
    parser.add_argument("space", choices=SPACE_NAMES, help="which Space of spaces/ to deploy")
    parser.add_argument("--repo-id", required=True, metavar="OWNER/NAME", help="the Space on the Hub")
    parser.add_argument("--private", action="store_true", help="create the Space private (when it is created)")
    parser.add_argument("--secret", action="append", default=[], metavar="NAME[=ENV_VAR]",
                        help="set the Space secret NAME to the value of the environment variable NAME (or ENV_VAR); "
                             "never a value on the command line (repeatable)")
    parser.add_argument("--variable", action="append", default=[], metavar="NAME=VALUE",
                        help="set the Space variable NAME, e.g. LLMFT_BASE_MODEL=google/flan-t5-base (repeatable)")
    parser.add_argument("--feedback-dataset", metavar="OWNER/NAME",
                        help="push visitors' votes to this private dataset: the Space variable LLMFT_FEEDBACK_DATASET "
                             "and the secret LLMFT_FEEDBACK_TOKEN (from $LLMFT_FEEDBACK_TOKEN, with write access)")
    parser.add_argument("--feedback-every", type=float, metavar="MINUTES",
                        help="minutes between two pushes of the votes (LLMFT_FEEDBACK_EVERY_MINUTES; default 5)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the files, their size and the secret and variable names; upload nothing")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write the built folder here and keep it (default: a temporary folder)")
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    return parser.parse_args(argv)


def read_secrets(specs: list[str]) -> dict[str, str]:
    """{name: value} for `--secret NAME` (value in $NAME) or `NAME=ENV_VAR` (value in $ENV_VAR, e.g. a read-only
    HF_TOKEN for the Space while HF_TOKEN here is the write token that deploys); a ConfigError naming, never
    showing, what is missing."""
    secrets = {}
    for spec in specs:
        name, _, source = spec.partition("=")
        check_env_name(name, "secret")
        source = check_env_name(source or name, "--secret's environment variable")
        value = os.environ.get(source, "")
        if not value.strip():
            raise ConfigError(f"--secret {spec}: the environment variable {source} is not set; export it before "
                              "deploying (its value goes to the Space's secrets only).")
        secrets[name] = value
    return secrets


def read_variables(pairs: list[str]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--variable {pair!r} must be NAME=VALUE, like LLMFT_BASE_MODEL=google/flan-t5-base.")
        variables[check_env_name(name.strip(), "variable")] = value
    return variables


def feedback_settings(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The `--secret` specs and variables `--feedback-dataset` / `--feedback-every` add."""
    if args.feedback_dataset is None:
        if args.feedback_every is not None:
            raise ConfigError("--feedback-every needs --feedback-dataset (where the votes are pushed).")
        return [], {}
    try:
        check_repo_id(args.feedback_dataset)
    except ConfigError as err:  # the same rules as a Space id; the message names this option
        message = str(err).replace("--repo-id", "--feedback-dataset").replace("a Space id", "a dataset id")
        raise ConfigError(message) from None
    variables = {"LLMFT_FEEDBACK_DATASET": args.feedback_dataset}
    if args.feedback_every is not None:
        if not args.feedback_every > 0:
            raise ConfigError(f"--feedback-every {args.feedback_every:g}: give a number of minutes above 0.")
        variables["LLMFT_FEEDBACK_EVERY_MINUTES"] = f"{args.feedback_every:g}"
    named = {spec.partition("=")[0] for spec in args.secret}
    return ([] if "LLMFT_FEEDBACK_TOKEN" in named else ["LLMFT_FEEDBACK_TOKEN"]), variables


def plan_lines(plan: SpacePlan, repo_id: str, secrets: list[str], variables: list[str]) -> list[str]:
    """What a dry run prints: every file with its size, the total, and secret and variable names (no values)."""
    width = max(len(f.path) for f in plan.files)
    lines = [f"Dry run: the {plan.name} Space for {repo_id}; nothing is uploaded. Files:"]
    lines += [f"  {f.path.ljust(width)}  {human_size(f.size):>9}" for f in plan.files]
    lines.append(f"{len(plan.files)} files, {human_size(plan.total_bytes)} in all")
    lines.append(f"secrets (values from the environment): {', '.join(secrets) or 'none'}")
    lines.append(f"variables: {', '.join(variables) or 'none'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Our steps at INFO; the libraries' (httpx logs every request at INFO) at WARNING.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("llmft").setLevel(logging.WARNING if args.quiet else logging.INFO)
    check_repo_id(args.repo_id)
    feedback_secrets, feedback_variables = feedback_settings(args)
    secrets = read_secrets([*args.secret, *feedback_secrets])
    variables = {**read_variables(args.variable), **feedback_variables}
    plan = plan_space(args.space)
    check_no_secret_in_files(plan, secrets)
    if args.out is not None:
        plan.write(args.out)
    if args.dry_run:
        print("\n".join(plan_lines(plan, args.repo_id, list(secrets), list(variables))))
        return 0
    with tempfile.TemporaryDirectory(prefix=f"llmft-space-{args.space}-") as scratch:
        folder = args.out if args.out is not None else plan.write(Path(scratch) / args.space)
        result = deploy(plan, folder, args.repo_id, private=args.private, secrets=secrets, variables=variables)
    print(f"Deployed the {args.space} Space: {result.url} ({result.files} files, {human_size(result.total_bytes)})")
    return 0


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
