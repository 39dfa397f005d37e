"""Summaries with their unsupported facts marked, as HTML for the apps (escaped: a summary is model output)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

COLOURS = {"number": "#fde68a", "name": "#fbcfe8", "negation": "#bfdbfe"}
LEGEND = " ".join(
    f'<mark style="background:{colour}" title="{kind}">{kind}</mark>' for kind, colour in COLOURS.items()
)


def marked(summary: str, facts: Sequence[Mapping[str, Any]]) -> str:
    """`summary` as HTML, each fact's span in a <mark> coloured by kind, its reason as the tooltip."""
    parts, at = [], 0
    for fact in sorted(facts, key=lambda f: f["start"]):
        start, end = int(fact["start"]), int(fact["end"])
        if start < at or end > len(summary):
            continue
        parts.append(html.escape(summary[at:start]))
        colour = COLOURS.get(fact["kind"], "#e5e7eb")
        parts.append(f'<mark style="background:{colour}" title="{html.escape(fact["kind"] + ": " + fact["why"])}">'
                     f'{html.escape(summary[start:end])}</mark>')
        at = end
    parts.append(html.escape(summary[at:]))
    return "".join(parts)


def summaries_html(rows: Sequence[tuple[str, str, Mapping[str, Any] | None]], method: str) -> str:
    """One line per (label, summary, faithfulness check): the marked summary and its count; the method below."""
    lines, notes = [], []
    for label, summary, checked in rows:
        if checked is None:
            continue
        count = checked["unsupported_count"]
        flag = f"⚠️ {count} unsupported" if count else "✅ none flagged"
        if checked.get("consistency_score") is not None:
            flag += f"; consistency {checked['consistency_score']:.2f}"
        notes.append(checked.get("consistency_note") or "")
        lines.append(f'<p class="facts"><b>{html.escape(label)}</b> ({flag}): '
                     f'{marked(summary, checked["unsupported_facts"])}</p>')
    if not lines:
        return ""
    return ('<div class="faithfulness">' + "".join(lines) +
            f'<p style="font-size:0.85em">{LEGEND} · {html.escape(method)} '
            f'{html.escape(" ".join(dict.fromkeys(n for n in notes if n)))}</p></div>')
