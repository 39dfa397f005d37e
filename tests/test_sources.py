"""Model names, the apps' model policy, the bounded model cache and the device/dtype choice.

The policy is also checked end to end: the Prompting Space started with its allowlist, called with
gradio_client, next to a local Hub server whose request log shows what reached it.
"""

from __future__ import annotations

import gc
import json
import shutil
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from llmft.errors import ModelLoadError
from llmft.models import ModelCache, load_model, pick_device
from llmft.settings import AppSettings
from llmft.sources import ModelPolicy, normalise_source, same_model

REPO_ROOT = Path(__file__).resolve().parent.parent
NOT_OFFERED = "is not offered here: choose one from the model menu"


# --- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 300, "is too long"),  # the file system would say `OSError: File name too long`
        ("me/" + "b" * 256, "is too long"),
        ("google/flan-t5-base\x00", "contains a control character"),  # huggingface_hub: HFValidationError
        ("/tmp/x\x00y", "contains a control character"),  # os: ValueError: embedded null byte
        ("   ", "No model given"),
    ],
)
def test_odd_names_get_the_packages_own_message(name, message, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=message) as err:
        load_model(name)
    assert "\x00" not in str(err.value) and len(str(err.value)) < 400  # shown escaped and cut, not echoed raw
    with pytest.raises(ModelLoadError, match=message):  # the apps' path: the policy checks names first
        ModelPolicy(allowed=("google/flan-t5-base",)).check(name)


def test_paths_are_normalised_before_they_key_the_model_cache(tiny_models, monkeypatch):
    base = tiny_models.base
    monkeypatch.chdir(base.parent)
    assert normalise_source(f"{base.name}/../{base.name}/") == str(base)
    assert normalise_source("google/flan-t5-base") == "google/flan-t5-base"  # a Hub id stays as written
    cache: ModelCache = ModelCache()
    first = load_model(str(base), cache=cache)
    assert load_model(f"./{base.name}/../{base.name}", cache=cache) is first
    assert load_model(f"{base}/", cache=cache) is first
    assert len(cache.keys()) == 1


def test_one_same_model_rule_for_hub_ids_and_folders(tiny_models, monkeypatch):
    base = tiny_models.base
    monkeypatch.chdir(base.parent)
    assert same_model(f"./{base.name}/../{base.name}/", str(base))
    assert same_model("google/flan-t5-base/", " google/flan-t5-base")  # a trailing '/' is not another model
    assert normalise_source("google/flan-t5-base/") == "google/flan-t5-base"
    assert not same_model("google/flan-t5-base", "google/flan-t5-large")
    assert not same_model(str(base), str(tiny_models.other_base))
    assert same_model("bad\x00name/", "bad\x00name")  # names normalise_source refuses compare as written


# --- policy -------------------------------------------------------------------------------------------


def _same_message(errors: list[str], names: list[str]) -> set[str]:
    return {message.replace(name, "<name>") for message, name in zip(errors, names, strict=True)}


def test_policy_allows_the_offered_models_and_the_model_folders_only(tmp_path):
    models = tmp_path / "models"
    (models / "tuned").mkdir(parents=True)
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    (secret_dir / "key.txt").write_text("x")
    policy = ModelPolicy(allowed=("google/flan-t5-base", f"{tmp_path}/offered/"), model_dirs=(models,))

    assert policy.check(" google/flan-t5-base ") == "google/flan-t5-base"
    assert policy.check(f"{tmp_path}/offered") == f"{tmp_path}/offered"
    assert policy.check(f"{models}/tuned") == f"{models}/tuned"
    assert policy.check(f"{models}/not-yet") == f"{models}/not-yet"  # inside: loading then says what is missing
    refused = ["someone/else", str(secret_dir), str(secret_dir / "key.txt"), str(tmp_path / "nothing"),
               f"{models}/../secrets", "../../etc/passwd"]  # fmt: skip
    messages = []
    for name in refused:
        with pytest.raises(ModelLoadError, match=NOT_OFFERED) as err:
            policy.check(name)
        messages.append(str(err.value))
    assert len(_same_message(messages, refused)) == 1  # a folder, a file and nothing read the same
    assert ModelPolicy(allow_any=True).check(f"{secret_dir}/../secrets") == str(secret_dir)


def test_settings_build_the_policy_from_the_environment(tmp_path, monkeypatch):
    local = tmp_path / "full"
    local.mkdir()
    monkeypatch.setenv("LLMFT_BASE_MODEL", str(local))
    monkeypatch.setenv("LLMFT_MODELS", "me/lora, google/flan-t5-base")
    monkeypatch.setenv("LLMFT_MODEL_DIRS", f"{tmp_path}/a, {tmp_path}/b")
    monkeypatch.delenv("LLMFT_ALLOW_ANY_MODEL", raising=False)
    policy = AppSettings.from_env().model_policy()
    assert policy == ModelPolicy(
        allowed=(str(local), "me/lora", "google/flan-t5-base"),
        allow_any=False,
        model_dirs=(local, tmp_path / "a", tmp_path / "b"),
    )
    monkeypatch.setenv("LLMFT_ALLOW_ANY_MODEL", "1")
    assert AppSettings.from_env().model_policy().allow_any is True
    monkeypatch.setenv("LLMFT_ALLOW_ANY_MODEL", "maybe")
    with pytest.raises(ValueError, match="LLMFT_ALLOW_ANY_MODEL='maybe'"):
        AppSettings.from_env()


def test_an_adapter_needs_an_allowed_base(tiny_models, tmp_path):
    only_adapter = ModelPolicy(allowed=(str(tiny_models.lora),))
    with pytest.raises(ModelLoadError, match=f"needs base model '{tiny_models.base}'.*{NOT_OFFERED}"):
        load_model(str(tiny_models.lora), policy=only_adapter, use_cache=False)
    both = ModelPolicy(allowed=(str(tiny_models.lora), str(tiny_models.base)))
    assert load_model(str(tiny_models.lora), policy=both, use_cache=False).kind == "adapter"


# --- the cache's memory bound, and the dtype ------------------------------------------------------------


def test_the_cache_keeps_the_most_recently_used_models(tiny_models):
    cache: ModelCache = ModelCache(max_models=2)
    base = load_model(str(tiny_models.base), cache=cache)
    watch_base = weakref.ref(base.model)
    other = load_model(str(tiny_models.other_base), cache=cache)
    watch_other = weakref.ref(other.model)
    assert load_model(str(tiny_models.base), cache=cache) is base  # base is now the most recently used
    del base, other
    load_model(str(tiny_models.lora), cache=cache)  # a third model: the least recently used one goes

    cached = [key[0] for key in cache.keys()]
    assert cached == [str(tiny_models.base), str(tiny_models.lora)]
    gc.collect()
    assert watch_other() is None  # evicted and no longer referenced anywhere: its memory is free
    assert watch_base() is not None
    cache.max_models = 1
    assert [key[0] for key in cache.keys()] == [str(tiny_models.lora)]


def test_the_cache_forgets_a_model_on_request_and_can_load_one_at_a_time():
    cache: ModelCache = ModelCache(one_load_at_a_time=True)
    loads: list[str] = []
    assert cache.get_or_load("a", lambda: loads.append("a") or "A") == "A"
    cache.discard("a")  # a model left broken: the next request loads it again
    cache.discard("never loaded")
    assert cache.keys() == [] and cache.get_or_load("a", lambda: loads.append("a") or "A2") == "A2"
    assert loads == ["a", "a"]

    running, most = [0], [0]
    lock = threading.Lock()

    def load(key: str) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return key

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(lambda k: cache.get_or_load(k, lambda: load(k)), "xyz")) == ["x", "y", "z"]
    assert most[0] == 1  # three models, never two loads at once


def test_t5_never_runs_in_fp16():
    assert pick_device("cuda", bf16_supported=False) == ("cuda", torch.float32)
    assert pick_device("cuda:1", bf16_supported=True) == ("cuda:1", torch.bfloat16)
    assert pick_device("cpu", bf16_supported=True) == ("cpu", torch.float32)


# --- config before weights (a Hub repo) ----------------------------------------------------------------


def _push(hub_api, folder: Path, repo_id: str) -> None:
    hub_api.create_repo(repo_id, exist_ok=True)
    hub_api.upload_folder(repo_id=repo_id, folder_path=folder)


@pytest.fixture()
def online_hub(local_hub, monkeypatch):
    """The local Hub with HF_HUB_OFFLINE unset, so the code under test really asks it."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    return local_hub


def test_a_models_config_is_checked_before_its_weights_are_downloaded(tiny_models, online_hub, tmp_path):
    from llmft.hub.client import hub_api

    api = hub_api()
    decoder_only = tmp_path / "decoder-only"
    decoder_only.mkdir()
    (decoder_only / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 1}))
    (decoder_only / "model.safetensors").write_bytes(b"\0" * 4096)
    _push(api, decoder_only, "me/decoder-only")
    adapter = shutil.copytree(tiny_models.lora, tmp_path / "lora")
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "someone/unoffered-base"
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    (adapter / "README.md").unlink(missing_ok=True)  # peft's card names a local path as base_model: not ours to fix
    _push(api, adapter, "me/lora-on-unoffered-base")
    online_hub.requests.clear()

    with pytest.raises(ModelLoadError, match="is a gpt2 model, not an encoder-decoder"):
        load_model("me/decoder-only", use_cache=False)
    policy = ModelPolicy(allowed=("me/lora-on-unoffered-base",))
    with pytest.raises(ModelLoadError, match=f"needs base model 'someone/unoffered-base'.*{NOT_OFFERED}"):
        load_model("me/lora-on-unoffered-base", policy=policy, use_cache=False)
    downloads = [r for r in online_hub.requests if "/resolve/" in r]
    assert downloads and all(r.endswith("config.json") for r in downloads), downloads  # no weights asked for


# --- the policy in the running Prompting Space ------------------------------------------------------------


@pytest.fixture(scope="module")
def policed_app(tiny_models, tmp_path_factory):
    """The Prompting Space with its allowlist on (the default) and HF_ENDPOINT at a local Hub holding a real
    model, `me/tiny`: were the allowlist not checked first, the app would download it."""
    from gradio_client import Client

    from llmft.data import write_jsonl
    from llmft.demo.tiny import synthetic_dialogues
    from tests.support.apps import guarded_env, start_app
    from tests.support.hub_server import DEFAULT_WRITE_TOKEN, LocalHub

    root = tmp_path_factory.mktemp("policed-app")
    (root / "models").mkdir()
    shutil.copytree(tiny_models.lora, root / "models" / "lora")  # its base, the tiny T5, is the offered default
    (root / "probe" / "folder").mkdir(parents=True)
    (root / "probe" / "file.txt").write_text("not a model")
    with LocalHub() as hub:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=hub.url, token=DEFAULT_WRITE_TOKEN)
        api.create_repo("me/tiny")
        api.upload_folder(repo_id="me/tiny", folder_path=tiny_models.base)
        env = guarded_env()
        for name in ("HF_HUB_OFFLINE", "LLMFT_ALLOW_ANY_MODEL", "LLMFT_MODELS"):
            env.pop(name, None)
        env.update(
            HF_ENDPOINT=hub.url,
            HF_HOME=str(root / "hf"),
            LLMFT_BASE_MODEL=str(tiny_models.base),
            LLMFT_MODEL_DIRS=str(root / "models"),
            LLMFT_DATASET=str(write_jsonl(synthetic_dialogues(4), root / "dialogues.jsonl")),
        )
        app = start_app(REPO_ROOT / "spaces" / "prompting" / "app.py", env, timeout=150, log_path=root / "app.log")
        try:
            hub.requests.clear()
            yield Client(app.url, verbose=False), hub, root
        finally:
            app.stop()


def _compare_error(client, model: str) -> str:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        client.predict(dialogue="#Person1#: Hi.\n#Person2#: Hello.", reference="", model=model,
                       max_new_tokens=8, api_name="/compare")  # fmt: skip
    return str(err.value)


def test_the_app_refuses_an_unoffered_hub_id_without_asking_the_hub(policed_app):
    client, hub, _ = policed_app
    assert NOT_OFFERED in _compare_error(client, "me/tiny")
    assert hub.requests == []  # not a look-up, not a download


def test_the_app_says_the_same_for_any_path_outside_its_model_folders(policed_app, tiny_models):
    client, _, root = policed_app
    probes = [str(root / "probe" / "folder"), str(root / "probe" / "file.txt"), str(root / "probe" / "nothing"),
              str(tiny_models.other_base), f"{root}/models/../probe/folder"]  # fmt: skip
    messages = [_compare_error(client, probe) for probe in probes]
    assert all(NOT_OFFERED in m for m in messages), messages
    assert len(_same_message(messages, probes)) == 1, messages
    assert "is too long for a Hub id" in _compare_error(client, "a" * 300)  # not "Unexpected error (OSError ...)"
    assert "contains a control character" in _compare_error(client, "me/tiny\x00")


def test_the_app_loads_what_it_offers(policed_app, tiny_models):
    client, hub, root = policed_app
    result = client.predict(dialogue="#Person1#: Hi.\n#Person2#: Hello.", reference="",
                            model=str(root / "models" / "lora"), max_new_tokens=8, api_name="/compare")  # fmt: skip
    assert result[0]["model"] == str(root / "models" / "lora")
    assert hub.requests == []  # local models never ask the Hub
