"""Start the three Gradio apps on three ports, say where and on which model, and stop them all together.

    python -m llmft.launch                       # what `bash scripts/run.sh` runs after setup (and the demo build)
    python -m llmft.launch --ports 8000,8001,8002 --apps prompting,shopbot

Each app runs as its own `python spaces/<name>/app.py` (exactly what a Space runs), so one app's crash, memory or
queue never touches another, and `bash scripts/run.sh` serves what a deployed Space serves. The launcher waits
until each answers, then prints one line per app: its address and the model it answers with (or why none could
load), asked of the app itself where it can say (the Summarizer's `/models`, the Shopbot's `/backend`).

Stopping: Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every app, and the app that dies first stops the others.
Each app runs in a process group of its own, which is signalled as a whole, so what the app started goes too
(the Shopbot's local llama.cpp server). Should the launcher itself be killed outright (SIGKILL), the kernel
sends each app SIGTERM (Linux's parent-death signal), and the llama.cpp server exits once its parent is gone.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmft.errors import ConfigError, LlmftError
from llmft.settings.services import LauncherSettings

logger = logging.getLogger("llmft.launch")

REPO_ROOT = Path(__file__).resolve().parent.parent
APPS = ("prompting", "summarizer", "shopbot")
DEFAULT_PORTS = (7860, 7861, 7862)
STOP_GRACE_S = 10.0
MODEL_QUERY_TIMEOUT_S = 120.0
_PR_SET_PDEATHSIG = 1


@dataclass
class App:
    name: str
    port: int
    host: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def local_url(self) -> str:
        """Where this machine reaches it (0.0.0.0 serves every interface, and is not an address to call)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the launcher dies, even by SIGKILL (Linux; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(app: App, env: dict[str, str]) -> None:
    script = REPO_ROOT / "spaces" / app.name / "app.py"
    if not script.is_file():
        raise ConfigError(f"no app at {script}: the launcher runs the Spaces of a checkout")
    app_env = dict(env, GRADIO_SERVER_PORT=str(app.port), GRADIO_SERVER_NAME=app.host)
    app.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
        [sys.executable, str(script)], env=app_env, cwd=REPO_ROOT, start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - nothing threaded has started yet
    )
    logger.info("%s: starting on %s (pid %d)", app.name, app.url, app.process.pid)


def answers(app: App) -> bool:
    try:
        with urllib.request.urlopen(f"{app.local_url}/gradio_api/info", timeout=5) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _prompting_model_line() -> str:
    """The Prompting Space loads its model at the first request and has no endpoint that says which: its
    settings say, and a folder or (offline) the Hub cache is checked for it here, without loading weights."""
    from llmft.apps.demo_note import demo_note
    from llmft.hub.client import hub_offline
    from llmft.prompting import PromptingSettings
    from llmft.sources import looks_like_hub_id, resolve_source

    model = PromptingSettings.from_env().base_model
    if hub_offline() or not looks_like_hub_id(model):  # nothing to download: finding it costs nothing
        try:
            resolve_source(model)
        except LlmftError as err:
            return f"model {model}: unavailable: {err}"
    note = demo_note([model])
    return f"model {model} (loaded at the first request)" + (f"; {note}" if note else "")


def model_line(app: App) -> str:
    """What model the app answers with, or why none could load, asked of the app where it can say."""
    try:
        if app.name == "prompting":
            return _prompting_model_line()
        from gradio_client import Client

        client = Client(app.local_url, verbose=False)
        if app.name == "shopbot":
            return f"model: {client.predict(api_name='/backend')}"
        try:  # loads the variants (downloads them, the first time with the Hub): not forever before the address
            result, _note = client.submit(api_name="/models").result(timeout=MODEL_QUERY_TIMEOUT_S)
        except TimeoutError:
            return f"variants: still loading after {MODEL_QUERY_TIMEOUT_S:.0f} s (the page lists them once loaded)"
        parts = [f"{row['variant']} {row['source']}" + ("" if row.get("available") else f" (unavailable: "
                 f"{row.get('reason')})") for row in result["variants"]]
        demo = " (the embedded demo models)" if any(row.get("demo_note") for row in result["variants"]) else ""
        return "variants: " + "; ".join(parts) + demo
    except Exception as err:  # noqa: BLE001 - a status line must never stop the apps; it says what went wrong
        return f"model: could not ask the app ({type(err).__name__}: {err})"


class Launcher:
    def __init__(self, apps: list[App], ready_timeout: float):
        self.apps = apps
        self.ready_timeout = ready_timeout
        self.stopping = False

    def _on_signal(self, signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            env = dict(os.environ)
            for app in self.apps:
                start(app, env)
            if not self._wait_ready():
                return 1
            for app in self.apps:
                print(f"==> {app.name:<10} {app.url}  {model_line(app)}", flush=True)
            print(f"==> {len(self.apps)} app(s) running; Ctrl-C stops them all", flush=True)
            return self._watch()
        except KeyboardInterrupt as stop:
            logger.info("stopping (%s)", stop.args[0] if stop.args else "SIGINT")
            return 0
        finally:
            self.stop()

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.ready_timeout
        pending = list(self.apps)
        while pending:
            for app in list(pending):
                assert app.process is not None
                if app.process.poll() is not None:
                    logger.error("%s exited with code %s before it answered: see its output above",
                                 app.name, app.process.returncode)
                    return False
                if answers(app):
                    pending.remove(app)
            if pending and time.monotonic() > deadline:
                logger.error("%s did not answer within %.0f s", ", ".join(a.name for a in pending), self.ready_timeout)
                return False
            time.sleep(0.5)
        return True

    def _watch(self) -> int:
        while True:
            for app in self.apps:
                assert app.process is not None
                if app.process.poll() is not None:
                    logger.error("%s exited with code %s: stopping the others", app.name, app.process.returncode)
                    return app.process.returncode or 1
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM to each app's whole process group, SIGKILL to what is left after STOP_GRACE_S."""
        if self.stopping:
            return
        self.stopping = True
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        running = [a for a in self.apps if a.process is not None]
        for app in running:
            _signal_group(app, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for app in running:
            assert app.process is not None
            try:
                app.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within %.0f s: killing it", app.name, STOP_GRACE_S)
        for app in running:
            _signal_group(app, signal.SIGKILL)  # the group's stragglers (a server the app started), if any
            assert app.process is not None
            app.process.wait()
        logger.info("stopped: %s", ", ".join(a.name for a in running))


def _signal_group(app: App, signum: int) -> None:
    assert app.process is not None
    try:
        os.killpg(app.process.pid, signum)  # its own session: the group id is its pid
    except (ProcessLookupError, PermissionError):
        pass


def parse_apps(apps: str, ports: str | None, host: str) -> list[App]:
    names = [n.strip() for n in apps.split(",") if n.strip()]
    unknown = [n for n in names if n not in APPS]
    if unknown or not names:
        raise ConfigError(f"unknown app(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(APPS)}")
    if ports:
        try:
            numbers = [int(p) for p in ports.split(",")]
        except ValueError:
            raise ConfigError(f"--ports takes comma-separated numbers, like 7860,7861,7862, not {ports!r}") from None
    else:
        numbers = [DEFAULT_PORTS[APPS.index(n)] for n in names]
    if len(numbers) != len(names) or len(set(numbers)) != len(numbers):
        raise ConfigError(f"give one distinct port per app: {len(names)} app(s), ports {numbers}")
    return [App(name, port, host) for name, port in zip(names, numbers, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmft.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", default=",".join(APPS), help=f"comma-separated, from {', '.join(APPS)}")
    parser.add_argument("--ports", default=LauncherSettings.value_of("ports"),
                        help="one per app, comma-separated (default 7860,7861,7862; env LLMFT_PORTS)")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to serve on (default 127.0.0.1; env GRADIO_SERVER_NAME)")
    parser.add_argument("--ready-timeout", type=float, default=600.0, help="seconds each app may take to answer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio_client's every request, when asking for models
    try:
        apps = parse_apps(args.apps, args.ports, args.host)
    except ConfigError as err:
        parser.error(str(err))
    try:
        return Launcher(apps, args.ready_timeout).run()
    except LlmftError as err:  # the apps it started are stopped already (Launcher.run's finally)
        logger.error("%s", err)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
