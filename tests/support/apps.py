"""Run a Space's `app.py` as a child process on 127.0.0.1, for `gradio_client` and browser tests.

    app = start_app(REPO_ROOT / "spaces/prompting/app.py", env=subprocess_env | {...})
    try:
        Client(app.url).predict(..., api_name="/compare")
    finally:
        app.stop()

The app gets a free port through GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, its output goes to a log
file, and `start_app` returns once Gradio answers `/config` (or raises with the log's tail if the
process exits or the timeout passes). `launch_app` + `wait_until_ready` do the same in two steps, to
start several apps side by side. `log_on_failure` prints an app's log under a failing test.

Browser helpers: `launch_chromium` starts Debian's chromium (Playwright never downloads a browser
here), and `keep_browser_local` aborts every request that would leave 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support import netguard

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_LOG_TAIL_CHARS = 6000
_SUPPORT = Path(__file__).resolve().parent
_REPO_ROOT = _SUPPORT.parent.parent


def guarded_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child process: the network guard installed, Hub offline, the repo importable, no token.

    The same as conftest's `subprocess_env` fixture, as a function, for fixtures of module or session scope.
    """
    env = dict(os.environ if base is None else base)
    env.update(
        LLMFT_NETGUARD="1",
        LLMFT_NETGUARD_PATH=str(_SUPPORT),
        # Where the child reports blocked connections, for this process's tests to read (conftest).
        LLMFT_NETGUARD_LOG=str(netguard.child_log_path()),
        PYTHONPATH=os.pathsep.join([str(_SUPPORT / "netguard_site"), str(_REPO_ROOT), env.get("PYTHONPATH", "")]),
        PYTHONUNBUFFERED="1",
        HF_HUB_OFFLINE="1",
    )
    for secret in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY"):
        env.pop(secret, None)
    return env


class AppStartError(RuntimeError):
    """The app exited or did not answer in time; the message ends with its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log_handle: Any = field(repr=False, default=None)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = _LOG_TAIL_CHARS) -> str:
        text = self.log()
        return text if len(text) <= chars else "...\n" + text[-chars:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the app's own process group (it was started in a new session), then SIGKILL."""
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/config", timeout=2) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def launch_app(
    app_path: str | Path,
    env: Mapping[str, str],
    log_path: str | Path | None = None,
    python: str = sys.executable,
    host: str = "127.0.0.1",
    cwd: str | Path | None = None,
) -> RunningApp:
    """Start `python app_path` on a free port of `host` and return at once (see `wait_until_ready`).

    Two apps launched one after the other start side by side, which halves a test module's wait.
    The app runs in `cwd` (default: the log's folder), so whatever Gradio writes there stays out of the tree.
    """
    port = free_port(host)
    child_env = dict(env)
    child_env.update(
        GRADIO_SERVER_NAME=host,
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    log_path = Path(log_path) if log_path else Path(tempfile.mkdtemp(prefix="llmft-app-")) / "app.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handle = log_path.open("wb")
    process = subprocess.Popen(
        [python, str(app_path)],
        env=child_env,
        cwd=str(cwd or log_path.parent),
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() ends it and nothing else
    )
    return RunningApp(url=f"http://{host}:{port}", process=process, log_path=log_path, _log_handle=handle)


def wait_until_ready(app: RunningApp, timeout: float = 120.0) -> RunningApp:
    """Return `app` once Gradio answers `/config`; stop it and raise `AppStartError` with its log if it
    exits first or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not app.alive():
            app.stop()
            raise AppStartError(f"the app exited with code {app.process.returncode}:\n{app.log_tail()}")
        if _answers(app.url):
            return app
        time.sleep(0.3)
    app.stop()
    raise AppStartError(f"the app did not answer on {app.url} within {timeout:.0f} s:\n{app.log_tail()}")


def start_app(app_path: str | Path, env: Mapping[str, str], timeout: float = 120.0, **kwargs: Any) -> RunningApp:
    """Start `python app_path` on a free 127.0.0.1 port and wait until it serves (`launch_app` + `wait_until_ready`)."""
    return wait_until_ready(launch_app(app_path, env, **kwargs), timeout)


@contextmanager
def running_app(app_path: str | Path, env: Mapping[str, str], **kwargs: Any) -> Iterator[RunningApp]:
    app = start_app(app_path, env, **kwargs)
    try:
        yield app
    finally:
        app.stop()


@contextmanager
def running_apps(
    apps: Mapping[str, tuple[str | Path, Mapping[str, str]]], log_dir: Path, timeout: float = 180.0
) -> Iterator[dict[str, RunningApp]]:
    """Start several apps side by side (they load their models at the same time), wait until all serve, and
    stop every one of them afterwards, also when one fails to start. `apps`: name -> (app path, environment);
    each logs to `log_dir/<name>/app.log`."""
    launched = {name: launch_app(path, env, log_path=log_dir / name / "app.log") for name, (path, env) in apps.items()}
    try:
        yield {name: wait_until_ready(app, timeout) for name, app in launched.items()}
    finally:
        for app in launched.values():
            app.stop()


def log_on_failure(request: Any, *apps: RunningApp) -> Iterator[None]:
    """For a function fixture (`yield from log_on_failure(request, app)`): print the apps' logs under a failed test.

    The call phase's report is logged before fixtures tear down, so the session's failure count has
    already moved when this resumes; pytest shows the printout as the test's captured teardown output.
    """
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        for app in apps:
            state = "running" if app.alive() else f"exited with code {app.process.returncode}"
            print(f"--- app log ({app.url}, {state}, {app.log_path}) ---\n{app.log_tail()}")


# --- browser -------------------------------------------------------------------------------------------


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    """Headless Debian chromium through Playwright's sync API."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs)


def keep_browser_local(page: Any) -> list[str]:
    """Abort every request from `page` to a host other than 127.0.0.1/localhost; returns the list of those aborted."""
    blocked: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname or ""
        if scheme in ("data", "blob") or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", route)
    return blocked


# --- in-process --------------------------------------------------------------------------------------------


@contextmanager
def serving_in_process(demo: Any, launch: Any, settings: Any, **kwargs: Any) -> Iterator[str]:
    """Serve a built page (`build_app(...)`) in this process on a free 127.0.0.1 port with its Space's `launch`;
    yields its URL and closes it afterwards. Much faster than `start_app`: no new interpreter, no second import."""
    port = free_port()
    launch(demo, settings, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **kwargs)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()
