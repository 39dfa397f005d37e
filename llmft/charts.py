"""Charts as matplotlib Figures, for the apps (gr.Plot) and the scripts (PNG files) alike.

`Figure` is used directly rather than pyplot, whose global state is not safe across server threads,
and a bare Figure renders off-screen (Agg), so no display is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def grouped_bar_chart(
    groups: Mapping[str, Mapping[str, float]],
    title: str = "",
    ylabel: str = "",
    value_format: str = "{:.1f}",
    figsize: tuple[float, float] = (8.0, 3.6),
) -> Any:
    """A matplotlib Figure: one cluster of bars per metric, one bar (and colour) per group.

    `groups` maps a group (a column, a model) to its metric values, e.g. {"A · 0-shot": {"rouge1": 31.2}}.
    """
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(m for values in groups.values() for m in values))
    figure = Figure(figsize=figsize, layout="constrained")
    axes = figure.subplots()
    count = max(len(groups), 1)
    width = 0.8 / count
    for index, (name, values) in enumerate(groups.items()):
        xs = [m + (index - (count - 1) / 2) * width for m in range(len(metrics))]
        heights = [values.get(metric, 0.0) for metric in metrics]
        bars = axes.bar(xs, heights, width=width, label=name)
        axes.bar_label(bars, labels=[value_format.format(h) for h in heights], fontsize=7, padding=1)
    axes.set_xticks(range(len(metrics)), metrics)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    heights = [v for values in groups.values() for v in values.values()]
    if heights and min(heights) >= 0:
        # Scores are never negative: start at 0, and keep an all-zero chart from centring on 0.
        axes.set_ylim(0, max(max(heights) * 1.15, 1.0))
    else:
        axes.margins(y=0.15)
    axes.spines[["top", "right"]].set_visible(False)
    if groups:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure
