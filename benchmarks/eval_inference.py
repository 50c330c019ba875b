"""How well lineage inference recovers real declared lineage (evaluation time only).

Reads real public snapshots from /work/shared/data (never read by lineage at run time or by
the tests; see each directory's PROVENANCE.md):

1. hf-llm-edges-hakanotal/edges.csv: 30,383 declared edges (parent, child, relation) of
   ~50k text-generation models, collected around June 2025. Names and relations only: no
   creation dates (so "a parent is older than its child" cannot be checked), no downloads
   (so popularity cannot rank candidates), no tags or config. The store built from it
   holds the models the edges name, every one as crawled.
2. hubstats-sample/hub_stats_sample.parquet: 30 real rows of the hub-stats dump, ingested
   as `lineage ingest hub-stats` would (gguf and safetensors fields included), half of its
   declared derivatives hidden. Too few models for a measurement; it shows that the real
   dump's fields flow through.

For each, `lineage infer --evaluate`'s library twin hides the declarations of a seeded
sample of declared derivatives, infers them, and reports coverage and precision by minimum
confidence and by method, calibration, and family heads given a parent. Several seeds show
the spread.

    python benchmarks/eval_inference.py
    python benchmarks/eval_inference.py --sample 3000 --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import polars as pl

from lineage.inference import DEFAULT_MIN_CONFIDENCE
from lineage.inference_eval import TARGET_PRECISION, evaluate, evaluate_frames
from lineage.records import EDGE_SCHEMA
from lineage.schema import LOOKUP_SCHEMA
from lineage.store import Store

DATA = Path("/work/shared/data")
RELATIONS = {
    "finetuned": "finetune",
    "quantized": "quantized",
    "merged": "merge",
    "adapter": "adapter",
}


def edges_store() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The hakanotal edges as a store's models and declared edges."""
    raw = pl.read_csv(DATA / "hf-llm-edges-hakanotal" / "edges.csv")
    ids = pl.concat([raw["source"], raw["target"]]).unique().sort()
    models = pl.DataFrame({"id": ids}).with_columns(pl.lit(True).alias("crawled"))
    edges = raw.select(
        pl.col("target").alias("child"),
        pl.col("source").alias("parent"),
        pl.col("edge").replace_strict(RELATIONS).alias("relation"),
        pl.lit(False).alias("inferred"),
        pl.lit("tags").alias("source"),
        pl.int_range(pl.len()).over("target").cast(pl.Int32).alias("position"),
    ).cast(EDGE_SCHEMA)
    return models, edges


def show(title: str, result, at: float) -> None:
    with pl.Config(
        tbl_rows=20, tbl_width_chars=160, float_precision=3, tbl_hide_dataframe_shape=True
    ):
        print(
            f"\n== {title}: {result.sample:,} of {result.declared_derivatives:,} declared "
            f"derivatives hidden (seed {result.seed})"
        )
        print(result.thresholds)
        print(f"by method, confidence >= {at:g}:")
        print(result.by_method)
        print("calibration:")
        print(result.calibration)
        print("family heads given a parent:")
        print(result.heads)
    for measure, name in (("root_precision", "root-family"), ("region_precision", "region")):
        found = result.recommended_min_confidence(on=measure)
        print(
            f"lowest confidence with {name} precision >= {TARGET_PRECISION:.0%}: "
            + (f"{found:g}" if found is not None else "none")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    args = parser.parse_args()

    models, edges = edges_store()
    print(f"hakanotal edges: {edges.height:,} declared edges, {models.height:,} models")
    lookups = pl.DataFrame(schema=LOOKUP_SCHEMA)
    summary = []
    for seed in args.seeds:
        result = evaluate_frames(
            models,
            edges,
            lookups,
            sample=args.sample,
            seed=seed,
            min_confidence=args.min_confidence,
        )
        show("hakanotal edges", result, args.min_confidence)
        summary.append(result.thresholds.with_columns(pl.lit(seed).alias("seed")))
    spread = (
        pl.concat(summary)
        .group_by("min_confidence", maintain_order=True)
        .agg(
            *(
                pl.col(c).mean().alias(c)
                for c in (
                    "coverage",
                    "parent_precision",
                    "root_precision",
                    "root_name_precision",
                    "region_precision",
                )
            ),
            (pl.col("root_precision").max() - pl.col("root_precision").min()).alias(
                "root_precision_range"
            ),
        )
    )
    with pl.Config(
        tbl_rows=20, tbl_width_chars=160, float_precision=3, tbl_hide_dataframe_shape=True
    ):
        print(f"\n== hakanotal edges, mean over seeds {args.seeds}")
        print(spread)

    from lineage.hubstats import ingest_hub_stats

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store")
        ingest_hub_stats(
            store,
            DATA / "hubstats-sample" / "hub_stats_sample.parquet",
            snapshot_date=dt.date(2026, 1, 1),
        )
        # Half: the other half's declared parents stay known (as ids others declare).
        declared = store.read("edges")["child"].n_unique()
        result = evaluate(store, sample=declared // 2, seed=0, min_confidence=args.min_confidence)
        show("hubstats-sample (30 real rows)", result, args.min_confidence)


if __name__ == "__main__":
    main()
