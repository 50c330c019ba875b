"""How well the consequential roots are resolved (evaluation time only).

The question of issue 25: for the declared derivatives with 100 or more derivatives under
them, hidden all at once (as the Hub's consequential parentless roots are), how often does
lineage give them a root family, and how often the right one, per model and weighted by
the derivatives under each?

1. **Names, on real names.** hf-llm-edges-hakanotal/edges.csv (30k real declared edges,
   June 2025; no dates, no downloads): the name and re-upload methods only, since no real
   card is in the data. ``lineage infer --evaluate --min-derivatives 100``'s library twin.
2. **Cards, synthetic, on real names.** The same models and edges; every model with a
   derivative gets a model card and a config from :mod:`lineage.testing.cards`, written
   from its *declared* parents in the shapes real cards have, with the mistakes and
   silences of :class:`~lineage.testing.cards.CardStyle` (chosen here, not measured on the
   Hub). The consequential declarations are removed from the store, the fake Hub serves
   the files, and ``lineage infer --resolve-roots`` reads them through the real
   huggingface_hub client within a budget; then the evaluation hides the same
   declarations (and what their cards' ``base_model`` says) and scores every method.
   These figures describe the file methods on synthetic cards, not on the Hub.

    python benchmarks/eval_roots.py [--budget 300 2000] [--unplaced-share 0.5 0 1]
                                    [--min-derivatives 100]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from eval_inference import edges_store

from lineage.hub import RetryPolicy, make_client
from lineage.inference_eval import evaluate_frames
from lineage.records import EDGE_SCHEMA
from lineage.roots import derivatives_under, resolve_roots
from lineage.schema import LOOKUP_SCHEMA
from lineage.store import Store
from lineage.testing.cards import card_files
from lineage.testing.fakehub import FakeHub

TARGET_PRECISION, TARGET_COVERAGE = 0.95, 0.80
COLUMNS = [
    "min_confidence",
    "proposals",
    "coverage",
    "root_precision",
    "region_precision",
    "weighted_coverage",
    "weighted_root_precision",
    "weighted_region_precision",
]


def show(title: str, result) -> None:
    with pl.Config(tbl_rows=60, tbl_width_chars=200, float_precision=3, fmt_str_lengths=48,
                   tbl_hide_dataframe_shape=True, tbl_cols=12):  # fmt: skip
        print(f"\n== {title}: {result.sample} hidden (>= {result.min_derivatives} derivatives)")
        print(result.thresholds.select(COLUMNS))
        print(f"by method, confidence >= {result.min_confidence:g}:")
        print(result.by_method.select("method", *COLUMNS[1:]).filter(pl.col("proposals") > 0))
    met = result.thresholds.filter(
        (pl.col("weighted_root_precision") >= TARGET_PRECISION)
        & (pl.col("weighted_coverage") >= TARGET_COVERAGE)
    )
    print(
        f"target (weighted root precision >= {TARGET_PRECISION:.0%} at weighted coverage >= "
        f"{TARGET_COVERAGE:.0%}): "
        + (f"met from confidence {met['min_confidence'].min():g}" if met.height else "not met")
    )


def files_for(models: pl.DataFrame, edges: pl.DataFrame, seed: int) -> dict:
    """Synthetic files for every model with a derivative, from its declared parents."""
    from lineage.graph import graph_from_frames
    from lineage.inference import complete_models

    graph = graph_from_frames(complete_models(models), edges, pl.DataFrame(schema=LOOKUP_SCHEMA))
    from lineage.attribution import primary_roots

    family = primary_roots(graph)
    under = derivatives_under(graph).join(graph.nodes.select("idx", "id"), on="idx")
    ids = graph.nodes["id"]
    declared = edges.group_by("child").agg(
        pl.col("parent").sort_by("position"), pl.col("relation").first()
    )
    popular = under.sort("derivatives", descending=True).head(300)["id"].to_list()
    rng = random.Random(seed)
    files = {}
    rows = under.join(declared, left_on="id", right_on="child", how="left").sort("id")
    for idx, model, parents, relation in rows.select("idx", "id", "parent", "relation").iter_rows():
        root = ids[int(family[idx])]
        if parents is None:  # an original: a card that names nothing, its own shape
            files[model] = card_files(model, [model], "finetune", family=root, rng=rng)
            files[model].pop("README.md", None)
            files[model]["README.md"] = f"# {model}\n\nA model trained from scratch."
            continue
        others = [o for o in popular if o not in parents and o != model][:80]
        files[model] = card_files(
            model, parents, relation or "finetune", family=root, rng=rng, others=others
        )
    return files


def synthetic_cards(models, edges, *, budgets, shares, min_derivatives, seed) -> None:
    lookups = pl.DataFrame(schema=LOOKUP_SCHEMA)
    graph_files = files_for(models, edges, seed)
    print(f"\nsynthetic files for {len(graph_files):,} models with derivatives (seed {seed})")
    # What is hidden: the same set evaluate_frames hides (declared, >= min_derivatives).
    probe = evaluate_frames(
        models, edges, lookups, min_derivatives=min_derivatives, min_confidence=1.01
    )
    hidden = probe.models.select(pl.col("id").alias("child"))
    kept = edges.join(hidden, on="child", how="anti")
    # The Hub holds one model per id in any case (the edges name a few ids in two cases).
    unique = models.unique(pl.col("id").str.to_lowercase(), keep="first", maintain_order=True)
    records = [{"id": i, "tags": []} for i in unique["id"].to_list()]
    files = {
        ("model", m, name): content for m, fs in graph_files.items() for name, content in fs.items()
    }
    from lineage.testing.fakehub import _file_bytes

    files = {k: _file_bytes(v) for k, v in files.items()}
    with FakeHub(records, files=files) as hub:
        for budget, share in [(b, s) for b in budgets for s in shares]:
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "store")
                from lineage.records import PROBLEM_SCHEMA, Batch

                store.commit(
                    Batch(
                        _as_models(models),
                        kept.cast(EDGE_SCHEMA),
                        pl.DataFrame(schema=PROBLEM_SCHEMA),
                    )
                )
                client = make_client(hub.url, token=False, policy=RetryPolicy(base_wait=0.01))
                started = time.monotonic()
                summary = resolve_roots(store, client, budget=budget, unplaced_share=share)
                took = time.monotonic() - started
                store.refresh()
                evidence = store.read("file_evidence")
            print(
                f"\n-- --resolve-roots {budget} --unplaced-share {share:g}: "
                f"{summary.requests:,} requests, "
                f"{summary.examined:,} parentless models read ({summary.resolved:,} resolved at "
                f"0.8: {summary.requests_per_resolved or 0:.1f} requests per resolved root), "
                f"{summary.calibration:,} calibration models, {took:.0f} s"
            )
            result = evaluate_frames(
                models, edges, lookups, min_derivatives=min_derivatives, evidence=evidence
            )
            read = set(evidence["model"].to_list())
            reached = result.models.filter(pl.col("id").is_in(list(read)))
            weight = float(reached["derivatives"].sum()) / float(result.models["derivatives"].sum())
            print(
                f"   of the {result.sample} hidden, {reached.height} had their files read "
                f"({weight:.0%} of their derivatives)"
            )
            show(f"names + synthetic cards, budget {budget}, unplaced share {share:g}", result)


def _as_models(models: pl.DataFrame) -> pl.DataFrame:
    from lineage.records import MODEL_SCHEMA

    return (
        models.with_columns(
            pl.lit(None, MODEL_SCHEMA[c]).alias(c) for c in MODEL_SCHEMA if c not in models.columns
        )
        .select(list(MODEL_SCHEMA))
        .cast(MODEL_SCHEMA)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, nargs="+", default=[300, 2000])
    parser.add_argument("--unplaced-share", type=float, nargs="+", default=[0.5, 0.0, 1.0])
    parser.add_argument("--min-derivatives", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    models, edges = edges_store()
    print(f"hakanotal edges: {edges.height:,} declared edges, {models.height:,} models")
    lookups = pl.DataFrame(schema=LOOKUP_SCHEMA)
    names = evaluate_frames(models, edges, lookups, min_derivatives=args.min_derivatives)
    show("names only, real names", names)
    with pl.Config(tbl_rows=120, tbl_width_chars=200, fmt_str_lengths=44, float_precision=2,
                   tbl_hide_dataframe_shape=True):  # fmt: skip
        print(names.models.select("id", "derivatives", "method", "confidence", "root_ok"))
    synthetic_cards(
        models,
        edges,
        budgets=args.budget,
        shares=args.unplaced_share,
        min_derivatives=args.min_derivatives,
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
