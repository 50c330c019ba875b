"""Measuring lineage inference on the store's own declared lineage.

:func:`evaluate` hides the declarations of a random (seeded) sample of the store's declared
derivatives, runs :func:`lineage.inference.infer_frames` as if they declared nothing, and
compares what it proposes with what they declared:

- **coverage**: the share of hidden derivatives given a proposal;
- **exact-parent precision**: proposals whose parent is one of the declared parents (among
  proposals with a parent);
- **root-family precision**: proposals that put the model in one of its declared root
  families (``--roots all``: following parents up to a model with none), with the inferred
  edges at that confidence or more in the graph, as ``lineage share --lineage both`` does;
- **root-name precision**: the same, counting a root of the same name in another
  namespace as right (declared lineage often ends at a re-upload, such as
  mlabonne/Meta-Llama-3-8B, where inference finds meta-llama/Meta-Llama-3-8B);
- **region precision**: the same for the region of the root's organization;
- **calibration**: precision by confidence bucket (a confidence of 0.9 should be right 9
  times in 10);
- **heads given a parent**: family heads (models that declare no parent but have declared
  children, such as Qwen/Qwen2.5-7B) given a proposal; a proposal there is wrong when the
  head is an original model, which declared lineage cannot tell apart from an undeclared
  derivative.

Hidden declared derivatives are not the same population as models that never declared
anything (those include originals, and names less like their parents'), so these figures
describe inference where the truth is known; see docs/methodology.md.

This module reads frames and returns frames; it must not write the store or print.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import cast

import numpy as np
import polars as pl

from .attribution import attribute
from .edges import lineage_edges
from .errors import NotInStore
from .graph import graph_from_frames
from .inference import (
    DEFAULT_MIN_CONFIDENCE,
    INFERENCE_COLUMNS,
    METHODS,
    complete_models,
    infer_frames,
)
from .names import match_key, model_name
from .regions import attach_regions, load_regions
from .roots import derivatives_under
from .store import Store

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
CONFIDENCE_BINS = (0.5, 0.7, 0.8, 0.9, 0.95)
TARGET_PRECISION = 0.95


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` measured.

    ``thresholds``: per minimum confidence: proposals, coverage and the three precisions.
    ``by_method``: the same per method at ``min_confidence``.
    ``calibration``: per confidence bucket: proposals, mean confidence, root precision.
    ``heads``: family heads of the store, and how many were given a proposal, per threshold.
    ``models``: each hidden model, its derivatives, declared roots, and what inference
    gave it at ``min_confidence`` (null when nothing). With ``min_derivatives``, the hidden
    are the declared derivatives with at least that many derivatives under them.
    Every ``weighted_*`` figure weighs each hidden model by its derivatives.
    """

    sample: int
    seed: int
    declared_derivatives: int
    min_confidence: float
    thresholds: pl.DataFrame
    by_method: pl.DataFrame
    calibration: pl.DataFrame
    heads: pl.DataFrame
    models: pl.DataFrame
    min_derivatives: int | None = None

    def recommended_min_confidence(
        self, target: float = TARGET_PRECISION, *, on: str = "root_precision"
    ) -> float | None:
        """The lowest threshold whose precision ``on`` (a column of ``thresholds``) reaches
        ``target``, None if none does."""
        ok = self.thresholds.filter(pl.col(on) >= target)
        return float(cast(float, ok["min_confidence"].min())) if ok.height else None


def evaluate(
    store: Store,
    *,
    sample: int = 2000,
    seed: int = 0,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    regions: str | None = None,
    min_derivatives: int | None = None,
) -> Evaluation:
    """Hide ``sample`` declared derivatives' declarations, infer them, and measure.

    With ``min_derivatives``, hide instead every declared derivative with at least that
    many derivatives under it (the consequential ones, all at once, as the Hub's
    parentless roots are), with what their cards declare. Reads the store only.
    """
    models = store.scan("models").select(INFERENCE_COLUMNS).collect()
    if store.read("edges").height == 0:
        raise NotInStore(
            f"the store at {store.path} has no declared lineage to evaluate against; crawl or "
            "ingest first"
        )
    return evaluate_frames(
        models,
        store.read("edges"),
        store.read("lookups"),
        sample=sample,
        seed=seed,
        min_confidence=min_confidence,
        regions=regions,
        min_derivatives=min_derivatives,
        evidence=store.read("file_evidence"),
    )


def evaluate_frames(
    models: pl.DataFrame,
    edges: pl.DataFrame,
    lookups: pl.DataFrame,
    *,
    sample: int = 2000,
    seed: int = 0,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    regions: str | None = None,
    min_derivatives: int | None = None,
    evidence: pl.DataFrame | None = None,
) -> Evaluation:
    """:func:`evaluate` over a store's models, edges and lookups tables (and the
    ``file_evidence`` table, :mod:`lineage.evidence`)."""
    table = load_regions(regions)
    models = complete_models(models)
    full = graph_from_frames(models, edges, lookups)
    truth = _truth(full, table)
    declared = truth.height
    if min_derivatives is None:
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(declared, size=min(sample, declared), replace=False))
        hidden = truth[chosen]
    else:
        hidden = truth.filter(pl.col("derivatives") >= min_derivatives)
    kept = edges.join(hidden.select(pl.col("id").alias("child")), on="child", how="anti")
    if evidence is not None:
        # A hidden declaration is hidden from its card too: the card's base_model is where
        # the declaration came from.
        evidence = evidence.join(
            hidden.select(pl.col("id").alias("model"), pl.lit("base_model").alias("kind")),
            on=["model", "kind"],
            how="anti",
        )
    # Confidence as a real run gives it: calibrated on the whole store, less the sample.
    calibration = infer_frames(
        models, edges, lookups, not_calibrating=hidden, evidence=evidence
    ).calibration
    inference = infer_frames(models, kept, lookups, calibration=calibration, evidence=evidence)

    # Roots go through the inferred lineage of the hidden and of models without declared
    # children; the truth stops at family heads, so their inferred parents would count
    # against proposals that are right (heads are measured apart, below).
    heads = full.nodes.filter(
        pl.Series(np.bincount(full.edges["parent"].to_numpy(), minlength=full.n) > 0)
    ).join(hidden.select("id"), on="id", how="anti")
    # With the consequential hidden all at once, chains are the point: every inferred edge
    # counts, and a declared root that is a re-upload counts with its original.
    consequential = min_derivatives is not None
    usable = (
        inference.edges
        if consequential
        else inference.edges.join(heads.select(pl.col("id").alias("child")), on="child", how="anti")
    )
    rows = []
    roots_at: dict[float, pl.DataFrame] = {}
    for threshold in THRESHOLDS:
        picked = usable.filter(pl.col("confidence") >= threshold)
        placed = _placed(models, kept, lookups, picked, table, hidden, follow_truth=consequential)
        roots_at[threshold] = placed
        rows.append({"min_confidence": threshold, **_scores(placed, hidden)})
    at_default = _placed(
        models,
        kept,
        lookups,
        usable.filter(pl.col("confidence") >= min_confidence),
        table,
        hidden,
        follow_truth=consequential,
    )
    by_method = pl.DataFrame(
        [
            {"method": m, **_scores(at_default.filter(pl.col("method") == m), hidden)}
            for m in METHODS
        ]
    )
    heads = _heads(full, inference.edges)
    per_model = (
        hidden.select("id", "derivatives", pl.col("true_roots").alias("declared_roots"))
        .join(
            at_default.select(
                pl.col("child").alias("id"),
                "parent",
                "method",
                "confidence",
                "roots",
                "root_ok",
                "region_ok",
            ),
            on="id",
            how="left",
        )
        .sort("derivatives", "id", descending=[True, False])
    )
    return Evaluation(
        sample=hidden.height,
        seed=seed,
        declared_derivatives=declared,
        min_confidence=min_confidence,
        thresholds=pl.DataFrame(rows),
        by_method=by_method,
        calibration=_calibration(roots_at[0.0]),
        heads=heads,
        models=per_model,
        min_derivatives=min_derivatives,
    )


def _truth(graph, table: pl.DataFrame) -> pl.DataFrame:
    """Crawled declared derivatives: id, declared parents, root families, their regions."""
    attribution = attribute(graph)
    ids = graph.nodes.select("idx", "id")
    parents = (
        graph.edges.join(ids.rename({"idx": "parent", "id": "parent_id"}), on="parent")
        .group_by(pl.col("child").alias("idx"))
        .agg(pl.col("parent_id").str.to_lowercase().alias("parents"))
    )
    roots = _root_regions(attribution.weights.rename({"derivative": "idx"}), graph, table)
    under = derivatives_under(graph).select("idx", "derivatives")
    return (
        attribution.derivatives.filter("crawled")
        .select("idx", "id")
        .join(parents, on="idx")
        .join(under, on="idx", how="left")
        .with_columns(pl.col("derivatives").fill_null(0))
        .join(
            roots.rename({"roots": "true_roots", "regions": "true_regions"}), on="idx", how="left"
        )
        .sort("id")
        .drop("idx")
    )


def _root_regions(weights: pl.DataFrame, graph, table: pl.DataFrame) -> pl.DataFrame:
    """Per model (idx): its root ids and their regions."""
    named = attach_regions(
        weights.join(
            graph.nodes.select(pl.col("idx").alias("root"), pl.col("id").alias("root_id"), "org"),
            on="root",
        ),
        table,
        org="org",
        region="region",
    )
    return named.group_by("idx").agg(
        pl.col("root_id").alias("roots"), pl.col("region").unique().alias("regions")
    )


def _placed(
    models: pl.DataFrame,
    kept: pl.DataFrame,
    lookups: pl.DataFrame,
    picked: pl.DataFrame,
    table: pl.DataFrame,
    hidden: pl.DataFrame,
    *,
    follow_truth: bool = False,
) -> pl.DataFrame:
    """The hidden derivatives given a proposal in ``picked``, with the roots the graph of
    declared plus picked inferred edges gives them, and the truth.

    ``follow_truth``: a declared root that the picked edges say is a re-upload counts
    with its original (the same weights): either is right.
    """
    graph = graph_from_frames(models, lineage_edges(kept, picked, lineage="both"), lookups)
    attribution = attribute(graph)
    placed = _root_regions(attribution.weights.rename({"derivative": "idx"}), graph, table)
    if follow_truth:
        # A declared root that is a re-upload (the picked edges give it its original) is
        # the original's family as much as its own: both count as right.
        uploads = picked.filter(pl.col("method") == "reupload").select(
            pl.col("child").alias("true_roots"), pl.col("parent").alias("original")
        )
        followed = hidden.select("id", "true_roots").explode("true_roots").drop_nulls()
        for _ in range(8):
            more = followed.join(uploads, on="true_roots").select(
                "id", pl.col("original").alias("true_roots")
            )
            grown = pl.concat([followed, more]).unique()
            if grown.height == followed.height:
                break
            followed = grown
        followed = attach_regions(
            followed.with_columns(pl.col("true_roots").str.extract(r"^([^/]+)/").alias("org")),
            table,
            org="org",
            region="region",
        )
        hidden = hidden.drop("true_roots", "true_regions").join(
            followed.group_by("id").agg(
                pl.col("true_roots").unique(), pl.col("region").unique().alias("true_regions")
            ),
            on="id",
            how="left",
        )
    return (
        picked.unique("child", keep="first", maintain_order=True)
        .join(hidden, left_on="child", right_on="id")
        .join(graph.nodes.select("idx", pl.col("id").alias("child")), on="child")
        .join(placed, on="idx", how="left")
        .with_columns(
            pl.col("parents").list.contains(pl.col("parent").str.to_lowercase()).alias("parent_ok"),
            pl.col("roots")
            .fill_null([])
            .list.set_intersection(pl.col("true_roots").fill_null([]))
            .list.len()
            .gt(0)
            .alias("root_ok"),
            pl.col("regions")
            .fill_null([])
            .list.set_intersection(pl.col("true_regions").fill_null([]))
            .list.len()
            .gt(0)
            .alias("region_ok"),
            _named(pl.col("roots"))
            .list.set_intersection(_named(pl.col("true_roots")))
            .list.len()
            .gt(0)
            .alias("root_name_ok"),
        )
    )


def _named(roots: pl.Expr) -> pl.Expr:
    """Root ids as name keys: a re-upload of a root under another namespace
    (mlabonne/Meta-Llama-3-8B) is named like it."""
    return roots.fill_null([]).list.eval(match_key(model_name(pl.element())))


def _scores(placed: pl.DataFrame, hidden: pl.DataFrame) -> dict:
    """Coverage and precisions, per model and weighted by the derivatives under each
    (``weighted_*``: what the share depends on)."""
    with_parent = placed.filter(pl.col("parent").is_not_null())
    weight = pl.col("derivatives").cast(pl.Float64)
    total = float(hidden["derivatives"].sum())
    placed_weight = float(placed["derivatives"].sum()) if placed.height else 0.0

    def weighted(column: str) -> float | None:
        if not placed_weight:
            return None
        return float(placed.select((weight * pl.col(column).cast(pl.Float64)).sum()).item()) / (
            placed_weight
        )

    return {
        "proposals": placed.height,
        "coverage": placed.height / hidden.height if hidden.height else None,
        "parent_precision": with_parent["parent_ok"].mean() if with_parent.height else None,
        "root_precision": placed["root_ok"].mean() if placed.height else None,
        "root_name_precision": placed["root_name_ok"].mean() if placed.height else None,
        "region_precision": placed["region_ok"].mean() if placed.height else None,
        "weighted_coverage": placed_weight / total if total else None,
        "weighted_root_precision": weighted("root_ok"),
        "weighted_region_precision": weighted("region_ok"),
    }


def _calibration(placed: pl.DataFrame) -> pl.DataFrame:
    """Root precision by confidence bucket (all proposals in the graph)."""
    labels = (
        [f"< {CONFIDENCE_BINS[0]}"]
        + [f"{a}-{b}" for a, b in itertools.pairwise(CONFIDENCE_BINS)]
        + [f">= {CONFIDENCE_BINS[-1]}"]
    )
    bucket = pl.sum_horizontal(
        [(pl.col("confidence") >= b).cast(pl.Int64) for b in CONFIDENCE_BINS]
    )
    return (
        placed.with_columns(bucket.alias("bin"))
        .group_by("bin")
        .agg(
            pl.len().alias("proposals"),
            pl.col("confidence").mean().alias("mean_confidence"),
            pl.col("root_ok").mean().alias("root_precision"),
            pl.col("region_ok").mean().alias("region_precision"),
        )
        .sort("bin")
        .with_columns(
            pl.col("bin")
            .replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)
            .alias("confidence")
        )
        .select("confidence", "proposals", "mean_confidence", "root_precision", "region_precision")
    )


def _heads(graph, inferred: pl.DataFrame) -> pl.DataFrame:
    """Family heads (crawled, no declared parent, declared children) given a proposal."""
    n = graph.n
    has_parent = np.bincount(graph.edges["child"].to_numpy(), minlength=n) > 0
    has_children = np.bincount(graph.edges["parent"].to_numpy(), minlength=n) > 0
    heads = graph.nodes.filter(pl.Series(~has_parent & has_children) & pl.col("crawled"))
    given = inferred.join(heads.select(pl.col("id").alias("child")), on="child")
    return pl.DataFrame(
        {
            "min_confidence": list(THRESHOLDS),
            "heads": [heads.height] * len(THRESHOLDS),
            "given_a_parent": [given.filter(pl.col("confidence") >= t).height for t in THRESHOLDS],
        }
    )
