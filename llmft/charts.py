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
    differences: Mapping[str, Mapping[str, tuple[float, float, float]]] | None = None,
) -> Any:
    """A matplotlib Figure: one cluster of bars per metric, one bar (and colour) per group.

    `groups` maps a group (a column, a model) to its metric values, e.g. {"A · 0-shot": {"rouge1": 31.2}}.
    `differences`, when given, adds a panel below: each comparison's (difference, low, high) per metric, as
    bars with the interval as error bars, e.g. {"full - base": {"ROUGE-1": (3.1, 0.4, 5.9)}}.
    """
    from matplotlib.figure import Figure

    if differences:
        figure = Figure(figsize=(figsize[0], figsize[1] * 2), layout="constrained")
        axes, lower = figure.subplots(2, 1)
        _difference_bars(lower, differences)
    else:
        figure = Figure(figsize=figsize, layout="constrained")
        axes = figure.subplots()
    metrics = list(dict.fromkeys(m for values in groups.values() for m in values))
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


def _difference_bars(axes: Any, differences: Mapping[str, Mapping[str, tuple[float, float, float]]]) -> None:
    """Differences with their 95% intervals as error bars, and a line at 0: a bar whose bar crosses it is noise."""
    metrics = list(dict.fromkeys(m for values in differences.values() for m in values))
    count = max(len(differences), 1)
    width = 0.8 / count
    for index, (name, values) in enumerate(differences.items()):
        xs = [m + (index - (count - 1) / 2) * width for m in range(len(metrics))]
        triples = [values.get(metric, (0.0, 0.0, 0.0)) for metric in metrics]
        heights = [t[0] for t in triples]
        errors = [[t[0] - t[1] for t in triples], [t[2] - t[0] for t in triples]]
        axes.bar(xs, heights, width=width, yerr=errors, capsize=3, label=name, color=f"C{index + 1}")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(metrics)), metrics)
    axes.set_ylabel("difference, points")
    axes.set_title("Difference with its paired bootstrap 95% interval (error bars)", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
