"""What inferred lineage moves in a share, compared with declared lineage alone.

``lineage share --lineage both`` (or ``inferred``) says on stderr how much derivative
weight the inferred edges moved into regions, by method and by region, and how many models
count only through them (:func:`weight_moved`). The comparison needs the declared
attribution beside the inferred one, mapped onto the inferred graph's node numbers: seconds
of joins on millions of weights. Everything it sums is per derivative, so it is worked out
once per derivative and kept with the store's derived state (:mod:`lineage.derived`, set
``moved-<variant>``, for the default root set, merge rule, region table and confidence;
made from the same generation's graphs, attributions and inferred edges, and rebuilt with
them after every commit, an ``infer`` included). A share then sums the rows of the
derivatives it counts.

This module reads attributions; it does not crawl, infer or render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from .regions import attach_regions
from .vocabulary import DownloadWindow

if TYPE_CHECKING:
    from .analysis import Context, _Selection

MOVED_PARTS = ("derivatives", "credit", "regions")


@dataclass(frozen=True)
class WeightMoved:
    """How much of a share's derivative weight inferred lineage moves into regions.

    Over the derivatives a share counts with inferred lineage (its download and month
    filters): ``weight`` in all; ``from_unknown`` and ``from_unattributed``: weight that
    declared lineage put in the ``unknown`` region or left unattributed (never reaching
    the root set) and that now reaches a region; ``gained``: the weight regions gained in
    all (``lost``: what moved out of them); ``by_method``: the gained weight by the method
    of the inferred edge that carried it (the one above the declared root; split by the
    roots' weights); ``into``: by the region it moved to. ``new_models`` and
    ``new_weight``: models that declare no parent and count only through inferred lineage
    (by method: ``new_by_method``; in a known region: ``new_in_regions``).
    """

    weight: float
    from_unknown: float
    from_unattributed: float
    gained: float
    lost: float
    by_method: dict[str, float]
    into: dict[str, float]
    new_models: int
    new_weight: float
    new_in_regions: float
    new_by_method: dict[str, float]


def weight_moved(
    ctx: Context,
    *,
    min_downloads: int = 5,
    downloads: DownloadWindow = "all",
    since: Any = None,
    until: Any = None,
) -> WeightMoved | None:
    """What ``ctx`` (a :class:`~lineage.analysis.Context` with inferred lineage) moves
    compared with declared lineage alone, over the derivatives its share counts; None for
    a context of declared lineage.

    Compares with the declared attribution of the same store, root set and merge rule
    (:func:`moved_frames`, kept for the default choices).
    """
    from .analysis import _selection

    if ctx.lineage == "declared":
        return None
    pick = _selection(
        ctx, min_downloads=min_downloads, downloads=downloads, since=since, until=until
    )

    def plan(scan: Callable[[str], pl.LazyFrame]) -> list[pl.LazyFrame]:
        each = pick(scan("derivatives")).select(
            "idx", "old", "method", *_COLUMNS, *(f"{c}_before" for c in _COLUMNS)
        )
        flows = each.filter("old").select(
            (pl.col("unknown_before") - pl.col("unknown"))
            .clip(lower_bound=0)
            .alias("from_unknown"),
            (pl.col("attributed") - pl.col("attributed_before"))
            .clip(lower_bound=0)
            .alias("from_unattributed"),
            (pl.col("known") - pl.col("known_before")).clip(lower_bound=0).alias("gained"),
            (pl.col("known_before") - pl.col("known")).clip(lower_bound=0).alias("lost"),
        )
        new = each.filter(~pl.col("old"))
        return [
            each.select(pl.col("attributed").sum(), (~pl.col("old")).sum().alias("new_models")),
            flows.select(pl.col("from_unknown", "from_unattributed", "gained", "lost").sum()),
            # Credit and regions rows carry their derivative's filter columns (and credit its
            # gain): filtered where they lie, not joined with the chosen derivatives.
            pick(scan("credit"))
            .group_by("method")
            .agg((pl.col("part") * pl.col("gained")).sum().alias("w")),
            pick(scan("regions"))
            .group_by("region")
            .agg(pl.col("after").sum(), pl.col("before").sum())
            .select("region", (pl.col("after") - pl.col("before")).alias("w")),
            new.select(pl.col("attributed").sum(), pl.col("known").sum()),
            new.group_by("method").agg(pl.col("attributed").sum().alias("w")),
        ]

    totals, flows, credit, into, new, new_methods = _summed(ctx, pick, plan)
    return WeightMoved(
        weight=float(totals["attributed"][0]),
        from_unknown=float(flows["from_unknown"][0]),
        from_unattributed=float(flows["from_unattributed"][0]),
        gained=float(flows["gained"][0]),
        lost=float(flows["lost"][0]),
        by_method=_by(credit, "method"),
        into=_by(into, "region"),
        new_models=int(totals["new_models"][0]),
        new_weight=float(new["attributed"][0]),
        new_in_regions=float(new["known"][0]),
        new_by_method=_by(new_methods, "method"),
    )


_COLUMNS = ("known", "unknown", "attributed")


SUMMED_PARTS = ("totals", "flows", "credit", "into", "new", "new_methods")


def _summed(
    ctx: Context,
    pick: _Selection,
    plan: Callable[[Callable[[str], pl.LazyFrame]], list[pl.LazyFrame]],
) -> list[pl.DataFrame]:
    """``plan``'s sums: for the share the README publishes (every month, more than 5
    all-time downloads) kept as they come out, per generation (set
    ``moved-sums-<variant>``, ``-only`` for inferred lineage alone), where summing the
    1.6M rows of ``moved-<variant>`` again on every run was most of the note's cost;
    summed over those rows for any other choice. The kept sums are the ones the rows give
    (the same frames, written and read back), so the note keeps its last digits."""
    from . import derived
    from .analysis import _KEPT_SELECTION

    name = derived.default_variant(ctx)
    whole = (pick.column, pick.min_downloads, pick.start, pick.end) == (
        *_KEPT_SELECTION,
        None,
        None,
    )
    if name is None or not whole:
        return _kept_moved(ctx, plan)

    def build() -> dict[str, pl.DataFrame]:
        return dict(zip(SUMMED_PARTS, _kept_moved(ctx, plan), strict=True))

    set_name = f"moved-sums-{name}" + ("-only" if ctx.lineage == "inferred" else "")
    frames = derived.whole(ctx.store, set_name, SUMMED_PARTS, build)
    return [frames[part] for part in SUMMED_PARTS]


def _kept_moved(
    ctx: Context, plan: Callable[[Callable[[str], pl.LazyFrame]], list[pl.LazyFrame]]
) -> list[pl.DataFrame]:
    """``plan``'s queries over :func:`moved_frames`, kept per generation for the default
    choices (read through lazy scans of the kept files), built in memory otherwise."""
    from . import derived

    name = derived.default_variant(ctx)
    if name is not None:
        sources = ("models", "edges", "lookups", "inferred_edges")
        parts, frames = derived.kept(
            ctx.store, f"moved-{name}", MOVED_PARTS, lambda: moved_frames(ctx), sources
        )
        if parts is not None:
            try:
                return pl.collect_all(plan(parts.scan))
            except (OSError, pl.exceptions.PolarsError):  # damaged after all: built again
                derived.drop_set(parts.directory)
                frames = None
    else:
        frames = None
    made = frames if frames is not None else moved_frames(ctx)
    return pl.collect_all(plan(lambda part: made[part].lazy()))


def moved_frames(ctx: Context) -> dict[str, pl.DataFrame]:
    """Per derivative of ``ctx`` (numbered as in its graph), what its inferred attribution
    and the declared one give it; every figure of :class:`WeightMoved` is a sum of these
    over the derivatives a share counts.

    ``derivatives``: idx, what a share filters by (crawled, month, downloads,
    downloads_all_time), ``old`` (declared lineage attributes it too), its
    weight in known regions, in ``unknown`` and attributed in all, with inferred lineage
    (``known``, ``unknown``, ``attributed``) and declared alone (``..._before``), and
    ``method``: that of its own first inferred edge. ``credit``: idx, method, part: how its
    declared roots' weight splits by the method of the inferred edge above each (roots
    without one left out), and ``gained``: the weight its derivative gained in known
    regions. ``regions``: idx, region, the weight it has in that known region with inferred
    lineage (``after``) and declared alone (``before``), for derivatives declared lineage
    attributes. Both carry their derivative's filter columns, so that a share picks their
    rows as it picks derivatives, without a join.
    """
    from .analysis import load_context

    declared = load_context(
        ctx.store,
        roots=ctx.attribution.root_set
        if ctx.attribution.root_set in ("all", "atom", "atom-extended")
        else ctx.attribution.root_set.removeprefix("file:"),
        multi_parent=ctx.attribution.multi_parent,
        regions=ctx.regions_file,
    )
    # Everything is keyed by the node indices of ``ctx``'s graph: joins of integers, where
    # joins of the ids of millions of weights cost seconds each.
    filters = ["idx", "crawled", "month", "downloads", "downloads_all_time"]
    listed = _part(ctx.attribution, "derivatives", filters)
    ids = listed.select(pl.col("idx").alias("derivative_id"))
    to_ctx = _node_map(
        _part(declared.graph, "nodes", ["idx", "id"]), _part(ctx.graph, "nodes", ["idx", "id"])
    )

    def placed(c: Any, mapped: pl.DataFrame | None) -> pl.DataFrame:
        """(derivative, root, weight, known region) of a context's attribution, the nodes
        numbered as in ``ctx``'s graph (``mapped``: from ``c``'s numbering, if it differs)."""
        weights = _part(c.attribution, "weights", ["derivative", "root", "weight"])
        roots = _part(c.graph, "nodes", ["idx", "org"]).join(
            weights.select("root").unique(), left_on="idx", right_on="root"
        )
        regions = attach_regions(
            roots.select("idx", "org"), c.regions, org="org", region="region"
        ).select(pl.col("idx").alias("root"), "region")
        weights = weights.join(regions, on="root")
        if mapped is not None:
            weights = weights.join(
                mapped.rename({"idx": "derivative", "ctx": "derivative_ctx"}), on="derivative"
            ).join(mapped.rename({"idx": "root", "ctx": "root_ctx"}), on="root", how="left")
            weights = weights.select(
                pl.col("derivative_ctx").alias("derivative"),
                pl.col("root_ctx").alias("root"),
                "weight",
                "region",
            )
        return weights.select(
            pl.col("derivative").alias("derivative_id"),
            pl.col("root").alias("root_id"),
            "weight",
            "region",
        )

    after = placed(ctx, None).join(ids, on="derivative_id", how="semi")
    before = placed(declared, to_ctx).join(ids, on="derivative_id", how="semi")
    was = _part(declared.attribution, "derivatives", ["idx"])
    if to_ctx is not None:
        was = was.join(to_ctx, on="idx").select(pl.col("ctx").alias("idx"))
    was = was.select(pl.col("idx").alias("derivative_id"), pl.lit(True).alias("old"))

    def totals(frame: pl.DataFrame) -> pl.DataFrame:
        known = pl.col("region") != "unknown"
        return (
            frame.select(
                "derivative_id",
                pl.when(known).then("weight").otherwise(0.0).alias("known"),
                pl.when(known).then(0.0).otherwise("weight").alias("unknown"),
                pl.col("weight").alias("attributed"),
            )
            # Sorted first: polars then sums each derivative's slice in row order, at a
            # tenth of a hash grouping's cost, the same sums whatever the thread count.
            .sort("derivative_id", maintain_order=True)
            .group_by("derivative_id", maintain_order=True)
            .agg(pl.all().sum())
        )

    # Which inferred edge carried it: the one out of each declared root (its method).
    first_inferred = (
        _part(ctx.graph, "edges", ["child", "position", "method", "lineage"])
        .filter(pl.col("lineage") == "inferred")
        .sort("position")
        .unique("child", keep="first")
        .select("child", "method")
    )
    columns = _COLUMNS
    each = (
        listed.rename({"idx": "derivative_id"})
        .join(was, on="derivative_id", how="left", maintain_order="left")
        .with_columns(pl.col("old").fill_null(False))
        .join(totals(after), on="derivative_id", how="left", maintain_order="left")
        .join(
            totals(before).rename({c: f"{c}_before" for c in columns}),
            on="derivative_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col(*columns, *(f"{c}_before" for c in columns)).fill_null(0.0))
        .join(
            first_inferred.rename({"child": "derivative_id"}),
            on="derivative_id",
            how="left",
            maintain_order="left",
        )
    )
    credit = (
        before.join(first_inferred.rename({"child": "root_id"}), on="root_id")
        .with_columns(
            (pl.col("weight") / pl.col("weight").sum().over("derivative_id")).alias("part")
        )
        .select("derivative_id", "method", "part")
    )
    old = each.filter("old").select("derivative_id")

    def in_regions(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            frame.join(old, on="derivative_id", how="semi")
            .filter(pl.col("region") != "unknown")
            .group_by("derivative_id", "region")
            .agg(pl.col("weight").sum().alias(name))
        )

    regions = (
        in_regions(after, "after")
        .join(
            in_regions(before, "before"), on=["derivative_id", "region"], how="full", coalesce=True
        )
        .with_columns(pl.col("after", "before").fill_null(0.0))
        .sort("derivative_id", "region")
    )
    # Each credit and regions row carries what its derivative is chosen by (a share filters
    # them in place) and, for credit, the weight its derivative gained in regions.
    shown = each.filter("old").select(
        "derivative_id",
        *filters[1:],
        (pl.col("known") - pl.col("known_before")).clip(lower_bound=0).alias("gained"),
    )
    return {
        "derivatives": each.rename({"derivative_id": "idx"}),
        "credit": credit.join(shown, on="derivative_id", maintain_order="left")
        .select(pl.col("derivative_id").alias("idx"), *filters[1:], "method", "part", "gained")
        .sort("idx", maintain_order=True),
        "regions": regions.join(
            shown.drop("gained"), on="derivative_id", maintain_order="left"
        ).select(pl.col("derivative_id").alias("idx"), *filters[1:], "region", "after", "before"),
    }


def _part(kept: Any, part: str, columns: list[str]) -> pl.DataFrame:
    """Some columns of a graph's or an attribution's frame: read alone from kept state (a
    :class:`~lineage.derived.StoredGraph`), else selected from the frame in memory."""
    if hasattr(kept, "frame"):
        return kept.frame(part, columns)
    return getattr(kept, part).select(columns)


def _node_map(nodes: pl.DataFrame, ctx_nodes: pl.DataFrame) -> pl.DataFrame | None:
    """``idx`` (in ``nodes``) -> ``ctx`` (the same id's index in ``ctx_nodes``); None when
    both number every id alike (then no mapping is needed).

    >>> a = pl.DataFrame({"idx": [0, 1], "id": ["x/a", "x/b"]})
    >>> _node_map(a, a) is None
    True
    >>> b = pl.DataFrame({"idx": [0, 1, 2], "id": ["x/b", "x/c", "x/a"]})
    >>> _node_map(a, b).sort("idx").rows()
    [(0, 2), (1, 0)]
    """
    alike = nodes.height == ctx_nodes.height and nodes["id"].equals(ctx_nodes["id"])
    if alike and nodes["idx"].equals(ctx_nodes["idx"]):
        return None
    return (
        nodes.select("idx", "id")
        .join(ctx_nodes.select(pl.col("idx").alias("ctx"), "id"), on="id")
        .select("idx", "ctx")
    )


def _by(frame: pl.DataFrame, key: str) -> dict[str, float]:
    """``key`` -> ``w``, largest first, without zeros."""
    rows = frame.filter(pl.col("w") > 1e-9).sort(["w", key], descending=[True, False])
    return {str(k): float(v) for k, v in rows.select(key, "w").iter_rows()}
