"""Crawl cost: requests, wall time and peak memory of walk vs sweep vs auto vs naive.

Serves a seeded synthetic population from a local FakeHub (1000 models a page, like the
Hub) and runs real `lineage crawl` processes against it, measuring each process's requests
(counted by the Hub), wall time and peak RSS (polled while it runs). The naive baseline is
what a crawler without listings would do: one ``model_info`` per model on the Hub; its cost
per request is measured on a sample in the same run and its total is extrapolated.

Targets (issue 3): a sweep of N models costs at most 1.1 x ceil(N/1000) requests; `--root`
on a 50k-node family (auto) costs at most 1/10 of the walk's requests.

Targets (issue 10): a whole-Hub sweep while the Hub changes under it (2% of the scores and
downloads re-drawn, 5 models created and 2 deleted after every page) stores exactly the
models that existed throughout, each once; the baseline is the same paging in the Hub's
default order (trendingScore), as crawls did before, measured on the same changing Hub. An
update (`crawl --all --new`) after a simulated day of 5,000 new models costs at most
ceil(5000/1000) + 2 listing requests plus one lookup per new unknown parent.

Targets (issue 15): a default whole-Hub crawl (`crawl --all`, lookup budget 500) costs at
most 1.1 x ceil(N/1000) + 500 requests (listing + lookups; HTTP requests, which count each
renamed parent's redirect too, are printed beside them) with a peak RSS of at most 3 GB at
2.5M models; the monthly shares (`lineage share`, by region and by family) of the budgeted
store differ from those of a store with unlimited lookups by under 0.1 percentage point.
Requests are counted by the fake Hub: listing pages, lookups (`/api/models/{id}` answers
other than redirects) and HTTP requests (everything it answered).

    python benchmarks/bench_crawl.py                 # 200k models
    python benchmarks/bench_crawl.py --models 2500000
    python benchmarks/bench_crawl.py --models 2500000 --only-lookups   # issue 15's runs
    python benchmarks/bench_crawl.py --models 2500000 --only-store     # issue 21's runs
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import psutil
from huggingface_hub import HfApi

from lineage.store import Store
from lineage.testing.fakehub import Churn, FakeHub
from lineage.testing.synthetic import ORGS, generate

MOVING = Churn(rescore=0.02, add=5, delete=2, seed=10)
DAY = 5000  # models created in a simulated day
DAY_UNKNOWN_PARENTS = 100  # of which this many declare a parent the store does not know


def run_crawl(hub: FakeHub, args: list[str], hub_size: int, store: str | None = None) -> dict:
    store = store or tempfile.mkdtemp(prefix="bench-crawl-")
    before_list, before_info = hub.count("list"), hub.count("info")
    before_all = hub.count()
    command = [
        sys.executable,
        "-m",
        "lineage",
        "crawl",
        *args,
        "--store",
        store,
        "--endpoint",
        hub.url,
        "--quiet",
        "--hub-size",
        str(hub_size),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    # Poll the child's RSS: its rusage would include this (large) process's pages that the
    # fork copied before exec.
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed: {proc.stderr.read()}")
    answered = hub.requests[before_all:]
    models = Store(store, create=False).read("models", columns=["crawled"])["crawled"].sum()
    return {
        "listing": hub.count("list") - before_list,
        # HTTP requests to /api/models/{id}: a renamed parent's 307 and its target are two.
        "info": hub.count("info") - before_info,
        "lookups": sum(1 for r in answered if r.kind == "info" and r.status != 307),
        "http": len(answered),
        "wall": wall,
        "rss_mb": peak / 2**20,
        "family": models,
        "store": store,
    }


def family_size(truth: pl.DataFrame, orgs: list[str]) -> int:
    """Models in the families of these organizations: their own plus every descendant."""
    prefixes = [f"{o}/" for o in orgs]
    own = pl.any_horizontal(pl.col("id").str.starts_with(p) for p in prefixes)
    descends = (
        pl.col("roots")
        .list.eval(pl.any_horizontal(pl.element().str.starts_with(p) for p in prefixes))
        .list.any()
    )
    return truth.filter(own | descends).height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--naive-sample", type=int, default=3000)
    parser.add_argument("--skip-walk", action="store_true", help="skip the slow big walk")
    parser.add_argument(
        "--moving-models", type=int, help="size of the changing Hub [default: --models]"
    )
    parser.add_argument(
        "--only-lookups",
        action="store_true",
        help="only issue 15's runs: `crawl --all` with the default budget, --no-lookups and "
        "unlimited lookups, then the rest resolved later, and their shares compared",
    )
    parser.add_argument(
        "--only-store",
        action="store_true",
        help="only issue 21's store runs: `crawl --all` (peak RSS) and, after a simulated "
        "day, `crawl --all --new` into its store",
    )
    parser.add_argument(
        "--budgets",
        default="1000,2000,4000",
        help="with --only-lookups: other budgets whose share gaps are simulated [%(default)s]",
    )
    args = parser.parse_args()

    t = time.perf_counter()
    population = generate(args.models, seed=args.seed, derivative_fraction=0.45)
    items = list(population.items())
    print(
        f"population: {len(items):,} models, "
        f"{population.truth['derivative'].sum():,} derivatives "
        f"(generated in {time.perf_counter() - t:.1f} s)"
    )

    # A big family (the largest orgs until 50k models) and a small one.
    sizes = {org: family_size(population.truth, [org]) for org in ORGS}
    big: list[str] = []
    for org, _ in sorted(sizes.items(), key=lambda kv: -kv[1]):
        big.append(org)
        if family_size(population.truth, big) >= 50_000 or len(big) == len(ORGS):
            break
    small = [min(sizes, key=sizes.get)]
    # A tiny family: the root model with the fewest (but at least 20) descendants.
    counts = (
        population.truth.filter("derivative")
        .explode("roots")
        .group_by("roots")
        .len()
        .filter(pl.col("len") >= 20)
        .sort("len", "roots")
    )
    tiny = [counts["roots"][0]]
    n = len(items)
    pages = math.ceil(n / 1000)
    if args.only_store:
        store_runs(items, population.renames, n)
        return
    if args.only_lookups:
        budgets = tuple(int(b) for b in args.budgets.split(",") if b.strip())
        lookup_budget_runs(items, population.renames, n, budgets)
        return

    with FakeHub(items, page_size=1000, renames=population.renames) as hub:
        rows = []

        def record(name: str, roots: list[str], strategy: str, extra: list[str] = ()) -> dict:
            root_args = [a for r in roots for a in ("--root", r)]
            result = run_crawl(hub, [*root_args, "--strategy", strategy, *extra], n)
            result.update(case=name, strategy=strategy)
            rows.append(result)
            print(
                f"  {name:<22} {strategy:<6} family {result['family']:>7,}  listing "
                f"{result['listing']:>7,}  lookups {result['lookups']:>5,}  "
                f"HTTP {result['http']:>7,}  "
                f"{result['wall']:7.1f} s  {result['rss_mb']:7.0f} MB",
                flush=True,
            )
            return result

        print(f"big family: {', '.join(big)}; small family: {small[0]}")
        whole = record("whole Hub (--all)", [], "sweep", ["--all", "--no-lookups"])
        whole_lk = record("whole Hub (--all)", [], "sweep", ["--all"])
        big_sweep = record("big family", big, "sweep")
        big_auto = record("big family", big, "auto")
        big_walk = None if args.skip_walk else record("big family", big, "walk")
        small_walk = record("small family", small, "walk")
        small_auto = record("small family", small, "auto")
        small_sweep = record("small family", small, "sweep")
        tiny_walk = record("tiny family", tiny, "walk")
        tiny_auto = record("tiny family", tiny, "auto")

        # An update after a simulated day: DAY new models, a few with unknown parents.
        hub.create_models(DAY - DAY_UNKNOWN_PARENTS, parent_fraction=0.5, prefix="day")
        for i in range(DAY_UNKNOWN_PARENTS):
            hub.create_models(1, parent_fraction=0.0, prefix="orphan")
            newest = hub.created_ids[-1]
            hub.update_model(newest, tags=[f"base_model:ghost-new/parent-{i}"])
        update = run_crawl(hub, ["--all", "--new"], n + DAY, store=whole_lk["store"])
        stored_after = Store(whole_lk["store"], create=False).read("models", columns=["id"])
        day_stored = stored_after.filter(pl.col("id").is_in(hub.created_ids)).height

        # Naive baseline: one model_info per model on the Hub; cost measured on a sample.
        api = HfApi(endpoint=hub.url, token=False)
        sample = [item["id"] for item in items[:: max(1, n // args.naive_sample)]]
        started = time.perf_counter()
        for model_id in sample:
            api.model_info(model_id, expand=["baseModels", "createdAt", "downloads"])
        per_request = (time.perf_counter() - started) / len(sample)

    moving = moving_sweep(items, population.renames, args.moving_models or n)

    print()
    print(
        f"sweep of N={n:,}: {whole['listing']:,} listing requests = "
        f"{whole['listing'] / pages:.3f} x ceil(N/1000) (target <= 1.1); the default (lookups "
        f"of unknown parents, budget {BUDGET}): {whole_lk['listing']:,} listing + "
        f"{whole_lk['lookups']:,} lookups = {whole_lk['listing'] + whole_lk['lookups']:,} "
        f"requests ({(whole_lk['listing'] + whole_lk['lookups']) / pages:.2f} x), "
        f"{whole_lk['http']:,} HTTP requests with redirects"
    )
    walk_requests = (big_walk["listing"] + big_walk["lookups"]) if big_walk else None
    auto_requests = big_auto["listing"] + big_auto["lookups"]
    if walk_requests:
        print(
            f"big family ({big_auto['family']:,} models): auto {auto_requests:,} requests "
            f"vs walk {walk_requests:,} = {auto_requests / walk_requests:.4f} of the walk "
            f"(target <= 0.1); wall {big_walk['wall'] / big_auto['wall']:.1f}x faster"
        )
    print(
        f"small family ({small_auto['family']:,} models): auto "
        f"{small_auto['listing'] + small_auto['lookups']:,} requests, walk "
        f"{small_walk['listing'] + small_walk['lookups']:,}, sweep "
        f"{small_sweep['listing'] + small_sweep['lookups']:,}"
    )
    print(
        f"tiny family ({tiny_auto['family']:,} models, {tiny[0]}): auto "
        f"{tiny_auto['listing'] + tiny_auto['lookups']:,} requests, walk "
        f"{tiny_walk['listing'] + tiny_walk['lookups']:,} (auto walks it)"
    )
    naive_total = n * per_request
    print(
        f"naive baseline: {n:,} model_info requests (one per model), "
        f"{per_request * 1000:.2f} ms each on a {len(sample):,}-model sample "
        f"-> ~{naive_total:.0f} s extrapolated; sweep of the whole Hub took "
        f"{whole['wall']:.1f} s ({naive_total / whole['wall']:.0f}x faster, "
        f"{n / whole['listing']:.0f}x fewer requests)"
    )
    print(
        f"sweep while the Hub changes ({moving['models']:,} models; after every page 2% of "
        f"scores and downloads re-drawn, {MOVING.add} created, {MOVING.delete} deleted): "
        f"stored {moving['stored_expected']:,} of the {moving['expected']:,} that existed "
        f"throughout (missing {moving['missing']:,}, served twice {moving['twice']}; target: "
        f"0 and 0), {moving['listing']:,} listing requests, {moving['wall']:.1f} s; the "
        f"default order (trendingScore), paged on the same changing Hub, got "
        f"{moving['base_got']:,} of {moving['base_expected']:,} (missing "
        f"{moving['base_missing']:,}, {moving['base_twice']:,} served twice)"
    )
    target = math.ceil(DAY / 1000) + 2
    whole_requests = whole_lk["listing"] + whole_lk["lookups"]
    print(
        f"update after a day of {DAY:,} new models on a {n:,}-model Hub (crawl --all --new): "
        f"{update['listing']} listing requests (target <= {target}) + {update['lookups']} "
        f"lookups ({DAY_UNKNOWN_PARENTS} new unknown parents); stored {day_stored:,} of "
        f"{DAY:,} new models; {update['wall']:.1f} s, {update['rss_mb']:.0f} MB; a full "
        f"sweep instead: {whole_lk['listing'] + whole_lk['lookups']:,} requests "
        f"({(update['listing'] + update['lookups']) / whole_requests:.3f}x)"
    )
    print(
        f"peak RSS of the crawl process: whole-Hub sweep {whole['rss_mb']:.0f} MB, "
        f"big-family sweep {big_sweep['rss_mb']:.0f} MB, big-family walk "
        f"{big_walk['rss_mb'] if big_walk else float('nan'):.0f} MB, "
        f"tiny walk {tiny_walk['rss_mb']:.0f} MB"
    )


BUDGET = 500  # the default --lookup-budget


def store_runs(items: list[dict], renames: dict, n: int) -> None:
    """Issue 21: a whole-Hub crawl's peak memory, then an update after a day into its store."""
    import os

    with FakeHub(items, page_size=1000, renames=renames) as hub:
        print(f"load average {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
        whole = run_crawl(hub, ["--all"], n)
        print(
            f"crawl --all of {n:,} models: {whole['wall']:.0f} s, peak RSS "
            f"{whole['rss_mb']:,.0f} MB (target <= 3 GB: "
            f"{'met' if whole['rss_mb'] <= 3072 else 'MISSED'}); {whole['listing']:,} listing "
            f"pages, {whole['lookups']:,} lookups",
            flush=True,
        )
        hub.create_models(DAY - DAY_UNKNOWN_PARENTS, parent_fraction=0.5, prefix="day")
        for i in range(DAY_UNKNOWN_PARENTS):
            hub.create_models(1, parent_fraction=0.0, prefix="orphan")
            hub.update_model(hub.created_ids[-1], tags=[f"base_model:ghost-new/parent-{i}"])
        update = run_crawl(hub, ["--all", "--new"], n + DAY, store=whole["store"])
        files = sorted(p.name for p in Path(whole["store"]).glob("*.parquet"))
        print(
            f"crawl --all --new after a day of {DAY:,} new models: {update['wall']:.1f} s, peak "
            f"RSS {update['rss_mb']:,.0f} MB; {update['listing']} listing pages, "
            f"{update['lookups']} lookups; store files now {', '.join(files)} (the commit "
            "alone: benchmarks/bench_store.py)"
        )
        print(f"load average {os.getloadavg()[0]:.1f}")
        shutil.rmtree(whole["store"], ignore_errors=True)


def lookup_budget_runs(
    items: list[dict], renames: dict, n: int, budgets: tuple[int, ...] = ()
) -> None:
    """Issue 15: whole-Hub crawls within the lookup budget, and what the budget costs."""
    pages = math.ceil(n / 1000)
    with FakeHub(items, page_size=1000, renames=renames) as hub:
        runs = {}
        for name, extra in (
            ("default (budget 500)", []),
            ("--no-lookups", ["--no-lookups"]),
            ("--lookup-budget all", ["--lookup-budget", "all"]),
        ):
            runs[name] = r = run_crawl(hub, ["--all", *extra], n)
            print(
                f"  crawl --all {name:<22} listing {r['listing']:>6,}  lookups {r['lookups']:>6,}"
                f"  HTTP {r['http']:>6,}  {r['wall']:7.1f} s  peak RSS {r['rss_mb']:7,.0f} MB",
                flush=True,
            )
        budgeted = runs["default (budget 500)"]
        # The rest, resolved later, into a copy of the budgeted store.
        resolved = tempfile.mkdtemp(prefix="bench-crawl-resolved-")
        shutil.copytree(budgeted["store"], resolved, dirs_exist_ok=True)
        rest = run_crawl(hub, ["--resolve-parents", "--lookup-budget", "all"], n, store=resolved)
    unresolved = _unresolved(budgeted["store"])
    print()
    limit = 1.1 * pages + BUDGET
    spent = budgeted["listing"] + budgeted["lookups"]
    print(
        f"default whole-Hub crawl of N={n:,}: {budgeted['listing']:,} listing + "
        f"{budgeted['lookups']:,} lookups = {spent:,} requests (target <= 1.1 x ceil(N/1000) "
        f"+ {BUDGET} = {limit:,.0f}: {'met' if spent <= limit else 'MISSED'}); "
        f"{budgeted['http']:,} HTTP requests with redirects "
        f"({'within' if budgeted['http'] <= limit else 'over'} that too); "
        f"peak RSS {budgeted['rss_mb']:,.0f} MB (target <= 3,072 MB: "
        f"{'met' if budgeted['rss_mb'] <= 3072 else 'MISSED'})"
    )
    full = runs["--lookup-budget all"]
    print(
        f"unlimited lookups: {full['listing']:,} listing + {full['lookups']:,} lookups, "
        f"{full['http']:,} HTTP ({(full['listing'] + full['lookups']) / pages:.2f} x "
        f"ceil(N/1000)); the budget left {unresolved['parents']:,} parents unresolved with "
        f"{unresolved['derivatives']:,} models under them; `crawl --resolve-parents "
        f"--lookup-budget all` then: {rest['lookups']:,} lookups, {rest['http']:,} HTTP, "
        f"{rest['wall']:.1f} s"
    )
    for by in ("region", "family"):
        b = _shares(budgeted["store"], by)
        u = _shares(full["store"], by)
        r = _shares(resolved, by)
        gap = _max_gap(b, u)
        print(
            f"monthly share by {by}: budgeted vs unlimited differ by at most {gap * 100:.4f} pp "
            f"(target < 0.1: {'met' if gap < 0.001 else 'MISSED'}) over {u.height:,} "
            f"month-group rows; resolved later vs unlimited: {_max_gap(r, u) * 100:.4f} pp"
        )
    # Other budgets, simulated without crawling again: the --no-lookups store (the same
    # models and edges) given the unlimited store's answers for the first B parents in the
    # crawl's own order, which is what a crawl with budget B stores.
    for budget in budgets:
        gaps = _simulated_gaps(runs["--no-lookups"]["store"], full["store"], budget)
        print(
            f"budget {budget:,} (simulated): max monthly share gap vs unlimited: region "
            f"{gaps['region'] * 100:.4f} pp, family {gaps['family'] * 100:.4f} pp"
        )


def _simulated_gaps(no_lookups: str, unlimited: str, budget: int) -> dict[str, float]:
    from lineage.parents import lookup_order, unknown_parents
    from lineage.store import Store

    base = Store(no_lookups, create=False)
    models, edges = base.read("models"), base.read("edges")
    known = models.select(pl.col("id").str.to_lowercase().alias("key"))
    order = lookup_order(models.filter("crawled"), edges, unknown_parents(edges, known))
    keys = order.head(budget).select("key")
    answers = (
        Store(unlimited, create=False)
        .read("lookups")
        .join(keys, left_on=pl.col("query").str.to_lowercase(), right_on="key", how="semi")
    )
    store = tempfile.mkdtemp(prefix="bench-crawl-simulated-")
    shutil.copytree(no_lookups, store, dirs_exist_ok=True)
    Store(store).write_tables({"lookups": answers})
    gaps = {by: _max_gap(_shares(store, by), _shares(unlimited, by)) for by in ("region", "family")}
    shutil.rmtree(store)
    return gaps


def _unresolved(store: str) -> dict:
    from lineage.parents import unresolved
    from lineage.store import Store

    s = Store(store, create=False)
    return unresolved(s.read("models"), s.read("edges"), s.read("lookups"))


def _shares(store: str, by: str) -> pl.DataFrame:
    from lineage.analysis import load_context, share
    from lineage.store import Store

    ctx = load_context(Store(store, create=False))
    return share(ctx, by=by).table.select("month", "group", "share")


def _max_gap(a: pl.DataFrame, b: pl.DataFrame) -> float:
    joined = a.join(b, on=["month", "group"], how="full", coalesce=True, suffix="_b")
    gap = joined.select((pl.col("share").fill_null(0) - pl.col("share_b").fill_null(0)).abs().max())
    return float(gap.item() or 0.0)


def moving_sweep(items: list[dict], renames: dict, size: int) -> dict:
    """`crawl --all` on a Hub that changes after every page, and the default-order baseline."""
    items = items[:size]
    initial = {item["id"] for item in items}
    with FakeHub(items, page_size=1000, renames=renames, churn=MOVING) as hub:
        result = run_crawl(hub, ["--all", "--no-lookups"], size)
        expected = initial - set(hub.deleted_ids)
        twice = sum(1 for count in hub.served.values() if count > 1)
    stored = set(
        Store(result["store"], create=False)
        .read("models", columns=["id", "crawled"])
        .filter("crawled")["id"]
    )
    # What crawls did before: the listing's default order, through the real client.
    with FakeHub(items, page_size=1000, renames=renames, churn=MOVING) as hub:
        api = HfApi(endpoint=hub.url, token=False)
        paged = [m.id for m in api.list_models(limit=None)]
        base_expected = initial - set(hub.deleted_ids)
    return {
        "models": size,
        "expected": len(expected),
        "stored_expected": len(stored & expected),
        "missing": len(expected - stored),
        "twice": twice,
        "listing": result["listing"],
        "wall": result["wall"],
        "base_expected": len(base_expected),
        "base_got": len(set(paged) & base_expected),
        "base_missing": len(base_expected - set(paged)),
        "base_twice": len(paged) - len(set(paged)),
    }


if __name__ == "__main__":
    main()
