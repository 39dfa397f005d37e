"""From votes to evaluation data: draft Shopbot questions, a Summarizer batch CSV, and counts."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

DRAFT_NOTE = ("DRAFT from a visitor's down-vote: a person must fill in 'must' (the facts a right answer contains) "
              "and 'must_not' before bench/shopbot_eval.py can use it; until then it checks nothing.")
DRAFTS_FILE = "shopbot_drafts.jsonl"
SUMMARIES_FILE = "summary_votes.csv"
SUMMARY_COLUMNS = ["id", "dialogue", "summary", "app", "variant", "model", "vote", "voted_summary", "comment"]


def shopbot_drafts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Down-voted Shopbot answers, one draft per distinct question, in bench/shopbot_questions.jsonl's fields."""
    drafts: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("app") != "shopbot" or row.get("vote") != "down" or not row.get("question"):
            continue
        key = " ".join(str(row["question"]).lower().split())
        drafts.setdefault(key, {
            "id": f"feedback-{str(row.get('id', ''))[:8]}", "store": row.get("store") or "demo", "kind": "feedback",
            "question": row["question"], "must": [], "must_not": [], "note": DRAFT_NOTE,
            "answer_voted_down": row.get("answer"), "status": row.get("status"), "backend": row.get("backend"),
            "comment": row.get("comment") or "", "time": row.get("time"),
        })
    return list(drafts.values())


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summarizer and Prompting votes as rows the Summarizer's batch tab reads: `dialogue`, and `summary` (a
    reference) only where a visitor voted a Summarizer summary up; the rest is context the batch ignores."""
    out = []
    for row in rows:
        if row.get("app") not in ("summarizer", "prompting") or not row.get("dialogue"):
            continue
        approved = row.get("app") == "summarizer" and row.get("vote") == "up"
        out.append({"id": f"feedback-{str(row.get('id', ''))[:8]}", "dialogue": row["dialogue"],
                    "summary": row.get("summary") if approved else "", "app": row.get("app"),
                    "variant": row.get("variant"), "model": row.get("model"), "vote": row.get("vote"),
                    "voted_summary": row.get("summary") or "", "comment": row.get("comment") or ""})
    return out


def export(rows: list[dict[str, Any]], out: Path) -> tuple[Path, int, Path, int]:
    out.mkdir(parents=True, exist_ok=True)
    drafts = shopbot_drafts(rows)
    drafts_path = out / DRAFTS_FILE
    drafts_path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drafts), encoding="utf-8")
    summaries = summary_rows(rows)
    csv_path = out / SUMMARIES_FILE
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(summaries)
    return drafts_path, len(drafts), csv_path, len(summaries)


def _table(title: str, counts: dict[tuple[str, ...], Counter], heads: list[str]) -> list[str]:
    lines = [f"## {title}", " | ".join([*heads, "up", "down", "best", "total"])]
    for key in sorted(counts):
        c = counts[key]
        lines.append(" | ".join([*key, str(c["up"]), str(c["down"]), str(c["best"]), str(sum(c.values()))]))
    return lines


def stats_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Votes per app, per (app, variant) and per (app, status)."""
    per_app: dict[tuple[str, ...], Counter] = {}
    per_variant: dict[tuple[str, ...], Counter] = {}
    per_status: dict[tuple[str, ...], Counter] = {}
    for row in rows:
        app, vote = str(row.get("app")), str(row.get("vote"))
        per_app.setdefault((app,), Counter())[vote] += 1
        per_variant.setdefault((app, str(row.get("variant") or "-")), Counter())[vote] += 1
        per_status.setdefault((app, str(row.get("status") or "-")), Counter())[vote] += 1
    return [f"{len(rows)} vote(s)", *_table("per app", per_app, ["app"]),
            *_table("per variant", per_variant, ["app", "variant"]),
            *_table("per status", per_status, ["app", "status"])]
