"""Charts: what is drawn, what the legend lists, and what the PNG looks like.

Legend checks read the matplotlib figure objects: the legend's entries against the artists
actually on the axes (areas with some height, lines with points, hatch patches), and the
stacking order from the areas' geometry, not from the list the chart was built from. Every
chart a test writes is decoded: a PNG's pixels must show each drawn group's colour (as blended
over white), an SVG's legend is read back entry by entry (label and swatch colour) and must
be the figure's legend, in order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import polars as pl
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from support.history import item, snapshot
from support.toyhub import ROOT

from lineage.analysis import download_share, families, load_context, share
from lineage.charts import REGION_COLORS, families_figure, save_figure, share_figure
from lineage.records import parse_items
from lineage.store import Store


def check_png(path: Path, *, min_width: int = 900, min_height: int = 500) -> np.ndarray:
    """The PNG's pixels, after checking its size and that a good part of it is not blank."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    pixels = imread(path)[..., :3]
    height, width = pixels.shape[:2]
    assert width >= min_width and height >= min_height, (path, width, height)
    inked = (pixels < 0.95).any(axis=2).mean()
    assert inked > 0.05, (path, inked)  # not a blank canvas with a title
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 8, path
    return pixels


def png_has_colour(pixels: np.ndarray, colour: str, alpha: float, *, at_least: int = 50) -> int:
    """How many pixels show ``colour`` drawn at ``alpha`` over white (asserts ``at_least``)."""
    want = np.array(to_rgb(colour)) * alpha + (1 - alpha)
    close = (np.abs(pixels - want) < 3 / 255).all(axis=2).sum()
    assert close >= at_least, (colour, alpha, int(close))
    return int(close)


SVG = "{http://www.w3.org/2000/svg}"


def svg_legend(path: Path) -> list[tuple[str, str | None]]:
    """(label, swatch fill) of each legend entry of a matplotlib SVG, top to bottom.

    Matplotlib draws text as glyph paths with the text in a comment before them, and each
    entry as a swatch group (patch_*, line2d_*) then a text group: read both back."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser).getroot()
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "legend_1")
    entries, fill = [], None
    for group in legend:
        gid = group.get("id") or ""
        if gid.startswith("text_"):
            label = next(c.text.strip() for c in group.iter() if c.tag is ET.Comment)
            entries.append((label, fill))
            fill = None
        elif gid.startswith(("patch_", "line2d_")) and fill is None:
            styles = " ".join(e.get("style") or "" for e in group.iter())
            found = re.search(r"(?:fill|stroke): (#[0-9a-f]{6})", styles)
            fill = found.group(1) if found else None
    return entries


def svg_legend_title(path: Path) -> str:
    """The legend's title in a matplotlib SVG: its first text, every line of it."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser).getroot()
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "legend_1")
    title = next(g for g in legend if (g.get("id") or "").startswith("text_"))
    return " ".join(c.text.strip() for c in title.iter() if c.tag is ET.Comment)


def month(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def share_table(rows: list[tuple[str, str, int, float]]) -> pl.DataFrame:
    """(month, group, count, weight) rows -> a share table like `lineage share` makes."""
    frame = pl.DataFrame(
        [(month(m), g, c, w) for m, g, c, w in rows],
        schema={"month": pl.Date, "group": pl.String, "count": pl.UInt32, "weight": pl.Float64},
        orient="row",
    )
    return frame.with_columns(
        (pl.col("weight") / pl.col("weight").sum().over("month")).alias("share")
    )


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def drawn(ax) -> dict[str, list]:
    """The labelled artists on the axes that show something."""

    def has_height(collection) -> bool:
        ys = np.concatenate([p.vertices[:, 1] for p in collection.get_paths()])
        return len(ys) > 0 and float(ys.max() - ys.min()) > 0

    areas = [c for c in ax.collections if not c.get_label().startswith("_") and has_height(c)]
    lines = [
        line
        for line in ax.lines
        if not line.get_label().startswith("_")
        and np.isfinite(np.asarray(line.get_ydata(), dtype=float)).sum()
        >= (1 if line.get_marker() not in (None, "None", "") else 2)
    ]
    patches = [p for p in ax.patches if not p.get_label().startswith("_")]
    return {"areas": areas, "lines": lines, "patches": patches}


def stack_order_top_first(areas) -> list[str]:
    """Stacked areas ordered by their geometry, top of the stack first."""

    def middle(collection) -> float:
        return float(np.concatenate([p.vertices[:, 1] for p in collection.get_paths()]).mean())

    return [a.get_label() for a in sorted(areas, key=middle, reverse=True)]


def assert_legend_is_what_is_drawn(fig) -> dict[str, list]:
    ax = fig.axes[0]
    shown = drawn(ax)
    expected = (
        stack_order_top_first(shown["areas"])
        + [line.get_label() for line in shown["lines"]]
        + [p.get_label() for p in shown["patches"][:1]]
    )
    assert legend_texts(ax) == expected
    handles = ax.get_legend().legend_handles
    by_label = {a.get_label(): a for a in shown["areas"]}
    for handle, text in zip(handles, legend_texts(ax), strict=True):
        if text in by_label:  # the legend swatch is the area's own colour
            assert np.allclose(handle.get_facecolor()[:3], by_label[text].get_facecolor()[0][:3])
    return shown


@pytest.fixture
def monthly() -> pl.DataFrame:
    """Four months, February with only 3 derivatives, April with none, May with 25."""
    return share_table(
        [
            ("2025-01", "china", 10, 10.0),
            ("2025-01", "us", 15, 15.0),
            ("2025-01", "eu", 5, 5.0),
            ("2025-02", "eu", 3, 3.0),
            ("2025-03", "china", 30, 30.0),
            ("2025-03", "us", 10, 10.0),
            ("2025-05", "china", 20, 20.0),
            ("2025-05", "unknown", 5, 5.0),
        ]
    )


def test_legend_lists_the_stack_top_first(monthly, tmp_path):
    fig = share_figure(monthly, title="t", min_month_count=0)
    shown = assert_legend_is_what_is_drawn(fig)
    # biggest group at the bottom of the stack, so last in the legend
    assert legend_texts(fig.axes[0]) == ["unknown", "eu", "us", "china"]
    assert shown["patches"] == []  # nothing hatched with no threshold
    save_figure(share_figure(monthly, title="t", min_month_count=0), tmp_path / "stack.svg")
    assert svg_legend(tmp_path / "stack.svg") == [
        (g, REGION_COLORS[g]) for g in ["unknown", "eu", "us", "china"]
    ]
    save_figure(fig, tmp_path / "stack.png")
    pixels = check_png(tmp_path / "stack.png")
    china = png_has_colour(pixels, REGION_COLORS["china"], 0.9)
    eu = png_has_colour(pixels, REGION_COLORS["eu"], 0.9)
    assert china > eu  # summed over the months, China's share is the bigger area


def test_months_below_the_threshold_are_hatched_and_counts_shown(monthly, tmp_path):
    fig = share_figure(monthly, title="t", min_month_count=20)
    ax, strip = fig.axes
    shown = assert_legend_is_what_is_drawn(fig)
    assert legend_texts(ax)[-1] == "fewer than 20 derivatives"
    spans = sorted(
        (mdates.num2date(p.get_x()).date(), mdates.num2date(p.get_x() + p.get_width()).date())
        for p in ax.patches
        if p.get_hatch()
    )
    # February (3 derivatives) and April (none) are hatched, each over its whole month.
    assert spans == [
        (dt.date(2025, 2, 1), dt.date(2025, 3, 1)),
        (dt.date(2025, 4, 1), dt.date(2025, 5, 1)),
    ]
    assert len(shown["patches"]) == 1  # one labelled span: one legend entry for both
    bars = sorted((mdates.num2date(b.get_x()).date(), b.get_height()) for b in strip.patches)
    assert bars == [
        (dt.date(2025, 1, 1), 30),
        (dt.date(2025, 2, 1), 3),
        (dt.date(2025, 3, 1), 40),
        (dt.date(2025, 4, 1), 0),
        (dt.date(2025, 5, 1), 25),
    ]
    assert strip.get_ylabel() == "derivatives"
    save_figure(fig, tmp_path / "hatched.png")
    check_png(tmp_path / "hatched.png")


def test_counts_given_per_month_win_over_summed_group_counts(monthly):
    counts = pl.DataFrame({"month": [month("2025-02")], "count": [50]})
    fig = share_figure(monthly, title="t", counts=counts)
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    # only the given counts: every month but February (50) has none, so is hatched
    assert len(hatched) == 2  # January, and March-May as one run


def test_more_groups_than_top_are_drawn_as_other_groups(tmp_path):
    rows = [("2025-01", f"org{i}/m", 5, float(10 - i)) for i in range(10)]
    fig = share_figure(share_table(rows), title="t", top=3, min_month_count=0)
    assert_legend_is_what_is_drawn(fig)
    assert legend_texts(fig.axes[0]) == ["other groups", "org2/m", "org1/m", "org0/m"]
    save_figure(fig, tmp_path / "top.png")
    check_png(tmp_path / "top.png")


def download_table(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return share_table([(m, g, 1, w) for m, g, w in rows])


def test_both_metrics_with_one_snapshot_say_so_and_list_no_lines(monthly, tmp_path):
    overlay = download_table([("2025-03", "china", 70.0), ("2025-03", "us", 30.0)])
    fig = share_figure(monthly, title="t", overlay=overlay, min_month_count=0)
    ax = fig.axes[0]
    shown = assert_legend_is_what_is_drawn(fig)
    assert shown["lines"] == [] and not any("downloads" in t for t in legend_texts(ax))
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "one snapshot (2025-03)" in notes and "not drawn" in notes
    save_figure(fig, tmp_path / "one.png")
    check_png(tmp_path / "one.png")


def test_both_metrics_with_several_snapshots_draw_dark_dashed_lines(monthly, tmp_path):
    overlay = download_table(
        [
            ("2024-11", "china", 20.0),
            ("2024-11", "us", 80.0),
            ("2025-01", "china", 40.0),
            ("2025-01", "us", 60.0),
            ("2025-03", "china", 55.0),
            ("2025-03", "us", 40.0),
            ("2025-03", "eu", 5.0),
        ]
    )
    fig = share_figure(monthly, title="t", overlay=overlay, min_month_count=0)
    ax = fig.axes[0]
    shown = assert_legend_is_what_is_drawn(fig)
    assert [line.get_label() for line in shown["lines"]] == [
        "eu (downloads)",
        "us (downloads)",
        "china (downloads)",
    ]
    areas = {a.get_label(): a for a in shown["areas"]}
    for line in shown["lines"]:
        area = areas[line.get_label().split(" ")[0]]
        assert line.get_linestyle() == "--" and line.get_marker() not in (None, "None", "")
        assert sum(to_rgb(line.get_color())) < sum(area.get_facecolor()[0][:3])  # darker
        assert area.get_alpha() <= 0.5  # the areas are lighter under the lines
    assert len({line.get_marker() for line in shown["lines"]}) == 3  # told apart by shape too
    left, right = (mdates.num2date(x).date() for x in ax.get_xlim())
    assert left == dt.date(2024, 11, 1) and right == dt.date(2025, 6, 1)  # both series' months
    assert "areas" in ax.get_ylabel() and "dashed lines" in ax.get_ylabel()
    save_figure(fig, tmp_path / "both.png")
    check_png(tmp_path / "both.png")


def test_families_chart_lists_only_drawn_relations(toy_store, tmp_path):
    table = families(load_context(Store(toy_store, create=False)))
    fig = families_figure(table.with_columns(pl.lit(0, pl.UInt32).alias("adapter")), title="t")
    ax = fig.axes[0]
    bars = [c for c in ax.containers if any(p.get_width() > 0 for p in c.patches)]
    assert legend_texts(ax) == [c.get_label() for c in bars] == ["finetune", "quantized", "merge"]
    save_figure(fig, tmp_path / "families.png")
    check_png(tmp_path / "families.png", min_height=300)


# -- the charts the CLI draws ---------------------------------------------------------------


@pytest.fixture
def history(tmp_path) -> Store:
    store = Store(tmp_path / "history")
    for day, scale in (("2025-02-15", 1), ("2025-03-15", 2), ("2025-04-15", 3)):
        snapshot(
            store,
            day,
            item("Qwen/base", downloads=100 * scale),
            item("mistralai/base", downloads=300),
            item("u/q-ft", "Qwen/base", downloads=50 * scale, total=60),
            item("u/m-ft", "mistralai/base", downloads=10, total=20, created="2025-02-03"),
            item("u/q-new", "Qwen/base", downloads=200, total=300, created="2025-04-02"),
        )
    return store


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_cli_charts_render(run_cli, toy_store, history, tmp_path, suffix):
    charts = {
        "share": ["share", "--store", toy_store, "--min-downloads", "0"],
        "share-family": ["share", "--store", toy_store, "--by", "family"],
        "both": ["share", "--store", str(history.path), "--metric", "both"],
        "downloads": ["share", "--store", str(history.path), "--metric", "downloads"],
        "families": ["families", "--store", toy_store],
    }
    for name, args in charts.items():
        out = tmp_path / f"{name}{suffix}"
        result = run_cli(*args, "--plot", str(out))
        assert result.exit_code == 0, (name, result.stderr)
        assert result.stderr.splitlines()[-1] == f"chart written to {out}"
        if suffix == ".png":
            pixels = check_png(out, min_height=300)
            if name == "share":  # the toy Hub's regions, each drawn in its own colour
                for region in ("china", "us", "eu"):
                    png_has_colour(pixels, REGION_COLORS[region], 0.9)
            continue
        legend = svg_legend(out)
        labels = [label for label, _ in legend]
        assert labels, name
        if name in ("share", "downloads"):
            for label, fill in legend:
                if label in REGION_COLORS:
                    assert fill == REGION_COLORS[label], (name, label, fill)
        if name == "share":
            ctx = load_context(Store(toy_store, create=False))
            result = share(ctx, min_downloads=0)
            fig = share_figure(result.table, title="t", counts=result.counts)
            assert labels == legend_texts(fig.axes[0])  # what the library's figure lists
        if name == "families":
            assert labels == ["finetune", "adapter", "quantized", "merge"]  # the toy's, in order


def test_cli_chart_figures_list_what_they_draw(toy_store, history):
    """The figures behind the CLI's charts, built from the same library results."""
    ctx = load_context(Store(toy_store, create=False))
    result = share(ctx, min_downloads=0)
    fig = share_figure(result.table, title="t", counts=result.counts)
    assert_legend_is_what_is_drawn(fig)
    assert legend_texts(fig.axes[0])[-1] == "fewer than 20 derivatives"  # a toy Hub is small
    hist = load_context(history)
    derivatives, downloads = share(hist, min_downloads=0), download_share(hist)
    fig = share_figure(
        derivatives.table, title="t", counts=derivatives.counts, overlay=downloads.table
    )
    shown = assert_legend_is_what_is_drawn(fig)
    assert {line.get_label() for line in shown["lines"]} == {"china (downloads)", "eu (downloads)"}


@pytest.mark.slow
def test_the_docs_charts_draw(tmp_path):
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import charts as docs_charts
    finally:
        sys.path.remove(str(ROOT / "docs"))
    written = docs_charts.draw(tmp_path, models=3000)
    assert [p.name for p in written] == [
        "share.png",
        "share-family.png",
        "share-both.png",
        "share-both-one-snapshot.png",
        "families.png",
    ]
    for path in written:
        check_png(path)
    for name in (
        "share.png", "share-family.png", "share-both.png", "share-both-one-snapshot.png",
        "families.png",
    ):  # fmt: skip
        check_png(ROOT / "docs" / name)  # the committed copies the README shows


# -- which groups a chart names, and the partial month (issue 24) -----------------------------


def rising_and_fading() -> pl.DataFrame:
    """30 months of 12 families: a few lead the first year and fade, others rise later
    (when most derivatives are made), many stay small."""
    rows = []
    for t in range(30):
        m = f"{2024 + t // 12}-{t % 12 + 1:02d}"
        volume = 30 + 20 * t
        early = max(0.0, 1 - t / 12)
        late = min(1.0, t / 18)
        for i, g in enumerate(["early/a", "early/b"]):
            rows.append((m, g, 1, volume * 0.3 * early / (i + 1)))
        for i, g in enumerate(["late/x", "late/y", "late/z"]):
            rows.append((m, g, 1, volume * 0.25 * late / (i + 1)))
        for i in range(7):
            rows.append((m, f"small/s{i}", 1, volume * 0.02 * (1 + (i + t) % 3)))
    table = share_table([r for r in rows if r[3] > 0])
    counts = table.group_by("month").agg(pl.col("weight").sum().cast(pl.Int64).alias("count"))
    return table, counts


def test_family_chart_names_the_groups_of_every_part_of_the_period(tmp_path):
    """Read back from the SVG: the families that led the first months are named, not
    only those of the last months (where most derivatives are, so most weight); the
    legend says how they were chosen; the rest is one grey band."""
    table, counts = rising_and_fading()
    by_weight = (
        table.group_by("group").agg(pl.col("weight").sum()).sort("weight", descending=True)
    )["group"].to_list()[:4]
    assert "early/a" not in by_weight  # what the chart used to name
    fig = share_figure(table, title="t", top=4, counts=counts)
    assert_legend_is_what_is_drawn(fig)
    save_figure(fig, tmp_path / "families.svg")
    legend = svg_legend(tmp_path / "families.svg")
    title = svg_legend_title(tmp_path / "families.svg")
    assert title.startswith("4 of 12 groups: the biggest in each of 2 spans")
    assert "the other 8 as one grey band" in title
    entries = dict(legend[1:])  # after the title
    assert {"early/a", "late/x"} <= set(entries)
    assert entries["other groups"] == "#d9d9d9"  # muted
    named = [g for g in entries if g != "other groups"]
    assert len(named) == 4 and len({entries[g] for g in named}) == 4
    # every month has a named group in it
    shown = table.filter(pl.col("group").is_in(named))
    assert shown["month"].n_unique() == table["month"].n_unique()


def test_regions_are_all_named_without_a_rule(monthly, tmp_path):
    save_figure(share_figure(monthly, title="t", min_month_count=0), tmp_path / "r.svg")
    assert [label for label, _ in svg_legend(tmp_path / "r.svg")] == [
        "unknown", "eu", "us", "china",
    ]  # fmt: skip


def test_partial_last_month_is_marked_on_the_chart(monthly, tmp_path):
    fig = share_figure(monthly, title="t", min_month_count=0, partial=dt.date(2025, 5, 12))
    ax, strip = fig.axes
    assert legend_texts(ax)[-1] == "partial month (to May 12)"
    marked = [p for p in ax.patches if p.get_hatch() == "..."]
    assert [
        (mdates.num2date(p.get_x()).date(), mdates.num2date(p.get_x() + p.get_width()).date())
        for p in marked
    ] == [(dt.date(2025, 5, 1), dt.date(2025, 6, 1))]
    assert [b.get_hatch() for b in strip.patches][-1] == "..."
    assert "partial\nto 05-12" in [t.get_text() for t in ax.texts]
    # a date in an earlier month marks nothing: the last month is whole
    fig = share_figure(monthly, title="t", min_month_count=0, partial=dt.date(2025, 4, 30))
    assert not any("partial" in t for t in legend_texts(fig.axes[0]))


def test_cli_notes_the_partial_month_and_orders_both_metrics_as_share(run_cli, tmp_path):
    store = Store(tmp_path / "crawled")
    for day, scale in (("2025-02-15", 1), ("2025-03-15", 2), ("2025-04-15", 3)):
        seen = dt.datetime.fromisoformat(day + "T12:00:00+00:00")  # crawled that day
        batch, _ = parse_items(
            [
                item("Qwen/base", downloads=100 * scale),
                item("mistralai/base", downloads=300),
                item("u/q-ft", "Qwen/base", downloads=50 * scale, total=60),
                item("u/m-ft", "mistralai/base", downloads=10, total=20, created="2025-02-03"),
                item("u/q-new", "Qwen/base", downloads=200, total=300, created="2025-04-02"),
            ],
            seen_at=seen,
            source="list",
        )
        store.commit(batch, snapshot_date=seen.date())
    out = tmp_path / "both.svg"
    result = run_cli(
        "share", "--store", str(store.path), "--metric", "both", "--min-downloads", "0",
        "--format", "json", "--plot", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (
        "partial month: 2025-04 is counted to 2025-04-15, the store's latest observation"
        in result.stderr
    )
    assert "partial month (to Apr 15)" in [label for label, _ in svg_legend(out)]
    rows = json.loads(result.stdout)
    for (when, metric), group in itertools.groupby(rows, key=lambda r: (r["month"], r["metric"])):
        shares = [r["share"] for r in group]
        assert shares == sorted(shares, reverse=True), (when, metric)
    plain = json.loads(
        run_cli(
            "share", "--store", str(store.path), "--min-downloads", "0", "--format", "json"
        ).stdout
    )
    both = [
        {k: v for k, v in r.items() if k != "metric"} for r in rows if r["metric"] == "derivatives"
    ]
    assert both == plain
