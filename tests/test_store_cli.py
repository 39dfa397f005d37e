"""`python -m llmft.store`: summaries, exit codes and messages for bad input, as a person at a terminal sees them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.store_docs import write_small_shop


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmft.store", *args], env=env, capture_output=True, text=True,
                          timeout=240)


def test_ingest_names_the_unreadable_file_and_goes_on(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    write_small_shop(tmp_path)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    run = _cli(subprocess_env, "ingest", str(tmp_path / "products.csv"), str(tmp_path / "delivery.md"),
               str(tmp_path / "scan.pdf"), "--store", str(tmp_path / "store"))
    assert run.returncode == 1, run.stderr[-2000:]
    assert "sources: 4 added, 0 updated, 0 unchanged (skipped, already stored), 0 deleted, 1 skipped" in run.stdout
    assert f"skipped {tmp_path / 'scan.pdf'}: {tmp_path / 'scan.pdf'} cannot be read as pdf" in run.stdout
    assert "embedding" in run.stderr  # the progress bar


def test_bad_catalogue_ends_with_a_message(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    (tmp_path / "products.csv").write_text("id,title,price\n1,Mug,3\n2,Cup,four euros\n")
    run = _cli(subprocess_env, "ingest", str(tmp_path / "products.csv"), "--store", str(tmp_path / "store"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (f"error: catalogue {tmp_path / 'products.csv'} has 1 bad row(s), nothing was "
                                  "ingested from it: line 3: price 'four euros' is not a number (columns found: id, "
                                  "title, price)")


def test_empty_question_and_nothing_to_ingest(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    run = _cli(subprocess_env, "search", "  ", "--store", str(tmp_path / "store"))
    assert run.returncode == 2 and "error: the question is empty" in run.stderr
    run = _cli(subprocess_env, "ingest", "--store", str(tmp_path / "store"))
    assert run.returncode == 2 and "error: nothing to ingest" in run.stderr
