"""Charts of share tables (PNG or SVG, by file extension), drawn with matplotlib.

One chart per question: monthly share of new derivatives by group as a stacked area, with
labelled axes, a legend, and a title that states the filters, so a chart pasted into a
report still says what it shows. Uses the Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .errors import InputError

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


def _chart_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise InputError(f"--plot {path}: give a file ending in .png or .svg")
    if not path.parent.exists():
        raise InputError(f"--plot {path}: directory {path.parent} does not exist")
    return path


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        plt.close(fig)
    return path


def plot_share(
    table: pl.DataFrame,
    path: str | Path,
    *,
    title: str,
    subtitle: str = "",
    top: int = 8,
    overlay: pl.DataFrame | None = None,
    overlay_label: str = "",
) -> Path:
    """Draw a share table (month, group, share) as a stacked area chart.

    Groups beyond the ``top`` largest (by total weight) are drawn together as "other groups".
    ``overlay`` (month, group, share) adds dashed lines, e.g. download share next to
    derivative share.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    path = _chart_path(path)
    if table.height == 0:
        raise InputError("nothing to plot: no derivatives pass the filters")
    order = (table.group_by("group").agg(pl.col("weight").sum()).sort("weight", descending=True))[
        "group"
    ].to_list()
    keep = order[:top]
    table = (
        table.with_columns(
            pl.when(pl.col("group").is_in(keep))
            .then(pl.col("group"))
            .otherwise(pl.lit("other groups"))
            .alias("group")
        )
        .group_by("month", "group")
        .agg(pl.col("share").sum())
    )
    groups = keep + (["other groups"] if len(order) > top else [])
    wide = table.pivot(on="group", index="month", values="share").sort("month").fill_null(0.0)
    months = wide["month"].to_list()
    colors = [REGION_COLORS.get(g, _PALETTE[i % len(_PALETTE)]) for i, g in enumerate(groups)]

    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=120)
    ax.stackplot(
        months,
        [wide[g].to_numpy() * 100 if g in wide.columns else [0] * len(months) for g in groups],
        labels=groups,
        colors=colors,
        alpha=0.9,
    )
    if overlay is not None and overlay.height:
        for group, frame in overlay.sort("month").group_by("group", maintain_order=True):
            name = group[0]
            color = REGION_COLORS.get(name, "black")
            ax.plot(
                frame["month"].to_list(),
                (frame["share"] * 100).to_list(),
                linestyle="--",
                linewidth=2,
                color=color,
                label=f"{name} ({overlay_label})",
            )
    ax.set_ylim(0, 100)
    ax.set_xlim(months[0], months[-1])
    ax.set_ylabel("share of new derivative models (%)")
    ax.set_xlabel("month the derivative was created (UTC)")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=12, loc="left")
    if subtitle:
        fig.text(0.01, 0.01, subtitle, fontsize=8, color="#555555")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    fig.autofmt_xdate()
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return _save(fig, path)


def plot_families(table: pl.DataFrame, path: str | Path, *, title: str) -> Path:
    """Horizontal stacked bars: top families by derivatives, split by relation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = _chart_path(path)
    if table.height == 0:
        raise InputError("nothing to plot: no families in the store")
    table = table.reverse()
    fig, ax = plt.subplots(figsize=(10, 0.4 * table.height + 1.5), dpi=120)
    left = [0] * table.height
    labels = [f"{f} ({r})" for f, r in zip(table["family"], table["region"], strict=True)]
    for i, relation in enumerate(("finetune", "adapter", "quantized", "merge")):
        values = table[relation].to_list()
        ax.barh(labels, values, left=left, label=relation, color=_PALETTE[i])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("derivative models")
    ax.set_title(title, fontsize=12, loc="left")
    ax.legend(frameon=False)
    fig.tight_layout()
    return _save(fig, path)
