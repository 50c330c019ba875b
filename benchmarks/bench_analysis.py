"""Analysis commands on a 2.5M-model store once its derived state is kept, against competent
polars written here, in the same run.

For each command: lineage's wall time and peak RSS in a fresh process (the command as a user
types it, Python start-up and imports included), the same question answered by a baseline
script in a fresh process (what a skilled analyst writes in an afternoon: polars joins and
numpy over the store's Parquet files, networkx only for the nodes caught in cycles), the
ratio, and whether the two answers agree (integers and strings exactly, floats to 1e-9).
Each is run ``--runs`` times; the median is reported, with the load average.

First, once per store: ``lineage infer`` (for ``share --lineage both``; its peak RSS is the
``infer`` target) and one cold ``lineage share`` after deleting ``derived/`` (what building
and keeping the state costs, once per commit).

Populations (say which gave which figure):

- ``independent``: ``benchmarks/population.py`` (written apart from the project's own
  generator, shaped on real data), ingested with ``lineage ingest hub-stats``;
- ``synthetic``: ``lineage.testing.synthetic`` (the project's own), committed directly.

Targets (issue 21): share, families, info, tree, share --by family, share --lineage both
each <= 0.5 s and <= 1 GB, and >= 5x faster than the baseline; quality <= 2 s;
export html --root ORG <= 1.5x its baseline; infer <= 3 GB.

    python benchmarks/bench_analysis.py --population independent          # 2.5M models
    python benchmarks/bench_analysis.py --population synthetic --models 200000 --runs 1
    python benchmarks/bench_analysis.py --at /tmp/copy-of-a-store --only share tree

Each row gives wall and CPU seconds (user + system, all threads) for both sides, and the
load average: on a shared machine, compare CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import run_command

HERE = Path(__file__).resolve()
CACHE = Path("/tmp/lineage-bench-analysis")
REGIONS = HERE.parent.parent / "lineage" / "data" / "organization_regions.csv"


# -- the baseline: competent polars over the store's files ----------------------------------


def _read(store: Path, table: str, columns=None) -> pl.DataFrame:
    path = store / f"{table}.parquet"
    if not path.exists():  # a table never written (an ingested store has no lookups)
        return pl.DataFrame(schema={c: pl.String for c in columns})
    return pl.read_parquet(path, columns=columns)


def base_graph(store: Path, lineage: str = "declared") -> dict:
    """Nodes (row = idx), resolved acyclic edges (child, parent, relation, position)."""
    models = _read(store, "models", ["id", "crawled", "created_at", "downloads_all_time"])
    edges = _read(store, "edges", ["child", "parent", "relation", "position"])
    edges = edges.with_columns(pl.lit(False).alias("guess"))
    if lineage != "declared":
        inferred = (
            _read(store, "inferred_edges", ["child", "parent", "root", "relation", "confidence"])
            .filter(pl.col("confidence") >= 0.8)
            .join(edges.select("child").unique(), on="child", how="anti")
            .select(
                "child",
                pl.coalesce("parent", "root").alias("parent"),
                "relation",
                pl.lit(0, pl.Int32).alias("position"),
                pl.lit(True).alias("guess"),
            )
            .drop_nulls("parent")
        )
        edges = pl.concat([edges, inferred])
    lookups = _read(store, "lookups", ["query", "id"])
    index = models.select("id").with_row_index("idx")
    parents = edges.select("parent").unique()
    exact = parents.join(index, left_on="parent", right_on="id")
    rest = (
        parents.join(exact.select("parent"), on="parent", how="anti")
        .join(
            lookups.drop_nulls("id").rename({"query": "parent", "id": "target"}),
            on="parent",
            how="left",
        )
        .with_columns(pl.coalesce("target", "parent").alias("target"))
        .join(index.rename({"idx": "via_lookup"}), left_on="target", right_on="id", how="left")
        .with_columns(pl.col("target").str.to_lowercase().alias("key"))
    )
    lower = (
        index.with_columns(pl.col("id").str.to_lowercase().alias("key"))
        .sort("id")
        .unique("key", keep="first")
        .select("key", pl.col("idx").alias("via_case"))
    )
    rest = rest.join(lower, on="key", how="left")
    phantoms = (
        rest.filter(pl.col("via_lookup").is_null() & pl.col("via_case").is_null())
        .select(pl.col("target").alias("id"), "key")
        .sort("id")
        .unique("key", keep="first", maintain_order=True)
        .with_row_index("phantom", offset=models.height)
    )
    resolved = pl.concat(
        [
            exact.select("parent", pl.col("idx").alias("p")),
            rest.join(phantoms.select("key", "phantom"), on="key", how="left").select(
                "parent", pl.coalesce("via_lookup", "via_case", "phantom").alias("p")
            ),
        ]
    )
    nodes = pl.concat([models, phantoms.select("id")], how="diagonal_relaxed").with_columns(
        pl.col("crawled").fill_null(False), pl.col("id").str.extract(r"^([^/]+)/").alias("org")
    )
    e = (
        edges.join(resolved, on="parent")
        .join(index.rename({"idx": "c"}), left_on="child", right_on="id")
        .filter(pl.col("c") != pl.col("p"))
        .sort("c", "position")
        .unique(["c", "p"], keep="first", maintain_order=True)
    )
    n = nodes.height
    child, parent = e["c"].to_numpy().astype(np.int64), e["p"].to_numpy().astype(np.int64)
    level = _levels(n, child, parent)
    if (level < 0).any():  # cycles: drop, per cycle, the declaration of the newest parent
        import networkx as nx

        stuck = level < 0
        inner = np.flatnonzero(stuck[child] & stuck[parent])
        created = nodes["created_at"].to_list()
        ids = nodes["id"].to_list()
        guess = e["guess"].to_list()
        g = nx.DiGraph()
        g.add_edges_from((int(child[i]), int(parent[i]), {"guess": guess[i]}) for i in inner)

        def rule(edge):
            c, p = created[edge[0]], created[edge[1]]
            gap = (p - c).total_seconds() if c is not None and p is not None else float("-inf")
            return (not g.edges[edge]["guess"], -gap, ids[edge[1]], ids[edge[0]])

        dropped = set()
        todo = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
        while todo:
            comp = todo.pop()
            edge = min(g.subgraph(comp).edges, key=rule)
            g.remove_edge(*edge)
            dropped.add(edge)
            todo += [c for c in nx.strongly_connected_components(g.subgraph(comp)) if len(c) > 1]
        drop = pl.DataFrame(list(dropped), schema={"c": pl.UInt32, "p": pl.UInt32}, orient="row")
        e = e.join(drop, on=["c", "p"], how="anti", maintain_order="left")
        child, parent = e["c"].to_numpy().astype(np.int64), e["p"].to_numpy().astype(np.int64)
        level = _levels(n, child, parent)
    return {"nodes": nodes, "edges": e, "level": level, "child": child, "parent": parent}


def _levels(n, child, parent):
    level = np.full(n, -1)
    waiting = np.bincount(child, minlength=n)
    order = np.argsort(parent, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(parent, minlength=n))])
    frontier, depth = np.flatnonzero(waiting == 0), 0
    while frontier.size:
        level[frontier] = depth
        counts = starts[frontier + 1] - starts[frontier]
        idx = np.repeat(starts[frontier], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        kids = child[order[idx]]
        np.subtract.at(waiting, kids, 1)
        frontier = np.unique(kids[waiting[kids] == 0])
        depth += 1
    return level


def base_attribution(graph: dict) -> dict:
    """(derivative, root, weight) with weights 1/k over k distinct parentless ancestors;
    each derivative's first-parent relation and depth."""
    n, child, parent, level = graph["nodes"].height, graph["child"], graph["parent"], graph["level"]
    has_parent = np.bincount(child, minlength=n) > 0
    pairs = pl.DataFrame({"node": np.flatnonzero(~has_parent)}).with_columns(
        pl.col("node").alias("root")
    )
    e = pl.DataFrame({"child": child, "parent": parent, "lvl": level[child]})
    found = [pairs]
    for lvl in range(1, int(level.max()) + 1 if n else 1):
        step = (
            e.filter(pl.col("lvl") == lvl)
            .join(
                pl.concat(found) if len(found) < 3 else _merge(found),
                left_on="parent",
                right_on="node",
            )
            .select(pl.col("child").alias("node"), "root")
            .unique()
        )
        found = [_merge(found), step] if len(found) > 2 else [*found, step]
    roots = _merge(found).filter(
        pl.col("node").is_in(pl.Series(np.flatnonzero(has_parent)).implode())
    )
    weights = roots.with_columns((1.0 / pl.len().over("node")).alias("weight"))
    first = (
        graph["edges"].select("c", "p", "relation").unique("c", keep="first", maintain_order=True)
    )
    fp = np.full(n, -1)
    fp[first["c"].to_numpy()] = first["p"].to_numpy()
    depth = np.zeros(n, dtype=np.int64)
    for lvl in range(1, int(level.max()) + 1 if n else 1):
        at = np.flatnonzero((level == lvl) & (fp >= 0))
        depth[at] = depth[fp[at]] + 1
    relation = first.select(
        pl.col("c").alias("node"),
        pl.col("relation").replace_strict(
            ["adapter", "finetune", "merge", "quantized"],
            ["adapter", "finetune", "merge", "quantized"],
            default="finetune",
        ),
    ).with_columns(pl.Series("depth", depth[first["c"].to_numpy()]))
    return {"weights": weights, "relation": relation}


def _merge(frames):
    return pl.concat(frames)


def _regions() -> pl.DataFrame:
    table = pl.read_csv(REGIONS, comment_prefix="#").select(pl.col("hf_org").alias("org"), "region")
    return table


def _with_region(frame: pl.DataFrame, org: str) -> pl.DataFrame:
    table = _regions()
    loose = table.select(
        pl.col("org").str.to_lowercase().alias("_k"), pl.col("region").alias("_l")
    ).unique("_k", keep="last")
    return (
        frame.join(
            table.rename({"region": "_e"}).unique("org", keep="last"),
            left_on=org,
            right_on="org",
            how="left",
        )
        .join(loose, left_on=pl.col(org).str.to_lowercase(), right_on="_k", how="left")
        .with_columns(pl.coalesce("_e", "_l", pl.lit("unknown")).alias("region"))
        .drop("_e", "_l", "_k", strict=False)
    )


def baseline(command: str, store: Path, root: str | None) -> pl.DataFrame:
    if command == "info":  # the counts lineage info prints, from the tables
        models = _read(store, "models", ["id", "crawled"])
        edges = _read(store, "edges", ["parent", "relation", "inferred"])
        lookups = _read(store, "lookups", ["query", "id", "status"])
        proposed = _read(store, "inferred_edges", ["child", "confidence"])
        key = pl.col("id").str.to_lowercase()
        known = models.select(key.alias("key"), "crawled").unique("key")
        renamed = lookups.drop_nulls("id").select(
            pl.col("query").str.to_lowercase().alias("key"), key.alias("to")
        )
        missing = lookups.filter(pl.col("status") == "missing").select(
            pl.col("query").str.to_lowercase().alias("key"), pl.lit(True).alias("missing")
        )
        parents = (
            edges.select(pl.col("parent").str.to_lowercase().alias("key"))
            .unique()
            .join(renamed, on="key", how="left")
            .with_columns(pl.coalesce("to", "key").alias("key"))
            .join(known, on="key", how="left")
            .join(missing, on="key", how="left")
        )
        relations = (
            edges["relation"].value_counts().sort(["count", "relation"], descending=[True, False])
        )
        problems = _read(store, "problems", ["kind"])["kind"].value_counts()
        snapshots = sorted(p.name for p in (store / "snapshots").glob("*"))
        confident = proposed.filter(pl.col("confidence").cast(pl.Float64) >= 0.8)
        return pl.DataFrame(
            {
                "models": [models.height],
                "crawled": [int(models["crawled"].sum())],
                "edges": [edges.height],
                "edges_by_relation": [json.dumps(dict(relations.iter_rows()))],
                "inferred_edges": [int(edges["inferred"].sum())],
                "inferred_lineage": [proposed["child"].n_unique()],
                "inferred_lineage_confident": [confident["child"].n_unique()],
                "parents_crawled": [int(parents["crawled"].eq(True).sum())],
                "parents_not_crawled": [int(parents["crawled"].eq(False).sum())],
                "parents_missing": [int(parents["missing"].eq(True).sum())],
                "parents_unresolved": [
                    int((parents["crawled"].is_null() & parents["missing"].is_null()).sum())
                ],
                "problems": [int(problems["count"].sum())],
                "snapshots": [len(snapshots)],
            }
        )
    # tree counts inferred lineage by default (marked apart), as share --lineage both does.
    lineage = "both" if command in ("share-both", "tree") else "declared"
    graph = base_graph(store, lineage)
    nodes = graph["nodes"]
    if command == "tree":
        idx = nodes.with_row_index("i").filter(pl.col("id") == root)["i"][0]
        return _base_descendants(graph, int(idx))
    if command == "export-html":
        org_nodes = np.flatnonzero((nodes["org"] == root).to_numpy())
        below = _base_reach(graph, org_nodes)
        family = nodes[below].with_columns(pl.Series("idx", below))
        family.write_json(os.devnull)
        return pl.DataFrame({"models": [family.height]})
    attribution = base_attribution(graph)
    w = attribution["weights"]
    roots = _with_region(
        nodes.with_row_index("root")
        .select("root", pl.col("id").alias("family"), "org")
        .join(w.select("root").unique(), on="root", how="semi"),
        "org",
    )
    if command == "families":
        table = (
            w.join(attribution["relation"], on="node")
            .group_by("root")
            .agg(
                pl.col("node").n_unique().alias("derivatives"),
                pl.col("weight").sort().sum(),
                *[
                    (pl.col("relation") == r).sum().alias(r)
                    for r in ("finetune", "adapter", "quantized", "merge")
                ],
                pl.col("depth").max().alias("max_depth"),
            )
            .join(roots, on="root")
            .sort(["derivatives", "family"], descending=[True, False])
            .head(20)
        )
        return table.select(
            "family",
            "org",
            "region",
            "derivatives",
            "weight",
            "finetune",
            "adapter",
            "quantized",
            "merge",
            "max_depth",
        )
    chosen = (
        nodes.with_row_index("node")
        .filter(
            pl.col("crawled")
            & pl.col("created_at").is_not_null()
            & (pl.col("downloads_all_time").fill_null(0) > 5)
        )
        .select("node", pl.col("created_at").dt.truncate("1mo").dt.strftime("%Y-%m").alias("month"))
    )
    if command == "share-both":
        pass
    group = "family" if command == "share-family" else "region"
    table = (
        w.join(chosen, on="node")
        .join(roots, on="root")
        .group_by("month", pl.col(group).alias("group"))
        .agg(pl.col("node").n_unique().alias("count"), pl.col("weight").sort().sum())
        .sort("month", "weight", "group")
        .with_columns((pl.col("weight") / pl.col("weight").sum().over("month")).alias("share"))
        .sort(["month", "share", "group"], descending=[False, True, False])
    )
    return table


def _base_reach(graph: dict, start: np.ndarray) -> np.ndarray:
    n = graph["nodes"].height
    child, parent = graph["child"], graph["parent"]
    order = np.argsort(parent, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(parent, minlength=n))])
    seen = np.zeros(n, bool)
    seen[start] = True
    frontier = start
    while frontier.size:
        counts = starts[frontier + 1] - starts[frontier]
        idx = np.repeat(starts[frontier], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        kids = np.unique(child[order[idx]])
        kids = kids[~seen[kids]]
        seen[kids] = True
        frontier = kids
    return np.flatnonzero(seen)


def _base_descendants(graph: dict, idx: int) -> pl.DataFrame:
    """Descendants by depth and the relation of the edge that first reached them."""
    n = graph["nodes"].height
    child, parent = graph["child"], graph["parent"]
    relation = graph["edges"]["relation"].to_numpy()
    guess = graph["edges"]["guess"].to_numpy()
    guessed = np.zeros(n, bool)
    order = np.argsort(parent, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(parent, minlength=n))])
    seen = np.zeros(n, bool)
    seen[idx] = True
    frontier, depth, rows = np.array([idx]), 0, []
    while frontier.size:
        counts = starts[frontier + 1] - starts[frontier]
        idx_ = np.repeat(starts[frontier], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        via = order[idx_]
        kids = child[via]
        keep = ~seen[kids]
        via, kids = via[keep], kids[keep]
        _, first = np.unique(kids, return_index=True)
        first.sort()
        via, kids = via[first], kids[first]
        seen[kids] = True
        guessed[kids] = guessed[parent[via]] | guess[via]
        depth += 1
        rows.append(
            pl.DataFrame(
                {
                    "depth": np.full(kids.size, depth),
                    "relation": relation[via],
                    "lineage": np.where(guessed[kids], "inferred", "declared"),
                },
                schema={"depth": pl.Int64, "relation": pl.String, "lineage": pl.String},
            )
        )
        frontier = kids
    return (
        pl.concat(rows)
        .group_by("depth", "relation", "lineage")
        .len("count")
        .sort("depth", "relation", "lineage")
    )


# -- running and comparing -------------------------------------------------------------------


COMMANDS = {
    # name: (lineage arguments, how to read its output for the comparison)
    "share": (["share", "--format", "csv"], "csv"),
    "share-family": (["share", "--by", "family", "--format", "csv"], "csv"),
    "share-both": (["share", "--lineage", "both", "--format", "csv"], "csv"),
    "families": (["families", "--format", "csv"], "csv"),
    "info": (["info", "--format", "json"], "json"),
    "tree": (["tree", "ROOT", "--format", "csv"], "tree"),
    "quality": (["quality", "--format", "csv"], None),
    "export-html": (["export", "html", "--root", "ORG", "-o", "OUT"], None),
}


BASELINES = ("share", "share-family", "share-both", "families", "info", "tree", "export-html")


def run(args: list[str]) -> tuple[float, float, bytes, float]:
    """Wall seconds, peak RSS (MiB, the command's own: see benchmarks/peak.py), stdout and
    CPU seconds (user + system, every thread) of one process: on a shared machine the CPU
    time says what the wall time cannot."""
    wall, peak, out, cpu, code = run_command(args)
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed with {code}")
    return wall, peak, out, cpu


def agree(name: str, ours: bytes, theirs: pl.DataFrame) -> str:
    kind = COMMANDS[name][1]
    if kind is None:
        return "not compared"
    if kind == "json":
        got = json.loads(ours)
        got["edges_by_relation"] = json.dumps(got["edges_by_relation"])
        got["problems"] = sum(got["problems_by_kind"].values())
        same = all(got[c] == theirs[c][0] for c in theirs.columns)
        return (
            "identical"
            if same
            else f"DIFFER: {[(c, got[c], theirs[c][0]) for c in theirs.columns]}"
        )
    frame = pl.read_csv(ours, infer_schema_length=None)
    if kind == "tree":
        frame = frame.filter(pl.col("section") == "descendants").select(theirs.columns)
    if frame.shape != theirs.shape:
        return f"DIFFER: shape {frame.shape} vs {theirs.shape}"
    for column in theirs.columns:
        a, b = frame[column], theirs[column]
        if a.dtype.is_float() or b.dtype.is_float():
            if not np.allclose(
                a.cast(pl.Float64).to_numpy(), b.cast(pl.Float64).to_numpy(), rtol=1e-9, atol=1e-12
            ):
                return f"DIFFER in {column}"
        elif a.cast(pl.String).to_list() != b.cast(pl.String).to_list():
            return f"DIFFER in {column}"
    return "identical"


def build_store(population: str, models: int) -> Path:
    store = CACHE / f"{population}-{models}"
    if (store / "models.parquet").exists():
        return store
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if population == "independent":
        dump = CACHE / f"population-{models}.parquet"
        subprocess.run(
            [sys.executable, str(HERE.parent / "population.py"), str(models), str(dump)], check=True
        )
        subprocess.run(
            [
                "lineage",
                "ingest",
                "hub-stats",
                str(dump),
                "--date",
                "2026-06-30",
                "--store",
                str(store),
                "--quiet",
            ],
            check=True,
        )
    else:  # in a child process: this one forks the measured ones, and their peak RSS
        # would start from whatever this process holds
        build = (
            "import datetime as dt, sys\n"
            "from lineage.records import parse_raw\n"
            "from lineage.store import Store\n"
            "from lineage.testing.synthetic import generate\n"
            "raw = generate(int(sys.argv[1]), seed=0).raw\n"
            "batch = parse_raw(raw, seen_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), "
            "source='synthetic')\n"
            "Store(sys.argv[2]).commit(batch)\n"
        )
        subprocess.run([sys.executable, "-c", build, str(models), str(store)], check=True)
    print(f"built {store} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", choices=["independent", "synthetic"], default="independent")
    parser.add_argument("--models", type=int, default=2_500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="commands to measure [default: all]")
    parser.add_argument(
        "--at",
        type=Path,
        help="measure the store in this directory instead of building one (its derived/ "
        "is deleted and rebuilt: give a copy)",
    )
    parser.add_argument("--baseline", help=argparse.SUPPRESS)  # internal: one baseline run
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:
        table = baseline(args.baseline, args.store, args.root)
        sys.stdout.write(table.write_ipc(None).getvalue().hex())
        return 0

    store = args.at if args.at is not None else build_store(args.population, args.models)
    lineage = [sys.executable, "-m", "lineage"]
    report: dict = {"population": args.population, "models": args.models, "store": str(store)}
    if not (store / "inferred_edges.parquet").exists():
        wall, peak, _, _ = run([*lineage, "infer", "--store", str(store), "--quiet"])
        report["infer"] = {"wall_s": round(wall, 1), "peak_mb": round(peak)}
    shutil.rmtree(store / "derived", ignore_errors=True)
    wall, peak, _, _ = run([*lineage, "share", "--store", str(store), "--format", "csv"])
    report["cold share (builds and keeps the state)"] = {
        "wall_s": round(wall, 2),
        "peak_mb": round(peak),
    }
    fam = pl.read_csv(
        run([*lineage, "families", "--store", str(store), "--format", "csv", "--top", "1"])[2]
    )
    root, org = fam["family"][0], fam["org"][0]
    report["tree root"], report["export org"] = root, org
    rows = []
    for name, (words, _) in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        words = [
            w.replace("ROOT", root).replace("ORG", org).replace("OUT", str(CACHE / "page.html"))
            for w in words
        ]
        mine, theirs = [], []
        run([*lineage, *words, "--store", str(store)])  # a first need keeps its state
        for _ in range(args.runs):
            mine.append(run([*lineage, *words, "--store", str(store)]))
            if name in BASELINES:
                target = root if name == "tree" else org
                base = [sys.executable, str(HERE), "--baseline", name, "--store", str(store)]
                theirs.append(run([*base, "--root", target]))
        m_wall = statistics.median(r[0] for r in mine)
        m_cpu = statistics.median(r[3] for r in mine)
        if not theirs:  # quality: a target of its own (2 s), no baseline written
            rows.append(
                {
                    "command": "lineage " + " ".join(words),
                    "lineage_s": round(m_wall, 2),
                    "lineage_cpu_s": round(m_cpu, 2),
                    "lineage_peak_mb": round(max(r[1] for r in mine)),
                    "load": os.getloadavg()[0],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            continue
        answer = pl.read_ipc(bytes.fromhex(theirs[-1][2].decode()))
        b_wall = statistics.median(r[0] for r in theirs)
        rows.append(
            {
                "command": "lineage " + " ".join(words),
                "baseline_s": round(b_wall, 2),
                "lineage_s": round(m_wall, 2),
                "ratio": round(b_wall / m_wall, 1),
                "baseline_cpu_s": round(statistics.median(r[3] for r in theirs), 2),
                "lineage_cpu_s": round(m_cpu, 2),
                "lineage_peak_mb": round(max(r[1] for r in mine)),
                "baseline_peak_mb": round(max(r[1] for r in theirs)),
                "outputs": agree(name, mine[-1][2], answer),
                "load": os.getloadavg()[0],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    report["rows"] = rows
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
