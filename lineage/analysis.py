"""Questions asked of an attribution: shares by month, top families, one model's tree, quality.

Library twins of ``lineage share``, ``families``, ``tree``, ``quality`` and ``regions``.
Every result is a tidy polars frame (or a small dataclass of frames); rendering is the
CLI's job. Methodology defaults live in docs/methodology.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple, cast

import polars as pl

from . import derived
from .attribution import Attribution, Scan
from .checks import check_choice
from .errors import InputError, NotInStore
from .graph import ModelGraph
from .months import check_month_range, parse_month
from .regions import FrameT, attach_regions, load_regions, load_root_set
from .store import Store
from .vocabulary import (
    DOWNLOAD_WINDOWS,
    GROUPINGS,
    MULTI_PARENT,
    RELATION_ORDER,
    ROOT_SETS,
    DownloadWindow,
    Grouping,
    Lineage,
    MultiParent,
)

if TYPE_CHECKING:
    from .view import View


@dataclass(frozen=True)
class Context:
    """A store's graph and attribution under chosen options, plus the region table.

    ``lineage`` says which edges the graph holds (``declared``, the default, or with the
    store's inferred edges at ``min_confidence`` or more: ``inferred``, ``both``; see
    :func:`lineage.edges.lineage_edges`).
    """

    store: Store
    graph: ModelGraph
    attribution: Attribution
    regions: pl.DataFrame
    lineage: Lineage = "declared"
    min_confidence: float | None = None
    regions_file: str | None = None  # the user's table extending the packaged one, if any
    # Which models the graph holds: None is the default, the present.
    view: View | None = None


class _LazyContext(Context):
    """A :class:`Context` whose graph and attribution are read (or built) when first used,
    from the store's kept state (:mod:`lineage.derived`): a command that asks only the
    graph (``tree``) never attributes."""

    _graph: ModelGraph | None
    _attribution: Attribution | None
    _choice: tuple[list[str] | None, str, MultiParent]

    def __init__(
        self,
        store: Store,
        graph: ModelGraph | None = None,
        attribution: Attribution | None = None,
        regions: pl.DataFrame | None = None,
        lineage: Lineage = "declared",
        min_confidence: float | None = None,
        regions_file: str | None = None,
        view: View | None = None,
        *,
        root_ids: list[str] | None = None,
        root_set: str = "all",
        multi_parent: MultiParent = "split",
    ) -> None:
        for name, value in (
            ("store", store),
            ("regions", regions),
            ("lineage", lineage),
            ("min_confidence", min_confidence),
            ("regions_file", regions_file),
            ("view", view),
            ("_graph", graph),
            ("_attribution", attribution),
            ("_choice", (root_ids, root_set, multi_parent)),
        ):
            object.__setattr__(self, name, value)

    @property
    def graph(self) -> ModelGraph:
        graph = self._graph
        if graph is None:
            if self.view is None or self.view.default:
                made = derived.graph(
                    self.store, lineage=self.lineage, min_confidence=self.min_confidence
                )
            else:  # as-of a date, or every model ever observed: built on demand, not kept
                from .view import view_graph

                made = view_graph(
                    self.store,
                    self.view,
                    lineage=self.lineage,
                    min_confidence=self.min_confidence,
                )
            object.__setattr__(self, "_graph", made)
            graph = made
        return graph

    @property
    def attribution(self) -> Attribution:
        attribution = self._attribution
        if attribution is None:
            root_ids, root_set, multi_parent = self._choice
            made = derived.attribution(
                self.store,
                self.graph,
                lineage=self.lineage,
                min_confidence=self.min_confidence,
                roots=root_ids,
                multi_parent=multi_parent,
                root_set=root_set,
            )
            object.__setattr__(self, "_attribution", made)
            attribution = made
        return attribution


def load_context(
    store: Store,
    *,
    roots: str = "all",
    multi_parent: MultiParent = "split",
    regions: str | None = None,
    lineage: Lineage = "declared",
    min_confidence: float | None = None,
    require_inferred: bool = True,
    view: View | None = None,
) -> Context:
    """The graph and its attribution under these options (the first step of every analysis
    command), each read from the store's kept state or built when first used.

    ``view`` (a :class:`lineage.view.View`) chooses the models: None or ``present`` (the
    default), ``as-of`` a date, or ``all`` (see :mod:`lineage.view`).

    With ``lineage`` ``inferred`` or ``both``, the store's inferred edges with at least
    ``min_confidence`` (default :data:`lineage.inference.DEFAULT_MIN_CONFIDENCE`) join the
    declared ones; a store without any fails (``require_inferred``) or reads as declared.
    """
    from .vocabulary import DEFAULT_MIN_CONFIDENCE, LINEAGES

    check_choice("lineage", lineage, LINEAGES)
    if min_confidence is not None:
        from .checks import check_confidence

        check_confidence(min_confidence)
    if lineage != "declared":
        if min_confidence is None:
            min_confidence = DEFAULT_MIN_CONFIDENCE
        if not store.exists("inferred_edges"):
            if require_inferred:
                raise NotInStore(
                    f"the store at {store.path} has no inferred lineage; run `lineage infer` first"
                )
            lineage, min_confidence = "declared", None
    check_choice("multi_parent", multi_parent, MULTI_PARENT)
    table = load_regions(regions)
    root_ids = load_root_set(roots)
    label = roots if roots in ROOT_SETS else f"file:{roots}"
    ctx = _LazyContext(
        store,
        regions=table,
        lineage=lineage,
        min_confidence=min_confidence,
        regions_file=regions,
        view=view,
        root_ids=root_ids,
        root_set=label,
        multi_parent=multi_parent,
    )
    if ctx.graph.n == 0:
        raise NotInStore(f"the store at {store.path} is empty; run `lineage crawl` first")
    return ctx


def lineage_label(ctx: Context) -> str | None:
    """The lineage choice in words, None for declared lineage (what published figures use)."""
    if ctx.lineage == "declared":
        return None
    what = "declared and inferred" if ctx.lineage == "both" else "inferred only"
    return f"lineage: {what} (inferred at confidence >= {ctx.min_confidence:g})"


def inferred_children(ctx: Context) -> pl.DataFrame:
    """Nodes (``idx``) whose parents in the graph are inferred, not declared."""
    return (
        ctx.graph.edges.filter(pl.col("lineage") == "inferred")
        .select(pl.col("child").alias("idx"))
        .unique()
    )


def _months(since: str | dt.date | None, until: str | dt.date | None):
    """``--since`` and ``--until`` as first days of months, checked to be in order."""
    start, end = parse_month(since, "since"), parse_month(until, "until")
    check_month_range(start, end)
    return start, end


@dataclass(frozen=True)
class ShareResult:
    """A share table and what it leaves out."""

    table: pl.DataFrame  # month, group, count, weight, share
    unattributed: pl.DataFrame  # month, derivatives, unattributed_weight
    description: str  # the filters, in words (chart titles, stderr)
    # month, count: the models counted each month (attributed derivatives; for download
    # share, models with a snapshot). A merge of two groups is one model here, two in
    # ``table``'s per-group counts.
    counts: pl.DataFrame | None = None
    # The last month is partial: the store's latest observation (this date) falls in it,
    # so it holds only the derivatives created up to then. None when it is whole.
    partial: dt.date | None = None


def selected_derivatives(
    ctx: Context,
    *,
    min_downloads: int = 5,
    downloads: DownloadWindow = "all",
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """Crawled derivatives passing the download and month filters (all their columns, or
    ``columns`` and what the filters read)."""
    pick = _selection(
        ctx, min_downloads=min_downloads, downloads=downloads, since=since, until=until
    )
    if columns is not None:
        columns = list(dict.fromkeys(["idx", "crawled", "month", pick.column, *columns]))
    return pick(ctx.attribution.frame("derivatives", columns).lazy()).collect()


@dataclass(frozen=True)
class _Selection:
    """The derivatives a share counts: crawled, dated, with more than ``min_downloads`` on
    ``column``, in the month range, and (``only``) among some nodes; applied to a lazy
    frame of an attribution's ``derivatives``."""

    column: str
    min_downloads: int
    start: dt.date | None
    end: dt.date | None
    only: pl.DataFrame | None

    def __call__(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        frame = frame.filter(
            pl.col("crawled")
            & pl.col("month").is_not_null()
            & (pl.col(self.column).fill_null(0) > self.min_downloads)
        )
        if self.only is not None:
            frame = frame.join(self.only.lazy(), on="idx", how="semi", maintain_order="left")
        if self.start is not None:
            frame = frame.filter(pl.col("month") >= self.start)
        if self.end is not None:
            frame = frame.filter(pl.col("month") <= self.end)
        return frame


def _selection(
    ctx: Context,
    *,
    min_downloads: int,
    downloads: DownloadWindow,
    since: str | dt.date | None,
    until: str | dt.date | None,
) -> _Selection:
    """The filters of :func:`selected_derivatives`, checked (before anything is read)."""
    check_choice("downloads", downloads, DOWNLOAD_WINDOWS)
    column = "downloads_all_time" if downloads == "all" else "downloads"
    start, end = _months(since, until)
    # With inferred lineage alone: only the models that declare nothing.
    only = inferred_children(ctx) if ctx.lineage == "inferred" else None
    return _Selection(column, min_downloads, start, end, only)


def share(
    ctx: Context,
    *,
    by: Grouping = "region",
    min_downloads: int = 5,
    downloads: DownloadWindow = "all",
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    root_region: str | None = None,
) -> ShareResult:
    """Monthly share of new derivatives by the region (family, org) of their roots.

    Share for a month = attributed weight of a group's derivatives / total attributed
    weight that month. ``by="builder-region"`` groups by the derivative's own organization
    instead (who builds), optionally only on roots of ``root_region``.
    """
    check_choice("by", by, GROUPINGS)
    pick = _selection(
        ctx, min_downloads=min_downloads, downloads=downloads, since=since, until=until
    )
    counted = _kept_count(ctx, pick, by, root_region)
    if counted is None:
        counted = _count(ctx, pick, by, root_region)
    table, unattributed, counts = counted
    table = _shares(table)
    window = "all-time" if downloads == "all" else "last-30-days"
    parts = [
        f"new derivatives with more than {min_downloads} {window} downloads",
        f"by {'root ' if by != 'builder-region' else 'builder '}{by.replace('builder-', '')}",
        f"roots: {ctx.attribution.root_set}",
        f"merges: {ctx.attribution.multi_parent}",
    ]
    if root_region:
        parts.append(f"only {root_region} roots")
    label = lineage_label(ctx)
    if label:
        parts.append(label)
    return ShareResult(
        table,
        unattributed,
        "; ".join(parts),
        counts.sort("month"),
        partial=_partial(table, observed_through(ctx.store)),
    )


class _Counted(NamedTuple):
    """What a share counts before its shares: ``table`` (month, group, count, weight),
    ``unattributed`` (month, derivatives, unattributed, unattributed_weight) and ``counts``
    (month, count: the models counted each month)."""

    table: pl.DataFrame
    unattributed: pl.DataFrame
    counts: pl.DataFrame


def _count(
    ctx: Context, pick: _Selection, by: Grouping, root_region: str | None, *, keep: bool = False
) -> _Counted:
    """The weights of the derivatives ``pick`` chooses, counted by month and group.

    ``keep``: also say, for :func:`_kept_count`, each group's region (``root_region`` in
    ``table``: null for a group whose roots lie in several) and the models counted each
    month among the roots of each region (rows of ``counts`` with a ``root_region``; null
    for all of them)."""
    builder = by == "builder-region"
    group = {
        "region": "root_region",
        "family": "family",
        "org": "root_org",
        "builder-region": "builder_region",
    }[by]

    def plan(scan: Scan) -> list[pl.LazyFrame]:
        # One pass over the kept files: the chosen derivatives, the weights, the roots
        # with their regions (joined below, in the weights' order).
        chosen = pick(
            scan("derivatives").select(
                "idx",
                "crawled",
                "month",
                pick.column,
                "attributed_weight",
                *(["org"] if builder else []),
            )
        )
        return [chosen, scan("weights"), _root_groups(scan("roots"), ctx.regions)]

    chosen, weights, roots = ctx.attribution.collect(plan)
    weights = _join_by_node(
        weights,
        chosen.select(
            pl.col("idx").alias("derivative"),
            "month",
            *([pl.col("org").alias("builder")] if builder else []),
        ),
        "derivative",
    )
    if root_region is not None:
        roots = roots.filter(pl.col("root_region") == root_region)
    if builder:
        weights = attach_regions(
            weights.join(roots, on="root", maintain_order="left"),
            ctx.regions,
            org="builder",
            region="builder_region",
        )
        grouped = weights.group_by("month", pl.col(group).fill_null("(none)").alias("group"))
        table = grouped.agg(pl.col("derivative").n_unique().alias("count"), _sum("weight"))
    else:
        # A root's group is a property of the root (a few thousand): grouped by a number
        # given to each group, where a join of every weight with the roots' names would
        # copy millions of strings only to group by them.
        names = roots.select("root", pl.col(group).fill_null("(none)").alias("group"))
        codes = names.select("group").unique().sort("group").with_row_index("code")
        weights = weights.join(
            names.join(codes, on="group").select("root", "code"), on="root", maintain_order="left"
        )
        table = (
            weights.group_by("month", "code")
            .agg(pl.col("derivative").n_unique().alias("count"), _sum("weight"))
            .join(codes, on="code")
            .select("month", "group", "count", "weight")
        )
    unattributed = (
        chosen.group_by("month")
        .agg(
            pl.len().alias("derivatives"),
            (pl.col("attributed_weight") == 0).sum().alias("unattributed"),
            _sum((1.0 - pl.col("attributed_weight")).clip(lower_bound=0)).alias(
                "unattributed_weight"
            ),
        )
        .sort("month")
    )
    counts = weights.group_by("month").agg(pl.col("derivative").n_unique().alias("count"))
    if keep:
        alone = pl.when(pl.col("root_region").n_unique() == 1).then(pl.col("root_region").first())
        regions = roots.group_by(pl.col(group).fill_null("(none)").alias("group")).agg(alone)
        table = table.join(regions, on="group", how="left")
        in_region = (
            weights.join(roots.select("root", "root_region"), on="root")
            .group_by("month", "root_region")
            .agg(pl.col("derivative").n_unique().alias("count"))
            .select("month", "count", "root_region")
        )
        counts = pl.concat(
            [counts.with_columns(pl.lit(None, pl.String).alias("root_region")), in_region]
        )
    return _Counted(table, unattributed, counts)


SHARE_PARTS = ("table", "unattributed", "counts")
_KEPT_SELECTION = ("downloads_all_time", 5)
"""The derivatives whose share is kept: more than 5 all-time downloads (share's default)."""


def _kept_count(
    ctx: Context, pick: _Selection, by: Grouping, root_region: str | None
) -> _Counted | None:
    """What :func:`_count` gives, read from the store's kept state where it can be: the
    share by root region, family or org of the default choices (lineage declared, or with
    inferred lineage at the default confidence; every root, merges split, the packaged
    region table, the present models, more than 5 all-time downloads), any months, any
    root region. None for a share it cannot answer (then it is counted).

    Kept per generation (:mod:`lineage.derived`, set ``share-<by>-<variant>``, ``-only``
    for inferred lineage alone) as :func:`_count` counts every month, with each group's
    region and the models counted in each region: a month range or a root region picks
    rows of it, the very rows a count over those derivatives gives (each group and month
    is summed over its own weights alone), so the figures keep their last digits."""
    name = derived.default_variant(ctx)
    selection = (pick.column, pick.min_downloads)
    if name is None or by == "builder-region" or selection != _KEPT_SELECTION:
        return None
    whole = replace(pick, start=None, end=None)

    def build() -> dict[str, pl.DataFrame]:
        return dict(zip(SHARE_PARTS, _count(ctx, whole, by, None, keep=True), strict=True))

    set_name = f"share-{by}-{name}" + ("-only" if ctx.lineage == "inferred" else "")
    frames = derived.whole(ctx.store, set_name, SHARE_PARTS, build)
    table, unattributed, counts = (frames[part] for part in SHARE_PARTS)
    if root_region is None:
        counts = counts.filter(pl.col("root_region").is_null())
    elif table["root_region"].null_count():  # a group whose roots lie in several regions
        return None
    else:
        table = table.filter(pl.col("root_region") == root_region)
        counts = counts.filter(pl.col("root_region") == root_region)
    in_range = pl.lit(True)
    if pick.start is not None:
        in_range &= pl.col("month") >= pick.start
    if pick.end is not None:
        in_range &= pl.col("month") <= pick.end
    return _Counted(
        table.filter(in_range).drop("root_region"),
        unattributed.filter(in_range),
        counts.filter(in_range).drop("root_region"),
    )


def observed_through(store: Store) -> dt.date | None:
    """The date of the store's latest observation (None for an empty store).

    The newest ``seen_at`` (``last_seen`` in stores that have it) of its models: every crawl
    and ingest stamps the models it saw, and no model created after that date can be in the
    store, so a month it falls in is partial. Read from the models only, which every
    analysis reads anyway.
    """

    def build() -> dict[str, pl.DataFrame]:
        return {
            "latest": pl.DataFrame({"latest": [_latest_seen(store)]}, schema={"latest": pl.Date})
        }

    # One date, kept per generation (lineage.derived): the read of every model's date
    # costs more than the share it dates.
    parts, frames = derived.kept(store, "observed", ("latest",), build, ("models",))
    if parts is None:
        assert frames is not None  # kept() gives the frames when no files back them
        return frames["latest"]["latest"][0]
    return parts.read("latest")["latest"][0]


def _latest_seen(store: Store) -> dt.date | None:
    columns = store.scan("models").collect_schema().names()
    seen = "last_seen" if "last_seen" in columns else "seen_at"
    if seen not in columns:
        return None
    latest = store.scan("models").select(pl.col(seen).max()).collect().item()
    return latest.date() if isinstance(latest, dt.datetime) else latest


def _partial(table: pl.DataFrame, observed: dt.date | None) -> dt.date | None:
    """``observed`` if it falls in the table's last month, else None."""
    if observed is None or table.height == 0:
        return None
    last = cast(dt.date, table["month"].max())  # a Date column's max
    return observed if (last.year, last.month) == (observed.year, observed.month) else None


@dataclass(frozen=True)
class GroupChoice:
    """Which groups a chart names, and how they were chosen."""

    groups: list[str]  # named, by total weight (the bottom of a stack first)
    others: list[str]  # drawn together as one band
    rule: str | None  # how the named ones were chosen, in words; None if all are named


def chart_groups(
    table: pl.DataFrame,
    *,
    top: int = 8,
    counts: pl.DataFrame | None = None,
    min_count: int = 20,
) -> GroupChoice:
    """The groups of a share table a chart should name: those a reader needs to see.

    The months are cut into ``ceil(top / 2)`` spans of equal length, and the groups named
    in turn: the biggest of each span (by weight in it), then the second biggest of each,
    and so on until ``top`` are named. So every part of the period shows the groups that
    mattered then: ranking by total weight names the families of the last months (when
    most derivatives were made) and leaves the chart "other" before them; ranking by peak
    share names the first months' (when few families shared few derivatives). Months with
    fewer than ``min_count`` models (``counts``: month, count; default the table's own
    counts) are left out, unless every month is that small. With ``top + 1`` groups or
    fewer, all are named.

    Examples
    --------
    >>> rows = [(1, "a", 80), (1, "c", 20), (2, "a", 70), (2, "d", 30),
    ...         (3, "b", 300), (3, "e", 200), (4, "b", 400), (4, "c", 250)]
    >>> t = pl.DataFrame([(dt.date(2025, m, 1), g, c, float(c)) for m, g, c in rows],
    ...     schema=["month", "group", "count", "weight"], orient="row")
    >>> t = t.with_columns(share=pl.col("weight") / pl.col("weight").sum().over("month"))
    >>> chart_groups(t, top=2).groups  # one span: the biggest, of the last months
    ['b', 'c']
    >>> chart_groups(t, top=3).groups  # two spans: the first months' biggest too
    ['b', 'a', 'd']
    """
    totals = (
        table.group_by("group")
        .agg(pl.col("weight").sum())
        .sort(["weight", "group"], descending=[True, False])
    )
    every = totals["group"].to_list()
    if len(every) <= top + 1:
        return GroupChoice(every, [], None)
    per_month = (
        counts.select("month", "count")
        if counts is not None
        else table.group_by("month").agg(pl.col("count").sum())
    )
    big = per_month.filter(pl.col("count") >= min_count)["month"]
    rows = table.filter(pl.col("month").is_in(big.implode())) if big.len() else table
    months = rows["month"].unique().sort().to_list()
    spans = max(1, min(len(months), math.ceil(top / 2)))
    span_of = {m: i * spans // len(months) for i, m in enumerate(months)}
    ranked = (
        rows.with_columns(pl.col("month").replace_strict(span_of).alias("span"))
        .group_by("span", "group")
        .agg(pl.col("weight").sum())
        .sort(["span", "weight", "group"], descending=[False, True, False])
        .group_by("span", maintain_order=True)
        .agg("group")["group"]
        .to_list()
    )
    chosen: list[str] = []
    for rank in range(max(len(r) for r in ranked)):
        for names in ranked:
            if rank < len(names) and names[rank] not in chosen and len(chosen) < top:
                chosen.append(names[rank])
    named = set(chosen)
    length = f"about {round(len(months) / spans)} months each" if spans > 1 else "the whole period"
    where = f", months with {min_count:,}+ models" if big.len() else ""
    rule = (
        f"{len(chosen)} of {len(every):,} groups: the biggest in each of {spans} spans of the "
        f"period ({length}{where}); the other {len(every) - len(chosen):,} as one grey band"
    )
    return GroupChoice([g for g in every if g in named], [g for g in every if g not in named], rule)


def _sum(column: str | pl.Expr) -> pl.Expr:
    """A float sum that is the same in every run: the values sorted first, since a sum's
    last digits depend on the order of its terms and group_by's order is not fixed."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.sort().sum()


def _shares(table: pl.DataFrame) -> pl.DataFrame:
    """``share`` = weight / the month's weight, summed in a fixed order, rows by month, then
    biggest share first."""
    return (
        table.sort("month", "weight", "group")
        .with_columns((pl.col("weight") / pl.col("weight").sum().over("month")).alias("share"))
        .sort(["month", "share", "group"], descending=[False, True, False])
    )


def model_weights(ctx: Context) -> pl.DataFrame:
    """Every model's weight per root: derivatives as attributed, roots 1 to themselves.

    Columns: node, root, weight. Models outside the root set's reach have no rows.
    """
    roots = ctx.attribution.roots_of_their_own()
    return pl.concat(
        [
            ctx.attribution.weights.rename({"derivative": "node"}),
            roots.select(
                pl.col("idx").alias("node"),
                pl.col("idx").alias("root"),
                pl.lit(1.0).alias("weight"),
            ),
        ]
    )


def _root_groups(roots: FrameT, regions: pl.DataFrame) -> FrameT:
    """Roots (``idx``, ``id``, ``org``; eager or lazy) as ``root`` with the groups a share
    names: ``family``, ``root_org``, ``root_region``."""
    return attach_regions(
        roots.select(
            pl.col("idx").alias("root"),
            pl.col("id").alias("family"),
            pl.col("org").alias("root_org"),
        ),
        regions,
        org="root_org",
        region="root_region",
    )


def download_share(
    ctx: Context,
    *,
    by: Grouping = "region",
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
) -> ShareResult:
    """Monthly share of downloads (last-30-days counters at each snapshot) by root region.

    A month is read from the snapshot that stands for it: its last complete one (a
    whole-Hub sweep or a hub-stats dump), or, in a month of partial crawls only, each
    model's last counter in it (:mod:`lineage.history`). Every crawled model's count is
    split over its roots like its derivative weight (a root counts for itself); share = a
    group's downloads / all attributed downloads that month. One snapshot gives one month:
    the store needs snapshots over time (successive crawls or `lineage ingest hub-stats` of
    several dumps) to draw a series.
    """
    if by not in ("region", "family", "org"):
        raise InputError("download share groups by region, family or org")
    from .history import monthly_counters

    start, end = _months(since, until)
    as_of = getattr(ctx.view, "date", None)  # the Hub as it was: no snapshot after that day
    # Keyed all the way: the snapshots hold model keys; the graph's models are mapped to
    # them once, and only the partitions standing for a month are read, streaming.
    node_of = (
        ctx.store.keys()
        .join(ctx.graph.nodes.filter("crawled").select("id", pl.col("idx").alias("node")), on="id")
        .select("key", "node")
    )
    latest = (
        monthly_counters(ctx.store, since=start, until=end, through=as_of)
        .join(node_of.lazy(), on="key")
        .select("month", "node", "downloads")
    )
    weights = model_weights(ctx)
    roots = _root_groups(
        ctx.graph.nodes.join(
            weights.select(pl.col("root").alias("idx")).unique(), on="idx", how="semi"
        ),
        ctx.regions,
    )
    group = {"region": "root_region", "family": "family", "org": "root_org"}[by]
    joined = latest.join(weights.lazy(), on="node").join(roots.lazy(), on="root")
    named = pl.col(group).fill_null("(none)").alias("group")
    # The streaming engine sums a group in pieces whose split varies from run to run, and a
    # float sum's last digits follow its order: it sums only integers (each group's
    # downloads per distinct weight, exact in any order); the few products are summed
    # sorted, in memory, afterwards.
    queries = [
        joined.group_by("month", named, "weight").agg(
            pl.col("downloads").fill_null(0).sum().alias("downloads")
        ),
        joined.group_by("month", named).agg(pl.col("node").n_unique().alias("count")),
        latest.join(weights.lazy().select("node").unique(), on="node", how="anti")
        .group_by("month")
        .agg(pl.len().alias("derivatives"), pl.col("downloads").sum().alias("unattributed")),
        joined.group_by("month").agg(pl.col("node").n_unique().alias("count")),
    ]
    try:
        by_weight, by_group, unattributed, counts = pl.collect_all(queries, engine="streaming")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ctx.store.damage("snapshots", exc) from exc
    table = _shares(
        by_weight.group_by("month", "group")
        .agg(_sum(pl.col("downloads") * pl.col("weight")).alias("weight"))
        .join(by_group, on=["month", "group"])
        .select("month", "group", "count", "weight")
    )
    unattributed = unattributed.with_columns(
        pl.col("unattributed").cast(pl.Float64).alias("unattributed_weight")
    ).sort("month")
    description = (
        f"last-30-days downloads of each month's last complete snapshot, by root {by}; "
        f"roots: {ctx.attribution.root_set}; merges: {ctx.attribution.multi_parent}"
    )
    return ShareResult(table, unattributed, description, counts.sort("month"))


def _join_by_node(frame: pl.DataFrame, columns: pl.DataFrame, on: str) -> pl.DataFrame:
    """``frame``'s rows whose node ``on`` is in ``columns``, with ``columns``' other columns
    added, in ``frame``'s order (a float sum's last digits depend on the order of its
    terms). An attribution keeps its frames sorted by node, and a join of two sorted keys
    merges them, several times faster than hashing millions of rows: the order is checked
    (one pass), not assumed."""
    if frame[on].is_sorted() and columns[on].is_sorted():
        frame = frame.with_columns(pl.col(on).set_sorted())
        columns = columns.with_columns(pl.col(on).set_sorted())
    return frame.join(columns, on=on, maintain_order="left")


def _used_roots(ctx: Context) -> pl.DataFrame:
    """Graph nodes that some derivative is attributed to (a few thousand of millions):
    idx, id, org."""
    return ctx.attribution.roots


def families(
    ctx: Context,
    *,
    top: int = 20,
    min_downloads: int | None = None,
    downloads: DownloadWindow = "all",
) -> pl.DataFrame:
    """Top root families by derivatives, split by each derivative's relation to its parent.

    By default every derivative the store holds counts, whatever its downloads, creation
    date or whether it was crawled: the same models ``lineage tree ROOT`` counts as the
    root's descendants (under ``--roots all``). ``min_downloads=N`` counts only crawled
    derivatives with more than N downloads (``downloads``: all-time or last 30 days), as
    ``lineage share`` filters them.
    """
    check_choice("downloads", downloads, DOWNLOAD_WINDOWS)
    column = "downloads_all_time" if downloads == "all" else "downloads"
    kept = _kept_families(ctx) if min_downloads is None else None
    if kept is not None:
        return kept.head(top)
    return _family_table(ctx, min_downloads, column).head(top)


def _family_table(ctx: Context, min_downloads: int | None, column: str) -> pl.DataFrame:
    """Every root family of :func:`families`, biggest first."""
    wanted = ["idx", "relation", "depth"]
    if min_downloads is not None:
        wanted += ["crawled", column]

    def plan(scan: Scan) -> list[pl.LazyFrame]:
        chosen = scan("derivatives").select(wanted)
        if min_downloads is not None:
            chosen = chosen.filter(
                pl.col("crawled") & (pl.col(column).fill_null(0) > min_downloads)
            )
        roots = scan("roots").select(
            pl.col("idx").alias("root"), pl.col("id").alias("family"), "org"
        )
        return [chosen, scan("weights"), roots]

    chosen, weights, roots = ctx.attribution.collect(plan)
    weights = _join_by_node(
        weights, chosen.select(pl.col("idx").alias("derivative"), "relation", "depth"), "derivative"
    )
    per_relation = weights.pivot(
        on="relation", index="root", values="derivative", aggregate_function="len"
    )
    for relation in RELATION_ORDER:
        if relation not in per_relation.columns:
            per_relation = per_relation.with_columns(pl.lit(0, pl.UInt32).alias(relation))
    summary = weights.group_by("root").agg(
        pl.col("derivative").n_unique().alias("derivatives"),
        _sum("weight"),
        pl.col("depth").max().alias("max_depth"),
    )
    nodes = attach_regions(roots, ctx.regions, org="org", region="region")
    return (
        summary.join(per_relation, on="root")
        .join(nodes, on="root")
        .select(
            "family",
            "org",
            "region",
            "derivatives",
            "weight",
            *[pl.col(r).fill_null(0) for r in RELATION_ORDER],
            "max_depth",
        )
        .sort(["derivatives", "family"], descending=[True, False])
    )


def _kept_families(ctx: Context) -> pl.DataFrame | None:
    """Every family of :func:`families` counting every derivative, read from the store's
    kept state (set ``families-<variant>``) for the default choices (every root, merges
    split, the packaged region table, the present models); None for others (counted)."""
    name = derived.default_variant(ctx)
    if name is None:
        return None

    def build() -> dict[str, pl.DataFrame]:
        return {"table": _family_table(ctx, None, "downloads_all_time")}

    return derived.whole(ctx.store, f"families-{name}", ("table",), build)["table"]


class Step(NamedTuple):
    """One model on a path to a root, and its relation to the next model up (None: the root)."""

    model: str
    relation_to_next: str | None


@dataclass(frozen=True)
class Tree:
    """One model's place in the graph.

    ``inferred_steps`` lists the steps of ``paths`` that are inferred lineage (child,
    parent, method, confidence); the descendants' ``lineage`` column says whether a
    descendant hangs below the model through declared edges only or through an inferred one.
    """

    model: str
    status: str
    roots: list[str]
    paths: list[list[Step]]  # each path: its steps from the model to a root
    descendants: pl.DataFrame  # depth, relation, lineage, count
    inferred_steps: list[dict] = field(default_factory=list)


def tree(ctx: Context, model: str, *, max_paths: int = 20) -> Tree:
    """A model's path(s) to its root(s) and a summary of its descendants."""
    idx = ctx.graph.index_of(model)
    if idx is None:
        raise NotInStore(f"no model named '{model}' in the store at {ctx.store.path}")
    members = ctx.graph.ancestors(idx)
    rows = ctx.graph.rows(members, ["idx", "id", "status"])
    ids = dict(rows.select("idx", "id").iter_rows())
    node = rows.filter(pl.col("idx") == idx).row(0, named=True)
    keep = pl.Series(members, dtype=pl.UInt32).implode()
    up: dict[int, list[tuple[int, dict]]] = {m: [] for m in members}
    for edge in ctx.graph.query(
        "edges", lambda f: f.filter(pl.col("child").is_in(keep) & pl.col("parent").is_in(keep))
    ).iter_rows(named=True):
        up[edge["child"]].append((edge["parent"], edge))
    ends = sorted((m for m in members if not up[m]), key=ids.__getitem__)
    paths: list[list[Step]] = []
    inferred_steps: dict[tuple[str, str], dict] = {}
    for end in ends:
        for path in _paths(up, idx, end) if end != idx else [[(idx, None)]]:
            paths.append([Step(ids[a], edge["relation"] if edge else None) for a, edge in path])
            for (a, edge), (b, _) in itertools.pairwise(path):
                if edge.get("lineage") == "inferred":
                    inferred_steps[ids[a], ids[b]] = {
                        "child": ids[a],
                        "parent": ids[b],
                        "method": edge["method"],
                        "confidence": edge["confidence"],
                    }
            if len(paths) >= max_paths:
                break
        if len(paths) >= max_paths:
            break
    descendants = _descendant_summary(ctx.graph, idx)
    return Tree(
        model=node["id"],
        status=node["status"],
        roots=[ids[e] for e in ends],
        paths=paths,
        descendants=descendants,
        inferred_steps=list(inferred_steps.values()),
    )


def _paths(up: dict[int, list[tuple[int, dict]]], start: int, end: int):
    """Every path from ``start`` up to ``end``, depth first, parents in edge order (the
    order networkx's all_simple_paths gives): lists of (node, edge to the next node)."""
    path: list[tuple[int, dict | None]] = []
    on_path: set[int] = set()
    stack = [(start, iter(up[start]))]
    on_path.add(start)
    while stack:
        at, parents = stack[-1]
        step = next(parents, None)
        if step is None:
            stack.pop()
            on_path.discard(at)
            if path:
                path.pop()
            continue
        parent, edge = step
        if parent in on_path:
            continue
        if parent == end:
            yield [*path, (at, edge), (end, None)]
            continue
        path.append((at, edge))
        on_path.add(parent)
        stack.append((parent, iter(up[parent])))


def _descendant_summary(graph: ModelGraph, idx: int) -> pl.DataFrame:
    """Descendants by depth below the model, by their relation to their parent, and by
    lineage (``inferred`` when an inferred edge is on the way down to them).

    Each descendant counts once, at its depth in a breadth-first walk, with the relation
    of the edge that first reached it (:meth:`ModelGraph.descent`)."""
    nodes, depths, via = graph.descent(idx)
    edges = graph.frame("edges", ["parent", "relation", "lineage"])
    inferred = edges["lineage"] == "inferred"
    parent = edges["parent"]
    guessed = pl.repeat(False, graph.n, dtype=pl.Boolean, eager=True)
    # Depth by depth, so a descendant inherits what its parent (one depth up) got.
    for depth in depths.unique(maintain_order=True):
        at = depths == depth
        edge = via.filter(at)
        guessed = guessed.scatter(
            nodes.filter(at), guessed.gather(parent.gather(edge)) | inferred.gather(edge)
        )
    frame = pl.DataFrame(
        {
            "depth": depths,
            "relation": edges["relation"].gather(via),
            "lineage": pl.select(
                pl.when(guessed.gather(nodes))
                .then(pl.lit("inferred"))
                .otherwise(pl.lit("declared"))
            ).to_series(),
        },
        schema={"depth": pl.Int32, "relation": pl.String, "lineage": pl.String},
    )
    return (
        frame.group_by("depth", "relation", "lineage")
        .len("count")
        .sort("depth", "relation", "lineage")
    )


def quality(ctx: Context, *, examples: int = 5) -> pl.DataFrame:
    """Counts and examples of what the metadata gets wrong.

    Columns: check, count, examples (up to ``examples`` distinct models, or model pairs
    for broken cycles, each named once and in full).
    """
    store = ctx.store
    graph = ctx.graph
    kept = _kept_quality(ctx)
    looks = kept["looks"]["id"]
    dangling = graph.frame("edges", ["parent"]).join(
        graph.query(
            "nodes",
            lambda f: f.filter(pl.col("status").is_in(["missing", "unresolved"])).select(
                pl.col("idx").alias("parent"), "id", "status"
            ),
        ),
        on="parent",
        maintain_order="left",
    )
    problems = store.read("problems")
    rows: list[tuple[str, int, list[str]]] = [
        (
            "undeclared-looking derivatives (quantization/adapter/merge names or tags, no parent)",
            looks.len(),
            looks.unique(maintain_order=True).head(examples).to_list(),
        ),
        *(
            (
                label,
                dangling.filter(pl.col("status") == status).height,
                dangling.filter(pl.col("status") == status)["id"]
                .unique(maintain_order=True)
                .head(examples)
                .to_list(),
            )
            for status, label in (
                ("missing", "edges to missing parents (looked up, not on the Hub)"),
                ("unresolved", "edges to parents never looked up (unresolved)"),
            )
        ),
        (
            "cycles broken (declaration dropped)",
            graph.broken.height,
            list(
                dict.fromkeys(
                    f"{c} -> {p}" for c, p in graph.broken.select("child", "parent").iter_rows()
                )
            )[:examples],
        ),
    ]
    by_kind = (
        problems.group_by("kind", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("model").unique(maintain_order=True).head(examples).alias("examples"),
        )
        .sort("count", descending=True)
    )
    rows.insert(
        3,
        (
            "models under parents never looked up (`lineage crawl --resolve-parents`)",
            int(kept["unresolved"]["derivatives"][0]),
            [],
        ),
    )  # after the unresolved edges
    rows[1:1] = _inferred_rows(store, examples)
    for kind, count, found in by_kind.iter_rows():
        rows.append((f"card problem: {kind}", count, found))
    unmapped = unmapped_organizations(ctx, top=10**9)
    rows.append(
        (
            "root organizations without a region (see `lineage regions --unmapped`)",
            unmapped.height,
            unmapped["org"].head(examples).to_list(),
        )
    )
    return pl.DataFrame(
        rows,
        schema={"check": pl.String, "count": pl.Int64, "examples": pl.List(pl.String)},
        orient="row",
    )


def _kept_quality(ctx: Context) -> dict[str, pl.DataFrame]:
    """What quality reads whole tables for, kept with the store's derived state: the
    crawled models without a declared parent whose names or tags look derived (``looks``:
    id, in the models table's order) and how many models sit under parents no lookup
    resolved yet (``unresolved``: derivatives; lineage.parents.unresolved)."""
    store = ctx.store

    def build() -> dict[str, pl.DataFrame]:
        from .parents import unresolved
        from .records import looks_adapter, looks_merged, looks_quantized

        graph = ctx.graph
        models = store.read("models", columns=["id", "crawled", "tags", "library_name"])
        parented = graph.frame("edges", ["child"]).select(pl.col("child").alias("idx")).unique()
        parentless = graph.query(
            "nodes", lambda f: f.filter(pl.col("crawled")).select("idx", "id")
        ).join(parented, on="idx", how="anti")
        looks = models.join(parentless.select("id"), on="id", how="semi").filter(
            # The rules records.py guesses an undeclared relation by: one rule, so that what
            # quality calls quantized-looking is what a crawl would call quantized.
            looks_quantized() | looks_adapter() | looks_merged()
        )
        left = unresolved(
            models.select("id", "crawled"),
            store.read("edges", columns=["child", "parent"]),
            store.read("lookups"),
        )
        return {
            "looks": looks.select("id"),
            "unresolved": pl.DataFrame({"derivatives": [left["derivatives"]]}),
        }

    if ctx.lineage != "declared":
        return build()
    parts, frames = derived.kept(
        store, "quality", ("looks", "unresolved"), build, ("models", "edges", "lookups")
    )
    if parts is None:
        assert frames is not None  # kept() gives the frames when no files back them
        return frames
    return {"looks": parts.read("looks"), "unresolved": parts.read("unresolved")}


_KEPT_EXAMPLES = 1000  # per method, the best proposals quality keeps to show examples from


def _inferred_rows(store: Store, examples: int) -> list[tuple[str, int, list[str]]]:
    """What `lineage infer` proposed for models that still declare no parent, shown apart
    from declared lineage: in all at the default confidence, then by method."""
    from .inference import DEFAULT_MIN_CONFIDENCE, METHODS

    if not store.exists("inferred_edges"):
        return [("inferred lineage: none in the store (run `lineage infer`)", 0, [])]
    at = DEFAULT_MIN_CONFIDENCE
    kept = _kept_proposals(store, at, None if examples > _KEPT_EXAMPLES else _KEPT_EXAMPLES)
    best = kept["best"]
    counts = dict(kept["counts"].iter_rows())
    shown = (
        _best(best, examples)
        .select(
            pl.format(
                "{} ~> {} ({}, {})",
                "child",
                pl.coalesce("parent", "root"),
                "method",
                pl.col("confidence").round(2),
            )
        )
        .to_series()
    )
    rows = [
        (
            f"undeclared models given inferred lineage, confidence >= {at:g} (lineage infer; "
            "not in declared counts)",
            sum(counts.values()),
            shown.to_list(),
        )
    ]
    for method in METHODS:
        mine = _best(best.filter(pl.col("method") == method), examples)
        rows.append((f"  inferred by {method}", counts.get(method, 0), mine["child"].to_list()))
    return rows


def _best(frame: pl.DataFrame, examples: int) -> pl.DataFrame:
    """The first ``examples`` by confidence, then id (no sort of millions of rows)."""
    return frame.top_k(examples, by=["confidence", "child"], reverse=[False, True]).sort(
        "confidence", "child", descending=[True, False]
    )


def _kept_proposals(store: Store, at: float, keep: int | None) -> dict[str, pl.DataFrame]:
    """The inferred lineage of models that still declare no parent, at confidence ``at``
    or more: per method, how many (``counts``) and the ``keep`` best (``best``; all of them
    if None). Kept with the store's derived state, as reading every proposal is most of
    what `lineage quality` costs on a whole-Hub store."""

    def build() -> dict[str, pl.DataFrame]:
        proposals = (
            store.scan("inferred_edges")
            .select("child", "parent", "root", "method", "confidence")
            .filter(pl.col("confidence") >= at)
            .collect()
            .join(store.read("edges", columns=["child"]).unique(), on="child", how="anti")
        )
        counts = proposals.group_by("method").len("count").sort("method")
        if keep is None:
            return {"counts": counts, "best": proposals}
        best = (
            pl.concat(
                [_best(group, keep) for _, group in proposals.group_by("method")],
                how="vertical",
            )
            if proposals.height
            else proposals
        )
        return {"counts": counts, "best": best}

    if keep is None:
        return build()
    parts, frames = derived.kept(
        store, f"quality-inferred-{at:g}", ("counts", "best"), build, ("models", "inferred_edges")
    )
    if parts is None:
        assert frames is not None  # kept() gives the frames when no files back them
        return frames
    return {"counts": parts.read("counts"), "best": parts.read("best")}


def unmapped_organizations(ctx: Context, *, top: int = 20) -> pl.DataFrame:
    """Root organizations the region table does not know, by derivatives attributed."""
    crawled = (
        ctx.attribution.frame("derivatives", ["idx", "crawled"])
        .filter("crawled")
        .select(pl.col("idx").alias("derivative"))
    )
    weights = ctx.attribution.weights.join(crawled, on="derivative", how="semi")
    roots = attach_regions(
        _used_roots(ctx).select(pl.col("idx").alias("root"), "id", "org"),
        ctx.regions,
        org="org",
        region="region",
    )
    return (
        weights.join(roots, on="root")
        .filter(pl.col("region") == "unknown")
        .group_by(pl.col("org").fill_null("(no namespace)"))
        .agg(
            pl.col("derivative").n_unique().alias("derivatives"),
            pl.col("weight").sum(),
            pl.col("id").unique().sort().head(3).alias("example_roots"),
        )
        .sort(["derivatives", "org"], descending=[True, False])
        .head(top)
    )
