"""The settings home (`llmft.settings`): one parser, every variable stated once, the READMEs' tables from it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmft.apps.errors import user_message
from llmft.errors import ConfigError, LlmftError, StoreError
from llmft.settings import (
    AREAS,
    ChatSettings,
    FeedbackSettings,
    LocalServerChild,
    StoreSettings,
    SummarizerSettings,
    markdown_table,
    secret_values,
    variables,
)

REPO = Path(__file__).resolve().parent.parent
OUR_VARIABLE = re.compile(r"\b(?:LLMFT|OPENAI)_[A-Z0-9_]*[A-Z0-9]\b")
# Read by shell scripts and the tests' own harness, not by the package.
NOT_THE_PACKAGES = {"LLMFT_SKIP_SETUP", "LLMFT_SKIP_APT", "LLMFT_REQUIRE_ALL", "LLMFT_TEST_CACHE",
                    "LLMFT_SCREENSHOT_DIR"}
READMES = [REPO / "README.md", *sorted(REPO.glob("spaces/*/README.md"))]
TABLE = re.compile(r"<!-- settings: ([\w -]+) -->\n(.*?)\n<!-- /settings -->", re.S)


def declared() -> set[str]:
    return {v.name for cls in AREAS.values() for v in cls.variables()} | {
        v.fallback for cls in AREAS.values() for v in cls.variables() if v.fallback}


def test_every_variable_the_project_names_is_declared_once():
    stated: dict[str, set[int]] = {}  # a subclass shares its parent's field, so one statement is one object
    for cls in AREAS.values():
        for variable in cls.variables():
            stated.setdefault(variable.name, set()).add(id(variable))
    assert {name for name, ids in stated.items() if len(ids) > 1} == set()
    sources = [*REPO.glob("llmft/**/*.py"), *REPO.glob("spaces/*/app.py"), *REPO.glob("training/*.py"),
               *REPO.glob("scripts/*.sh"), *READMES]
    named = {m for path in sources for m in OUR_VARIABLE.findall(path.read_text())}
    unknown = named - declared() - NOT_THE_PACKAGES - {"LLMFT_CHROMA"}  # "LLMFT_CHROMA_*" in prose
    assert not unknown, f"named but not declared in llmft.settings: {sorted(unknown)}"


# Reads whose variable is not written in the call, and why none of them is ours.
DYNAMIC_READS = {
    "llmft/deploy/__main__.py": "a variable the user names with --secret, sent to the Space",
    "llmft/store/offline_nlp.py": "unstructured's and NLTK's opt-out variables, set where they act",
    "llmft/apps/errors.py": "huggingface_hub's token variables, to redact their values",
}


def _environment_reads(path: Path) -> list[tuple[int, ast.expr]]:
    """(line, key) of each `os.environ.get(key)`, `os.getenv(key)` and `os.environ[key]` in the module."""
    reads = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv") and node.args:
            reads.append((node.lineno, node.args[0]))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            reads.append((node.lineno, node.slice))
    return reads


def test_no_module_reads_the_projects_variables_outside_the_settings_home():
    offenders, seen = [], 0
    for path in [*REPO.glob("llmft/**/*.py"), *REPO.glob("spaces/*/app.py"), *REPO.glob("training/*.py")]:
        where = path.relative_to(REPO).as_posix()
        if where.startswith("llmft/settings/"):
            continue
        for line, key in _environment_reads(path):
            seen += 1
            ours = isinstance(key, ast.Constant) and OUR_VARIABLE.fullmatch(str(key.value))
            unknown = not isinstance(key, ast.Constant) and where not in DYNAMIC_READS
            if ours or unknown:
                offenders.append(f"{where}:{line} reads {ast.unparse(key)}")
    assert seen > 5 and not offenders  # seen: the scan finds the libraries' own reads (HF_ENDPOINT, ...)


def test_values_are_parsed_by_the_fields_type_with_messages_that_name_the_variable():
    env = {"LLMFT_CONCURRENCY": " 3 ", "LLMFT_MODELS": "a/b, c/d,,a/b", "LLMFT_ALLOW_ANY_MODEL": "yes",
           "LLMFT_MODEL_DIRS": "~/models\n/srv/x", "LLMFT_LORA_ADAPTER": "me/old",
           "LLMFT_SUMMARIZER_BACKEND": "CTranslate2"}
    settings = SummarizerSettings.from_env(env)
    assert settings.concurrency == 3 and settings.extra_models == ["a/b", "c/d"] and settings.allow_any_model
    assert settings.model_dirs == [Path("~/models").expanduser(), Path("/srv/x")]
    assert settings.adapters == ["me/old"]  # the older name, read when the plural is unset
    assert settings.backend == "ctranslate2" and settings.base_model == "google/flan-t5-base"
    assert SummarizerSettings.from_env({**env, "LLMFT_LORA_ADAPTERS": "me/a,me/b"}).adapters == ["me/a", "me/b"]
    bad = [({"LLMFT_CONCURRENCY": "many"}, "LLMFT_CONCURRENCY='many' is not a whole number."),
           ({"LLMFT_CONCURRENCY": "0"}, "LLMFT_CONCURRENCY=0 is too small; it must be at least 1."),
           ({"LLMFT_ALLOW_ANY_MODEL": "maybe"}, "LLMFT_ALLOW_ANY_MODEL='maybe': use 1 (on) or 0 (off)."),
           ({"LLMFT_CT2_QUANTIZATION": "int4"}, "LLMFT_CT2_QUANTIZATION='int4': use one of int8, ")]
    for environ, message in bad:
        with pytest.raises(ConfigError) as caught:
            SummarizerSettings.from_env(environ)
        assert str(caught.value).startswith(message)
    with pytest.raises(ConfigError, match="LLMFT_CHAT_TIMEOUT='0' must be greater than 0"):
        ChatSettings.from_env({"LLMFT_CHAT_TIMEOUT": "0"})
    with pytest.raises(StoreError, match="LLMFT_CHROMA_PORT='http' is not a whole number"):  # the store's own error
        StoreSettings.from_env({"LLMFT_CHROMA_PORT": "http"})
    with pytest.raises(ConfigError, match="is not a Hub dataset id"):
        FeedbackSettings.from_env({"LLMFT_FEEDBACK_DATASET": "not a repo"})
    assert StoreSettings.from_env({"LLMFT_CHROMA_HOST": "db"}, port=9000).where == "Chroma server db:9000"


def test_secrets_stay_out_of_reprs_messages_and_tables(monkeypatch):
    chat = ChatSettings.from_env({"OPENAI_API_KEY": "sk-live-abcdef", "LLMFT_SHOPBOT_ADMIN_PASSWORD": "opensesame"})
    assert chat.api_key == "sk-live-abcdef" and "sk-live" not in repr(chat) and "opensesame" not in repr(chat)
    feedback = FeedbackSettings.from_env({"HF_TOKEN": "hf_fallbacktoken"})
    assert feedback.token == "hf_fallbacktoken" and "hf_fallback" not in repr(feedback)
    monkeypatch.setenv("LLMFT_SHOPBOT_ADMIN_PASSWORD", "opensesame")
    monkeypatch.setenv("OPENAI_API_KEY", "plainkey42")
    assert set(secret_values()) >= {"opensesame", "plainkey42"}
    message = user_message(LlmftError("the server said: bad key plainkey42, password opensesame"))
    assert "plainkey42" not in message and "opensesame" not in message and message.count("***") == 2
    assert "LLMFT_LOCAL_LLM_KEY" not in markdown_table(*AREAS)  # internal: the app hands it to its child


def test_a_child_process_reads_what_to_env_writes():
    handed = LocalServerChild(api_key="k3y-for-the-child", parent_pid=4242).to_env()
    code = "from llmft.settings import LocalServerChild as C; c = C.from_env(); print(c.api_key, c.parent_pid)"
    out = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin", **handed}, cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["k3y-for-the-child", "4242"]


def test_the_readmes_tables_are_the_settings_homes():
    tabled: set[str] = set()
    for readme in READMES:
        for names, table in TABLE.findall(readme.read_text()):
            assert table == markdown_table(*names.split()), (
                f"{readme}: the table of {names} differs from `python -m llmft.settings {names}`; paste its output")
            tabled |= {v.name for v in variables(*names.split())}
    untabled = {v.name for cls in AREAS.values() for v in cls.variables() if not v.internal} - tabled
    assert not untabled, f"variables no README table lists: {sorted(untabled)}"


def test_python_m_llmft_settings_prints_the_tables():
    out = subprocess.run([sys.executable, "-m", "llmft.settings", "chat"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    assert "| `OPENAI_BASE_URL` | (none) |" in out and "| `LLMFT_CHAT_TIMEOUT` | `30` |" in out
    bad = subprocess.run([sys.executable, "-m", "llmft.settings", "nope"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode != 0 and "'nope' is neither a settings area" in bad.stderr
