"""Print the sensitivity table of docs/methodology.md (run: python docs/sensitivity.py).

How China's and Europe's shares of new derivatives move with each methodology choice, on a
seeded synthetic population (lineage.testing.synthetic) built to follow the published trend.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl

from lineage.analysis import load_context, share
from lineage.inference import DEFAULT_MIN_CONFIDENCE, infer, save
from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import ORGS, generate

PERIODS = {"early 2024": ("2024-01", "2024-03"), "early 2026": ("2026-01", "2026-02")}


def shares(ctx, **options) -> list[float]:
    out = []
    for since, until in PERIODS.values():
        table = share(ctx, since=since, until=until, **options).table
        totals = table.group_by("group").agg(pl.col("weight").sum())
        total = totals["weight"].sum()
        for region in ("china", "eu"):
            weight = totals.filter(pl.col("group") == region)["weight"].sum()
            out.append(weight / total if total else float("nan"))
    return out


def main() -> None:
    population = generate(200_000, seed=21)
    tmp = Path(tempfile.mkdtemp())
    store = Store(tmp / "store")
    store.commit(
        parse_raw(
            population.raw, seen_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), source="synthetic"
        )
    )
    # An ATOM-like root set: the known labs' released models only (no obscure-lab).
    mainline = tmp / "mainline.txt"
    ids = population.truth.filter(~pl.col("derivative") & pl.col("id").str.contains("/"))
    labs = [o for o in ORGS if o != "obscure-lab"]
    roots = ids.filter(pl.col("id").str.extract(r"^([^/]+)/").is_in(labs))["id"]
    mainline.write_text("\n".join(roots.to_list()))

    # Inferred lineage: the same population with a third of the derivatives' declarations
    # removed (their names still say whose they are), then `lineage infer`.
    hidden_store = Store(tmp / "hidden")
    batch = parse_raw(
        population.raw, seen_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), source="synthetic"
    )
    silent = batch.edges.select("child").unique().sort("child").sample(fraction=1 / 3, seed=21)
    hidden_store.commit(
        type(batch)(batch.models, batch.edges.join(silent, on="child", how="anti"), batch.problems)
    )
    save(hidden_store, infer(hidden_store))

    base = load_context(store)
    variants = [
        ("defaults: >5 all-time downloads, split merges, all roots", base, {}),
        ("threshold: >0 downloads", base, {"min_downloads": 0}),
        ("threshold: >100 downloads", base, {"min_downloads": 100}),
        ("downloads: last 30 days > 5", base, {"downloads": "30d"}),
        ("merges: first parent", load_context(store, multi_parent="first"), {}),
        ("merges: full count to each root", load_context(store, multi_parent="all"), {}),
        (
            "roots: known labs' models only (ATOM-like)",
            load_context(store, roots=str(mainline)),
            {},
        ),
        (
            "lineage: a third of declarations removed, declared only",
            load_context(hidden_store),
            {},
        ),
        (
            f"lineage: the same, declared + inferred (confidence >= {DEFAULT_MIN_CONFIDENCE:g})",
            load_context(hidden_store, lineage="both"),
            {},
        ),
        (
            "lineage: the same, inferred only",
            load_context(hidden_store, lineage="inferred"),
            {},
        ),
    ]
    truth = population.true_shares()
    print(
        "| variant | China early 2024 | Europe early 2024 | China early 2026 | Europe early 2026 |"
    )
    print("|---|---|---|---|---|")
    for name, ctx, options in variants:
        c24, e24, c26, e26 = shares(ctx, **options)
        print(f"| {name} | {c24:.1%} | {e24:.1%} | {c26:.1%} | {e26:.1%} |")
    row = []
    for since, until in PERIODS.values():
        t = truth.filter(
            pl.col("month").is_between(
                dt.date.fromisoformat(since + "-01"), dt.date.fromisoformat(until + "-01")
            )
        )
        totals = t.group_by("group").agg(pl.col("weight").sum())
        total = totals["weight"].sum()
        row += [
            totals.filter(pl.col("group") == r)["weight"].sum() / total for r in ("china", "eu")
        ]
    print(
        f"| truth (recoverable derivatives, defaults) | {row[0]:.1%} | {row[1]:.1%} | "
        f"{row[2]:.1%} | {row[3]:.1%} |"
    )
    print("| published (ATOM) | ~10% | ~58% | ~70% | ~4% |")
    print(
        f"\n{population.raw.height:,} models, {population.truth['derivative'].sum():,} "
        "derivatives, seed 21"
    )


if __name__ == "__main__":
    main()
