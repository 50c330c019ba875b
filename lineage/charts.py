"""Charts of share tables (PNG or SVG, by file extension), drawn with matplotlib.

One chart per question, each saying what it shows when pasted into a report: labelled
axes, a title and a subtitle that state the filters, and a legend that lists exactly what
is drawn, in the order it is drawn (the top of the legend is the top of the stack).

- :func:`share_figure`: monthly share by group as stacked areas, over a thin strip of bars
  with the number of models counted each month. A month with fewer than
  ``min_month_count`` models is hatched, so a month of 3 models swinging 0-100% reads as
  noise, not as a trend. An overlay (download share next to derivative share) is drawn
  as dark dashed lines with markers over lighter areas, on an axis labelled for both; an
  overlay of a single month (one snapshot) is not a series: the chart says so and lists
  no line it did not draw.
- :func:`families_figure`: top families as horizontal bars stacked by relation.

Figures are built here and written by :func:`save_figure` through :mod:`lineage.output`
(devices, FIFOs and symlinks handled as for every output file). Uses the Agg backend: no
display needed. This module must not compute shares; it draws the tables it is given.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .errors import InputError
from .months import format_month
from .output import check_output, open_output
from .vocabulary import RELATION_ORDER

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REGION_COLORS = {
    "china": "#d62728",
    "us": "#1f77b4",
    "eu": "#e6b800",
    "other": "#7f7f7f",
    "unknown": "#c7c7c7",
}
_PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]
CHART_SUFFIXES = (".png", ".svg")
OTHER_GROUPS = "other groups"
OTHER_COLOR = "#d9d9d9"  # one muted band: it is there, not what the chart is about
MIN_MONTH_COUNT = 20
_HALF_MONTH = dt.timedelta(days=15)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_chart_path(path: str | Path) -> Path:
    """The chart's path, or :class:`InputError`: it must end in .png or .svg and be writable.

    >>> check_chart_path("share.jpg")
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: cannot write share.jpg: give a file ending in .png or .svg
    """
    path = Path(path)
    if path.suffix.lower() not in CHART_SUFFIXES:
        raise InputError(f"cannot write {path}: give a file ending in .png or .svg")
    return check_output(path)


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (PNG or SVG by its extension) and close it."""
    plt = _pyplot()
    try:
        path = check_chart_path(path)
        with open_output(path) as fh:
            fig.savefig(fh, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    return path


def _month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        months.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _color(group: str, i: int) -> str:
    return REGION_COLORS.get(group, _PALETTE[i % len(_PALETTE)])


def _dark(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return tuple(0.5 * c for c in to_rgb(color))  # type: ignore[return-value]


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def share_figure(
    table: pl.DataFrame,
    *,
    title: str,
    subtitle: str = "",
    top: int = 8,
    counts: pl.DataFrame | None = None,
    min_month_count: int = MIN_MONTH_COUNT,
    count_label: str = "derivatives",
    area_label: str = "new derivative models",
    month_label: str = "month the derivative was created (UTC)",
    overlay: pl.DataFrame | None = None,
    overlay_label: str = "downloads",
    partial: dt.date | None = None,
) -> Figure:
    """A stacked area chart of a share table (month, group, weight, share), with a count strip.

    With more than ``top + 1`` groups, the chart names those a reader needs
    (:func:`lineage.analysis.chart_groups`: each group that leads a month, then the highest
    monthly shares) and draws the rest as one muted "other groups" band; the legend's
    title says how they were chosen. ``counts`` (month, count) gives the models counted
    each month for the strip and the hatching (default: the sum of the table's per-group
    counts, which counts a merge of two groups twice). ``overlay`` (month, group, share)
    adds one dark dashed line per group, when it covers at least two months. ``partial``
    (the store's latest observation, in the last month) marks that month as partial.

    Examples
    --------
    >>> t = pl.DataFrame({"month": [dt.date(2025, 1, 1), dt.date(2025, 2, 1)],
    ...                   "group": ["china", "china"], "count": [30, 5],
    ...                   "weight": [30.0, 5.0], "share": [1.0, 1.0]})
    >>> fig = share_figure(t, title="t")
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['china', 'fewer than 20 derivatives']
    """
    plt = _pyplot()
    from matplotlib.patches import Patch

    from .analysis import chart_groups

    if table.height == 0:
        raise InputError("nothing to plot: no derivatives pass the filters")
    choice = chart_groups(table, top=top, counts=counts, min_count=min_month_count)
    keep = choice.groups
    groups = keep + ([OTHER_GROUPS] if choice.others else [])
    colors = {g: _color(g, i) for i, g in enumerate(keep)} | {OTHER_GROUPS: OTHER_COLOR}

    def topped(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.with_columns(
                pl.when(pl.col("group").is_in(keep))
                .then(pl.col("group"))
                .otherwise(pl.lit(OTHER_GROUPS))
                .alias("group")
            )
            .group_by("month", "group")
            .agg(pl.col("share").sum())
        )

    lines = topped(overlay) if overlay is not None and overlay.height else None
    line_months = sorted(set(lines["month"].to_list())) if lines is not None else []
    draw_lines = len(line_months) >= 2
    present = table["month"].to_list() + (line_months if draw_lines else [])
    months = _month_range(min(present), max(present))
    axis = pl.DataFrame({"month": months}, schema={"month": pl.Date})
    wide = (
        axis.join(
            topped(table).pivot(on="group", index="month", values="share"), on="month", how="left"
        )
        .sort("month")
        .fill_null(0.0)
    )
    if counts is None:
        counts = table.group_by("month").agg(pl.col("count").sum())
    per_month = axis.join(counts.select("month", "count"), on="month", how="left").fill_null(0)
    n = per_month["count"].to_list()
    low = [c < min_month_count for c in n]

    # Each month is a block from its first day to the next month's: a monthly share is one
    # number for the whole month, and a month between two others is not interpolated.
    edges = [*months, _next_month(months[-1])]
    fig, (ax, strip) = plt.subplots(
        2,
        1,
        figsize=(10, 6.2),
        dpi=120,
        sharex=True,
        gridspec_kw={"height_ratios": [5, 1], "hspace": 0.08},
    )
    areas = ax.stackplot(
        edges,
        [[v * 100 for v in [*wide[g].to_list(), wide[g][-1]]] for g in groups],
        labels=groups,
        colors=[colors[g] for g in groups],
        alpha=0.45 if draw_lines else 0.9,
        linewidth=0,
        step="post",
    )
    drawn_lines = []
    if draw_lines:
        assert lines is not None
        present_groups = set(lines["group"].to_list())
        # Listed like the areas, top of the stack first; one marker shape per group, so
        # lines of similar dark colours stay apart.
        for i, group in enumerate(g for g in reversed(groups) if g in present_groups):
            series = lines.filter(pl.col("group") == group).sort("month")
            (line,) = ax.plot(
                [m + _HALF_MONTH for m in series["month"].to_list()],
                (series["share"] * 100).to_list(),
                linestyle="--",
                linewidth=2.2,
                marker=_MARKERS[i % len(_MARKERS)],
                markersize=5.5,
                color=_dark(colors[group]),
                label=f"{group} ({overlay_label})",
                zorder=4,
            )
            drawn_lines.append(line)
    elif overlay is not None:
        when = f" ({format_month(line_months[0])})" if line_months else ""
        what = "one snapshot" if line_months else "no snapshot in these months"
        ax.text(
            1.02,
            0.0,
            f"share of {overlay_label}:\n{what}{when},\nnot a series, so not drawn;\n"
            "a series needs snapshots\nover time (crawl or ingest\nhub-stats again later)",
            transform=ax.transAxes,
            va="bottom",
            fontsize=8,
            color="#333333",
        )
    partial_label = None
    if partial is not None and (partial.year, partial.month) == (months[-1].year, months[-1].month):
        partial_label = f"partial month (to {partial:%b} {partial.day})"
        ax.axvspan(
            edges[-2], edges[-1], facecolor="none", hatch="...", edgecolor="#333333",
            linewidth=0, zorder=3,
        )  # fmt: skip
        ax.text(
            edges[-2] + (edges[-1] - edges[-2]) / 2, 101, f"partial\nto {partial:%m-%d}",
            ha="center", va="bottom", fontsize=7, color="#333333",
        )  # fmt: skip
    hatch_label = f"fewer than {min_month_count} {count_label}"
    hatches: list[Any] = []  # matplotlib patches
    for first, last in _runs(low):
        span = ax.axvspan(
            edges[first],
            edges[last + 1],
            facecolor="white",
            alpha=0.55,
            hatch="///",
            edgecolor="#555555",
            linewidth=0,
            zorder=3,
            label=hatch_label if not hatches else "_",  # one legend entry for all
        )
        hatches.append(span)
    ax.set_ylim(0, 100)
    ax.set_xlim(edges[0], edges[-1])
    if draw_lines:
        ax.set_ylabel(f"share (%)\nareas: {area_label}; dashed lines: {overlay_label}")
        month_label = f"month ({area_label}: created; {overlay_label}: snapshot taken)"
    else:
        ax.set_ylabel(f"share of {area_label} (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=12, loc="left")
    # Legend top to bottom = stack top to bottom, then the lines, then the hatching.
    handles = [*reversed(areas), *drawn_lines]
    if hatches:
        handles.append(
            Patch(facecolor="white", hatch="///", edgecolor="#555555", label=hatch_label)
        )
    if partial_label:
        handles.append(
            Patch(facecolor="white", hatch="...", edgecolor="#333333", label=partial_label)
        )
    ax.legend(
        handles=handles,
        labels=[h.get_label() for h in handles],
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        frameon=False,
        fontsize=9,
        title=_wrap(choice.rule, 34) if choice.rule else None,
        title_fontsize=7.5,
        alignment="left",  # the title as a paragraph over the entries
    )

    strip.bar(
        months,
        n,
        width=[(b - a).days for a, b in itertools.pairwise(edges)],
        align="edge",
        hatch=["..." if partial_label and i == len(months) - 1 else "" for i in range(len(n))],
        color=["#bbbbbb" if is_low else "#555555" for is_low in low],
        edgecolor="white",
        linewidth=0.5,
    )
    strip.axhline(min_month_count, color="#aa3333", linewidth=0.8, linestyle=":")
    strip.set_ylabel(count_label, fontsize=8)
    strip.tick_params(axis="y", labelsize=7)
    strip.set_ylim(0, max([*n, min_month_count]) * 1.15)
    strip.set_xlabel(month_label)
    import matplotlib.dates as mdates

    # A tick on the first day of a month, at most about a dozen of them: the automatic
    # locator puts mid-month ticks on short ranges, which print as the same YYYY-MM twice.
    strip.xaxis.set_major_locator(
        mdates.MonthLocator(bymonthday=1, interval=max(1, math.ceil(len(edges) / 12)))
    )
    strip.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    for label in strip.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    if subtitle:
        fig.text(0.01, 0.01, subtitle, fontsize=8, color="#555555")
    fig.subplots_adjust(left=0.08, right=0.78, top=0.93, bottom=0.2)
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def plot_share(
    table: pl.DataFrame,
    path: str | Path,
    *,
    title: str,
    subtitle: str = "",
    top: int = 8,
    counts: pl.DataFrame | None = None,
    min_month_count: int = MIN_MONTH_COUNT,
    count_label: str = "derivatives",
    area_label: str = "new derivative models",
    month_label: str = "month the derivative was created (UTC)",
    overlay: pl.DataFrame | None = None,
    overlay_label: str = "downloads",
    partial: dt.date | None = None,
) -> Path:
    """Draw :func:`share_figure` into ``path`` (.png or .svg); returns the path."""
    check_chart_path(path)  # before drawing: a bad path costs nothing
    fig = share_figure(
        table,
        title=title,
        subtitle=subtitle,
        top=top,
        counts=counts,
        min_month_count=min_month_count,
        count_label=count_label,
        area_label=area_label,
        month_label=month_label,
        overlay=overlay,
        overlay_label=overlay_label,
        partial=partial,
    )
    return save_figure(fig, path)


def families_figure(table: pl.DataFrame, *, title: str) -> Figure:
    """Horizontal bars: top families by derivatives, stacked by relation (left to right in
    legend order); relations no family has are left out of bars and legend."""
    plt = _pyplot()
    if table.height == 0:
        raise InputError("nothing to plot: no families in the store")
    table = table.reverse()
    fig, ax = plt.subplots(figsize=(10, 0.4 * table.height + 1.5), dpi=120)
    left = [0] * table.height
    labels = [f"{f} ({r})" for f, r in zip(table["family"], table["region"], strict=True)]
    for i, relation in enumerate(RELATION_ORDER):
        values = table[relation].to_list()
        if not any(values):
            continue
        ax.barh(labels, values, left=left, label=relation, color=_PALETTE[i])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("derivative models")
    ax.set_title(title, fontsize=12, loc="left")
    # Outside the bars, in stacking order (left to right = top to bottom).
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def plot_families(table: pl.DataFrame, path: str | Path, *, title: str) -> Path:
    """Draw :func:`families_figure` into ``path`` (.png or .svg); returns the path."""
    check_chart_path(path)
    return save_figure(families_figure(table, title=title), path)
