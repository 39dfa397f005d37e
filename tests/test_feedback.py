"""FeedbackStore: rows, limits, nothing about the visitor, crash safety, restarts; CommitScheduler against LocalHub;
the export and stats commands as subprocesses."""

from __future__ import annotations

import contextlib
import csv
import json
import subprocess
import time
from pathlib import Path

import pytest

from llmft.errors import ConfigError
from llmft.feedback import FeedbackError, FeedbackSettings, FeedbackStore, read_rows
from llmft.feedback.rows import comparison_fields, shopbot_fields, summary_fields
from llmft.feedback.store import MAX_COMMENT_CHARS, MAX_FIELD_CHARS
from llmft.summarizing.batch import read_batch_file
from tests.support.apps import free_port
from tests.support.hub_server import LocalHub
from tests.support.silent_server import SilentServer

REPO = Path(__file__).resolve().parents[1]
WRITE_TOKEN = "hf_feedbackwritetoken1234"
REPLY = {"answer": "The Kestrel costs $199 [1].", "status": "checked", "kind": "price", "backend": "no model",
         "notices": [], "sources": [{"kind": "product", "id": "p1", "title": "Kestrel", "text": "long text",
                                     "citation": "product p1: Kestrel", "reason": "cheapest", "price": 199.0}]}


def store_in(folder: Path, **settings) -> FeedbackStore:
    return FeedbackStore(FeedbackSettings(folder=folder, **settings))


def test_a_vote_is_one_row_with_what_was_voted_on_and_nothing_about_the_visitor(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secretvalue0123456789abcdef")
    store = store_in(tmp_path, token="hf_thefeedbacktoken99")
    fields = shopbot_fields("cheapest phone?", "The Kestrel costs $199 [1].", REPLY)
    row = store.record("shopbot", "down", fields, "wrong price; my key is sk-secretvalue0123456789abcdef "
                       "and hf_thefeedbacktoken99")
    [saved] = read_rows(tmp_path)
    assert saved == row
    assert (saved["app"], saved["vote"], saved["question"], saved["status"], saved["backend"]) == (
        "shopbot", "down", "cheapest phone?", "checked", "no model")
    assert saved["sources"] == [{"kind": "product", "id": "p1", "title": "Kestrel", "citation": "product p1: Kestrel",
                                 "price": 199.0}]
    assert saved["app_version"].startswith(("git:", "llmft ")) and saved["time"].endswith("+00:00")
    text = store.path.read_text()
    assert "secretvalue" not in text and "thefeedbacktoken" not in text and "***" in saved["comment"]
    assert not {"ip", "session_hash", "session_id", "token", "client", "headers"} & set(saved)
    with pytest.raises(ValueError, match="never hold 'session_hash'"):
        store.record("shopbot", "up", {**fields, "session_hash": "abc"})


def test_limits_refuse_a_vote_with_a_message_and_write_nothing(tmp_path):
    store = store_in(tmp_path)
    fields = shopbot_fields("q?", "a", None)
    with pytest.raises(FeedbackError, match=f"The question has {MAX_FIELD_CHARS + 1:,} characters.*Nothing was"):
        store.record("shopbot", "up", {**fields, "question": "x" * (MAX_FIELD_CHARS + 1)})
    with pytest.raises(FeedbackError, match=f"comment has {MAX_COMMENT_CHARS + 1:,} characters"):
        store.record("shopbot", "up", fields, "c" * (MAX_COMMENT_CHARS + 1))
    many = {**fields, "sources": [{"title": "y" * 10_000} for _ in range(8)]}  # each field fits; the row does not
    with pytest.raises(FeedbackError, match="bytes; a vote keeps at most 65,536"):
        store.record("shopbot", "up", many)
    with pytest.raises(FeedbackError, match="A vote in the shopbot is one of up, down, not 'meh'"):
        store.record("shopbot", "meh", fields)
    with pytest.raises(FeedbackError, match="A vote in the shopbot is one of up, down, not 'best'"):
        store.record("shopbot", "best", fields)  # a comparison's vote, not an answer's
    with pytest.raises(FeedbackError, match="Summarize first"):
        summary_fields("dialogue", {"results": []}, "lora")
    with pytest.raises(FeedbackError, match="Compare first.*columns: none yet"):
        comparison_fields("dialogue", None, "A")
    assert not store.path.exists()


def test_rows_survive_a_crash_mid_line_and_a_restart_appends(tmp_path):
    first = store_in(tmp_path)
    for n in range(3):
        first.record("summarizer", "up", summary_fields(f"d{n}", {"results": [{"variant": "lora", "summary": "s",
                                                                            "source": "me/lora"}]}, "lora", 64))
    with first.path.open("ab") as handle:  # what a crash while writing leaves: a cut line without its newline
        handle.write(b'{"id": "cut", "app": "summ')
    second = store_in(tmp_path)  # a restart on the same disk: a new file, the old one untouched
    second.record("prompting", "best", comparison_fields("d", {"columns": [{"summary": "a"}, {"summary": "b"}],
                                                              "model": "m", "settings": {"decoding": "greedy"}}, "B"))
    assert second.path != first.path
    rows = read_rows(tmp_path)
    assert [r["app"] for r in rows] == ["summarizer"] * 3 + ["prompting"]
    assert rows[0]["model"] == "me/lora" and rows[0]["settings"] == {"max_new_tokens": 64}
    assert rows[3]["variant"] == "B" and rows[3]["summary"] == "b" and rows[3]["settings"] == {"decoding": "greedy"}


def test_feedback_off_writes_nothing_and_says_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMFT_FEEDBACK", "0")
    monkeypatch.setenv("LLMFT_FEEDBACK_DIR", str(tmp_path / "votes"))
    store = FeedbackStore()
    assert store.where() == "" and not (tmp_path / "votes").exists()
    with pytest.raises(FeedbackError, match="Feedback is off"):
        store.record("shopbot", "up", shopbot_fields("q", "a", None))
    monkeypatch.setenv("LLMFT_FEEDBACK_EVERY_MINUTES", "0")
    with pytest.raises(ConfigError, match="LLMFT_FEEDBACK_EVERY_MINUTES=.0. must be greater than 0"):
        FeedbackSettings.from_env()


def _dataset_files(hub: LocalHub, repo_id: str) -> dict[str, bytes]:
    repo = hub._repos[("dataset", repo_id)]
    head = repo.resolve("main")
    return {path: hub._blob(oid) for path, oid in head.files.items() if path.endswith(".jsonl")}


def test_votes_are_pushed_to_a_private_dataset_and_a_hub_outage_only_delays_them(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMFT_HUB_TIMEOUT", "2")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    port = free_port()
    hub = LocalHub(write_tokens=[WRITE_TOKEN])
    hub.start(port=port)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    store = store_in(tmp_path / "votes", dataset="me/shop-feedback", token=WRITE_TOKEN, every_minutes=10)
    try:
        assert store.wait_connected(15), store.hub_problem
        assert hub._repos[("dataset", "me/shop-feedback")].private
        store.record("shopbot", "up", shopbot_fields("q1", "a1", REPLY))
        store.push_now()
        [(name, data)] = _dataset_files(hub, "me/shop-feedback").items()
        assert name == store.path.name and json.loads(data)["question"] == "q1"

        hub.stop()  # the Hub goes down: a push retries in the background, votes still take no time
        store.record("shopbot", "down", shopbot_fields("q2", "a2", REPLY))
        pushing = store.scheduler.trigger()
        time.sleep(0.3)
        started = time.monotonic()
        store.record("shopbot", "down", shopbot_fields("q3", "a3", REPLY))
        assert time.monotonic() - started < 0.5 and not pushing.done()
        assert len(read_rows(tmp_path / "votes")) == 3

        hub.start(port=port)  # back (its repos kept in memory): the push in flight, then the next, send them all
        pushing.result(timeout=30)
        store.push_now()
        lines = _dataset_files(hub, "me/shop-feedback")[store.path.name].decode().splitlines()
        assert [json.loads(line)["question"] for line in lines] == ["q1", "q2", "q3"]
        assert WRITE_TOKEN not in "".join(lines)

        # A restart on a wiped disk (a Space): the new process's file joins the old one, which stays whole.
        restarted = store_in(tmp_path / "wiped", dataset="me/shop-feedback", token=WRITE_TOKEN, every_minutes=10)
        assert restarted.wait_connected(15), restarted.hub_problem
        restarted.record("shopbot", "up", shopbot_fields("q4", "a4", REPLY))
        restarted.push_now()
        restarted.close()
        files = _dataset_files(hub, "me/shop-feedback")
        assert len(files[store.path.name].decode().splitlines()) == 3
        assert json.loads(files[restarted.path.name])["question"] == "q4"
    finally:
        store.close()
        hub.stop()


@pytest.mark.parametrize("hub", ["refusing", "silent"])
def test_a_hub_down_or_hung_at_start_never_blocks_and_votes_stay_local(hub, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("LLMFT_HUB_TIMEOUT", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(SilentServer()) if hub == "silent" else f"http://127.0.0.1:{free_port()}"
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        store = store_in(tmp_path, dataset="me/fb", token=WRITE_TOKEN, every_minutes=10)
        stack.callback(store.close)
        store.record("shopbot", "up", shopbot_fields("q", "a", None))
        assert time.monotonic() - started < 0.5
        deadline = time.monotonic() + 15
        while store.hub_problem is None and time.monotonic() < deadline:
            time.sleep(0.05)
        expected = "did not answer within 1 s" if hub == "silent" else "cannot be reached"
        assert expected in store.hub_problem and WRITE_TOKEN not in store.hub_problem
        assert len(read_rows(tmp_path)) == 1 and "private dataset `me/fb`" in store.where()
        assert WRITE_TOKEN not in caplog.text


def test_export_and_stats_run_as_commands(tmp_path, subprocess_env, python):
    store = store_in(tmp_path / "votes")
    store.record("shopbot", "down", shopbot_fields("How much is express shipping?", "It is free.", REPLY), "wrong")
    store.record("shopbot", "down", shopbot_fields("how much is  express shipping?", "Free.", REPLY))
    store.record("shopbot", "up", shopbot_fields("cheapest phone?", "Kestrel", REPLY))
    result = {"results": [{"variant": "lora", "summary": "They meet.", "source": "me/lora"},
                          {"variant": "base", "summary": "Bad.", "source": "google/flan-t5-base"}]}
    store.record("summarizer", "up", summary_fields("#Person1#: hi", result, "lora", 64))
    store.record("summarizer", "down", summary_fields("#Person1#: yo", result, "base", 64))
    env = subprocess_env | {"LLMFT_FEEDBACK_DIR": str(tmp_path / "votes")}

    stats = subprocess.run([python, "-m", "llmft.feedback", "stats"], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert "5 vote(s)" in stats
    assert "shopbot | 1 | 2 | 0 | 3" in stats and "summarizer | lora | 1 | 0 | 0 | 1" in stats
    assert "shopbot | checked | 1 | 2 | 0 | 3" in stats

    out = tmp_path / "export"
    done = subprocess.run([python, "-m", "llmft.feedback", "export", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "1 draft question(s)" in done and "must fill in" in done
    [draft] = [json.loads(line) for line in (out / "shopbot_drafts.jsonl").read_text().splitlines()]
    bench_fields = set(json.loads((REPO / "bench/shopbot_questions.jsonl").read_text().splitlines()[0]))
    assert bench_fields <= set(draft) and draft["must"] == [] and draft["must_not"] == []
    assert "a person must fill in 'must'" in draft["note"] and draft["question"] == "How much is express shipping?"
    batch = read_batch_file(out / "summary_votes.csv", max_bytes=10**6, max_rows=100)
    assert [e.summaries for e in batch.examples] == [["They meet."], []]
    with (out / "summary_votes.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["variant"], r["vote"], r["summary"]) for r in rows] == [("lora", "up", "They meet."),
                                                                      ("base", "down", "")]

    missing = subprocess.run([python, "-m", "llmft.feedback", "stats", "--from", str(tmp_path / "nope")], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "is not a folder of votes" in missing.stderr
