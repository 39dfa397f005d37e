"""What each Space's vote holds: the fields of a row, built from what the page shows (its JSON results).

The Spaces pass what the visitor saw; these functions keep the parts that make a vote usable as evaluation data
and nothing about the visitor.
"""

from __future__ import annotations

from typing import Any

from llmft.feedback.store import FeedbackError

_SOURCE_KEYS = ("kind", "id", "title", "citation", "price", "file", "section")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def shopbot_fields(question: str, answer: str, reply: dict[str, Any] | None) -> dict[str, Any]:
    """A Shopbot answer: the question, the answer shown, its sources, status and backend (from `Reply.to_dict()`;
    None when the server no longer knows the answer, e.g. after a restart: status 'unknown')."""
    if not _text(question).strip() or not _text(answer).strip():
        raise FeedbackError("Vote on an answer: this message has no question or answer to record.")
    reply = reply or {}
    sources = [{k: s[k] for k in _SOURCE_KEYS if k in s} for s in reply.get("sources") or [] if isinstance(s, dict)]
    return {"variant": reply.get("backend") or "unknown", "question": question, "answer": answer,
            "status": reply.get("status") or "unknown", "kind": reply.get("kind"),
            "backend": reply.get("backend") or "unknown", "sources": sources, "notices": reply.get("notices") or []}


def summary_fields(dialogue: str, result: dict[str, Any] | None, variant: str,
                   max_new_tokens: int | None = None) -> dict[str, Any]:
    """One Summarizer variant's summary: the dialogue, the summary, the variant, its model and the settings."""
    rows = [r for r in (result or {}).get("results", []) if isinstance(r, dict)]
    chosen = next((r for r in rows if r.get("variant") == variant), None)
    if not _text(dialogue).strip() or chosen is None or not chosen.get("summary"):
        offered = ", ".join(str(r.get("variant")) for r in rows if r.get("summary")) or "none yet"
        raise FeedbackError(f"Summarize first, then vote on a variant's summary (summaries: {offered}; asked: "
                            f"{str(variant)[:40]!r}).")
    faithfulness = chosen.get("faithfulness") or {}
    return {"variant": variant, "dialogue": dialogue, "summary": chosen["summary"], "model": chosen.get("source"),
            "status": chosen.get("kind"), "references": (result or {}).get("references") or [],
            "rouge": chosen.get("rouge"), "unsupported_facts": faithfulness.get("unsupported_count"),
            "settings": {"max_new_tokens": max_new_tokens}}


def comparison_fields(dialogue: str, result: dict[str, Any] | None, column: str) -> dict[str, Any]:
    """The Prompting Space's best column: the dialogue, every column's summary and how it was prompted, the model
    and the generation settings; `variant` is the chosen column (A, B or C)."""
    columns = [c for c in (result or {}).get("columns", []) if isinstance(c, dict)]
    names = [chr(ord("A") + i) for i in range(len(columns))]
    if not _text(dialogue).strip() or column not in names:
        raise FeedbackError(f"Compare first, then pick the best column (columns: {', '.join(names) or 'none yet'}; "
                            f"asked: {str(column)[:40]!r}).")
    kept = ("label", "summary", "shots_requested", "shots_used", "strategy", "seed", "shot_ids", "rouge")
    return {"variant": column, "dialogue": dialogue, "summary": columns[names.index(column)].get("summary"),
            "model": (result or {}).get("model"), "settings": (result or {}).get("settings"),
            "references": (result or {}).get("references") or [], "status": "compared",
            "columns": [{"column": n, **{k: c.get(k) for k in kept}} for n, c in zip(names, columns, strict=True)]}
