"""`bash scripts/run.sh` (the README's first command): the three apps on the demo build, their addresses and models
printed, each answering gradio_client, and Ctrl-C stopping every process it started, the llama.cpp server too."""

import os
import re
import signal
import subprocess
import threading
import time

import psutil
import pytest
from gradio_client import Client

from llmft.errors import ConfigError
from llmft.launch import App, model_line, parse_apps
from tests.conftest import REPO_ROOT
from tests.support.apps import free_port, guarded_env

READY_TIMEOUT_S = 300  # three apps importing torch and gradio side by side on a shared 2-core machine
STOP_TIMEOUT_S = 20  # the launcher gives each app 10 s after SIGTERM, then kills what is left


def test_launcher_refuses_unknown_apps_and_mismatched_ports():
    with pytest.raises(ConfigError, match="unknown app.*summariser.*choose from prompting, summarizer, shopbot"):
        parse_apps("prompting,summariser", None, "127.0.0.1")
    with pytest.raises(ConfigError, match="one distinct port per app: 2 app"):
        parse_apps("prompting,shopbot", "7000", "127.0.0.1")
    with pytest.raises(ConfigError, match="comma-separated numbers"):
        parse_apps("prompting", "seventy", "127.0.0.1")
    apps = parse_apps("shopbot,prompting", None, "0.0.0.0")
    assert [(a.name, a.port, a.url, a.local_url) for a in apps] == [
        ("shopbot", 7862, "http://0.0.0.0:7862", "http://127.0.0.1:7862"),
        ("prompting", 7860, "http://0.0.0.0:7860", "http://127.0.0.1:7860"),
    ]


def _read_until_running(process: subprocess.Popen, lines: list[str], done: threading.Event) -> None:
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if "app(s) running" in line:
            done.set()
    done.set()  # stdout closed: the launcher ended


def test_run_sh_serves_the_three_apps_and_ctrl_c_stops_everything(demo_build, tmp_path):
    assert demo_build.result.returncode == 0, demo_build.result.stderr[-3000:]
    ports = [free_port() for _ in range(3)]
    env = guarded_env() | demo_build.settings | {"LLMFT_SKIP_SETUP": "1", "GRADIO_SERVER_NAME": "127.0.0.1"}
    log = (tmp_path / "launcher.log").open("w")
    launcher = subprocess.Popen(
        ["bash", "scripts/run.sh", "--ports", ",".join(map(str, ports))],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
        start_new_session=True,  # its own process group, as a terminal gives the command it runs
    )
    lines: list[str] = []
    running = threading.Event()
    threading.Thread(target=_read_until_running, args=(launcher, lines, running), daemon=True).start()
    tree: list[psutil.Process] = []
    try:
        running.wait(READY_TIMEOUT_S)
        assert launcher.poll() is None, f"the launcher ended ({launcher.returncode}): {lines}\n" + (
            tmp_path / "launcher.log").read_text()[-4000:]
        assert lines and "3 app(s) running" in lines[-1], lines
        urls = {m[1]: m[2] for line in lines if (m := re.match(r"==> (\w+)\s+(http://\S+)", line))}
        assert urls == {"prompting": f"http://127.0.0.1:{ports[0]}", "summarizer": f"http://127.0.0.1:{ports[1]}",
                        "shopbot": f"http://127.0.0.1:{ports[2]}"}
        said = "\n".join(lines)
        # Each app's model, as the app reports it: the demo build's folders, the local llama.cpp model.
        assert f"model {demo_build.root / 'full'}" in said and "embedded demo model" in said
        assert f"base {demo_build.root / 'model'}; full {demo_build.root / 'full'}" in said
        assert "lora-1" in said and "unavailable" not in said
        assert "model: local llama.cpp · SmolLM2-135M-Instruct (offline)" in said

        root = psutil.Process(launcher.pid)  # bash exec'd the launcher: same pid
        tree = [root, *root.children(recursive=True)]
        commands = [" ".join(p.cmdline()) for p in tree]
        assert any("llmft.chat.local_server" in c for c in commands), commands  # the Shopbot's llama.cpp server
        assert sum("spaces/" in c and c.endswith("app.py") for c in commands) == 3, commands

        example_id, dialogue, _ = Client(urls["prompting"], verbose=False).predict(
            example_id="demo_384", topic="", api_name="/load_example")  # the first test row: 360 + 24
        assert example_id == "demo_384" and dialogue.startswith("#Person")
        example_id, dialogue, _ = Client(urls["summarizer"], verbose=False).predict(
            example_id="demo_390", api_name="/load_example")
        assert example_id == "demo_390" and dialogue.startswith("#Person")
        assert "SmolLM2" in Client(urls["shopbot"], verbose=False).predict(api_name="/backend")
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
        started = time.monotonic()
        gone, alive = psutil.wait_procs(tree, timeout=STOP_TIMEOUT_S)
        for process in alive:  # never leave a server behind, even when the assertion below fails
            process.kill()
        try:
            launcher.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
        log.close()
    assert not alive, [p.pid for p in alive]
    assert launcher.returncode == 0
    assert time.monotonic() - started < STOP_TIMEOUT_S


def test_the_prompting_line_says_why_its_model_cannot_load(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model"
    monkeypatch.setenv("LLMFT_BASE_MODEL", str(missing))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert model_line(App("prompting", 7860, "127.0.0.1")) == (
        f"model {missing}: unavailable: Model '{missing}': no such local folder, and it is not a valid Hub model id.")
    monkeypatch.setenv("LLMFT_BASE_MODEL", "google/flan-t5-base")  # offline, and not in this session's cache
    assert model_line(App("prompting", 7860, "127.0.0.1")).startswith(
        "model google/flan-t5-base: unavailable: Model 'google/flan-t5-base' is not in the local cache, and "
        "HF_HUB_OFFLINE=1 forbids downloading it.")
