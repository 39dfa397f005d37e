"""One command per Space: build its self-contained folder and upload it to the Hub (`python -m llmft.deploy`).

    plan = plan_space("summarizer")                  # the files, nothing written
    deploy(plan, plan.write(folder), "me/flan-t5-summarizer", secrets={"HF_TOKEN": ...}, variables={...})

`build` plans the folder (the app, the `llmft` modules it imports, pinned requirements, README front matter, data
files), `upload` creates the Space, sets its secrets and variables and uploads the folder, `__main__` is the CLI.
"""

from llmft.deploy.build import PlannedFile, SpacePlan, human_size, plan_space
from llmft.deploy.spaces import SPACE_NAMES, Checkout
from llmft.deploy.upload import DeployResult, check_repo_id, deploy

__all__ = [
    "SPACE_NAMES",
    "Checkout",
    "DeployResult",
    "PlannedFile",
    "SpacePlan",
    "check_repo_id",
    "deploy",
    "human_size",
    "plan_space",
]
