"""An independent population of Hub models, written as a hub-stats dump, for benchmarks.

Written apart from :mod:`lineage.testing.synthetic` (it shares no code, constant or
drawing order with it), so that a benchmark measured on both says something about lineage
rather than about one generator. Its shapes come from real data in ``../shared/data`` (read
when present, with the fallbacks below when not):

- **ids**: namespaces and name stems of the 30k real text-generation edges of
  ``hf-llm-edges-hakanotal`` (6k namespaces such as ``TheBloke``, ``tensorblock``), plus
  generated user names, so ids have real lengths (mean ~39 characters) and shapes
  (``Org/Name-7B-Instruct-GGUF``);
- **depth**: derivatives below a root at depth 1: 46%, 2: 31%, 3: 17%, 4: 3.6%, deeper: the
  rest, down to 16 (the same edges' longest paths);
- **relations**: the whole Hub's declared mix in ``modelrank-aggregates`` (July 2024 to Feb
  2026: adapter 43%, finetune 36%, quantized 19%, merge 2%); merges have 2-4 parents;
- **how many declare**: 28% of models declare a parent (the Hub in Oct 2025);
- **families**: depth-1 parents drawn from bases with weights 1/rank^1.4, so the biggest
  family holds about a third of all derivatives (Llama- and Qwen-sized families of 100k+).

And the mess that analysis must take: 1% of declarations in another case, 0.3% naming a
parent that does not exist, 1,250 pairs of models declaring each other (2-node cycles, with
models below them), and 8% of the models that declare nothing named after a model they
derive from (``someone/Base-7B-GGUF``), for ``lineage infer``.

    python benchmarks/population.py 2500000 /tmp/pop.parquet [--seed 7]
    lineage ingest hub-stats /tmp/pop.parquet --date 2026-06-30 --store /tmp/pop-store
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "data"
START = dt.datetime(2022, 3, 2)
END = dt.datetime(2026, 6, 30)
DECLARED = 0.28
DEPTH_P = np.array([12318, 8374, 4578, 970, 273, 108, 49, 36, 25, 28, 22, 17, 11, 4, 3, 1], float)
RELATIONS = ("adapter", "finetune", "quantized", "merge")
RELATION_P = np.array([0.43, 0.36, 0.19, 0.02])
SUFFIX = {
    "adapter": ["lora", "LoRA", "adapter", "qlora"],
    "finetune": ["sft", "dpo", "Instruct", "chat", "v2", "orpo", "it"],
    "quantized": ["GGUF", "AWQ", "GPTQ", "exl2-4bpw", "MLX-4bit", "bnb-4bit", "i1-GGUF"],
    "merge": ["merge", "slerp", "ties", "della"],
}
LIBRARY = {"adapter": "peft", "finetune": "transformers", "quantized": "gguf", "merge": None}
CYCLES = 1250


def real_pools(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Namespaces and name stems from real ids (or made-up ones without the data)."""
    edges = DATA / "hf-llm-edges-hakanotal" / "edges.csv"
    if edges.exists():
        ids = pl.read_csv(edges).select(pl.concat_list("source", "target")).explode("source")
        ids = ids["source"].unique().sort()
        parts = ids.str.split_exact("/", 1).struct.unnest()
        spaces = parts["field_0"].unique().sort().to_list()
        stems = (
            parts["field_1"]
            .drop_nulls()
            .str.replace(r"(?i)[-_.](gguf|awq|gptq|exl2.*|mlx.*|lora|i1|q\d.*)$", "")
            .unique()
            .sort()
            .to_list()
        )
    else:
        spaces = [f"lab{i}" for i in range(5000)]
        stems = [f"Model-{i}B" for i in range(20000)]
    users = [
        f"{w}{n}"
        for w, n in zip(rng.choice(["dev", "ai", "hf", "ml"], 60000), range(60000), strict=True)
    ]
    return spaces + users, stems


def real_mainline(rng: np.random.Generator) -> list[str]:
    """ATOM's mainline model ids, shuffled (made-up ones in real labs without the data)."""
    table = DATA / "atom-tracked-models" / "models.csv"
    if table.exists():
        ids = pl.read_csv(table)["modelId"].drop_nulls().unique().sort().to_list()
    else:
        labs = ["Qwen", "meta-llama", "mistralai", "google", "deepseek-ai", "microsoft"]
        ids = [f"{lab}/Base-{i}B" for lab in labs for i in range(1, 60)]
    return [ids[i] for i in rng.permutation(len(ids))]


def generate(models: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    spaces, stems = real_pools(rng)
    n_derived = int(models * DECLARED)
    n_roots = models - n_derived
    # Depth of each derivative, then parents: depth 1 under bases (Zipf), deeper ones under
    # a derivative one level up (the earlier ones of a level slightly preferred).
    depth = rng.choice(np.arange(1, DEPTH_P.size + 1), n_derived, p=DEPTH_P / DEPTH_P.sum())
    depth.sort()
    n_bases = min(60_000, n_roots)
    base_weight = 1.0 / np.arange(1, n_bases + 1) ** 1.4
    derived_node = n_roots + np.arange(n_derived)
    parent = np.full(models, -1, dtype=np.int64)
    level_nodes = {0: rng.permutation(n_roots)[:n_bases]}  # bases, most popular first
    for d in range(1, DEPTH_P.size + 1):
        here = derived_node[depth == d]
        if here.size == 0:
            continue
        above = level_nodes.get(d - 1)
        if above is None or above.size == 0:
            above = level_nodes[0]
        if d == 1:
            parent[here] = above[rng.choice(n_bases, here.size, p=base_weight / base_weight.sum())]
        else:
            pick = np.minimum(
                (rng.pareto(1.2, here.size) * above.size / 8).astype(int), above.size - 1
            )
            parent[here] = above[pick]
        level_nodes[d] = here
    relation = rng.choice(4, models, p=RELATION_P)
    relation[:n_roots] = -1
    # Merges: 1-3 more parents from the same level as the first.
    merges = derived_node[relation[derived_node] == 3]
    extra_parents = {int(m): [] for m in merges}
    for m in merges:
        pool = level_nodes[max(int(depth[m - n_roots]) - 1, 0)]
        extra_parents[int(m)] = rng.choice(pool, rng.integers(1, 4)).tolist()

    # Dates: roots spread over the Hub's life (a tenth floored at its first day), children
    # after their parents.
    span = (END - START).total_seconds()
    created = np.empty(models)
    created[:n_roots] = rng.uniform(0, span, n_roots) * (rng.random(n_roots) > 0.1)
    for d in range(1, DEPTH_P.size + 1):
        here = level_nodes.get(d)
        if here is None:
            continue
        created[here] = np.minimum(
            created[parent[here]] + rng.exponential(45 * 86400, here.size), span
        )
    # Names: a stem and a namespace; derivatives take their first parent's stem + a suffix.
    space = np.array(spaces, dtype=object)[rng.integers(0, len(spaces), models)]
    big = rng.random(models) < 0.3  # popular orgs publish many
    space[big] = np.array(spaces[:300], dtype=object)[rng.integers(0, 300, int(big.sum()))]
    name = np.empty(models, dtype=object)
    name[:n_roots] = np.array(stems, dtype=object)[rng.integers(0, len(stems), n_roots)]
    # The most popular bases are the mainline models ATOM tracks (real organizations, whose
    # regions the packaged table knows), in a seeded order.
    mainline = real_mainline(rng)
    top = level_nodes[0][: len(mainline)]
    space[top] = [m.split("/")[0] for m in mainline[: top.size]]
    name[top] = [m.split("/")[1] for m in mainline[: top.size]]
    for d in range(1, DEPTH_P.size + 1):
        here = level_nodes.get(d)
        if here is None:
            continue
        words = [SUFFIX[RELATIONS[r]] for r in relation[here]]
        picks = [w[i % len(w)] for w, i in zip(words, rng.integers(0, 7, here.size), strict=True)]
        name[here] = [f"{n}-{s}" for n, s in zip(name[parent[here]], picks, strict=True)]
    frame = pl.DataFrame({"space": space.tolist(), "name": name.tolist()}).with_columns(
        pl.concat_str("space", pl.lit("/"), "name").alias("id")
    )
    # Unique ids: a repeat gets a version number, as people do (until none repeats).
    while frame["id"].is_duplicated().any():
        repeat = pl.col("id").cum_count().over("id")
        frame = frame.with_columns(
            pl.when(repeat > 1)
            .then(pl.concat_str("id", pl.lit("-v"), repeat.cast(pl.String)))
            .otherwise("id")
            .alias("id")
        )
    ids = frame["id"].to_numpy().astype(object)
    assert len(set(ids.tolist())) == models

    # Declarations, with the mess.
    declared: list[list[str]] = [[] for _ in range(models)]
    for i in derived_node:
        declared[i] = [ids[parent[i]], *(ids[p] for p in extra_parents.get(int(i), []))]
    mess = rng.random(n_derived)
    for i, u in zip(derived_node, mess, strict=True):
        if u < 0.01:
            declared[i][0] = (
                declared[i][0].lower()
                if declared[i][0] != declared[i][0].lower()
                else declared[i][0].upper()
            )
        elif u < 0.013:
            declared[i][0] = f"deleted-{i}/{name[parent[i]]}"
    # 2-node cycles: pairs at depth 1 that also declare each other.
    pairs = rng.choice(level_nodes[1], 2 * CYCLES, replace=False).reshape(-1, 2)
    for a, b in pairs:
        declared[a].append(ids[b])
        declared[b].append(ids[a])
    # Undeclared derivatives named after a model (for infer): among roots that are not bases.
    plain = np.setdiff1d(np.arange(n_roots), level_nodes[0])
    copycats = rng.choice(plain, int(0.08 * plain.size), replace=False)
    targets = rng.choice(np.concatenate([level_nodes[0][:5000], level_nodes[1]]), copycats.size)
    fmt = rng.choice(SUFFIX["quantized"] + SUFFIX["finetune"], copycats.size)
    copy_ids = [f"{space[c]}/{name[t]}-{f}" for c, t, f in zip(copycats, targets, fmt, strict=True)]
    taken = set(ids.tolist())
    for c, t, new in zip(copycats, targets, copy_ids, strict=True):
        if new not in taken:  # renamed after what it copies, and newer than it
            taken.discard(ids[c])
            taken.add(new)
            ids[c] = new
            created[c] = max(created[c], created[t])

    # Tags and baseModels column-wise: one row per declaration, grouped back per model.
    rel = pl.Series("relation", [*RELATIONS, None], pl.String).gather(
        np.where(relation < 0, 4, relation)
    )
    rows = [(i, n, p) for i, parents in enumerate(declared) for n, p in enumerate(parents)]
    del declared
    decl = pl.DataFrame(
        rows, schema={"row": pl.UInt32, "n": pl.Int32, "parent": pl.String}, orient="row"
    )
    del rows
    decl = decl.with_columns(rel.gather(decl["row"]).alias("relation"))
    per_model = (
        decl.sort("row", "n")
        .group_by("row", maintain_order=True)
        .agg(
            pl.concat_list(
                pl.concat_str(pl.lit("base_model:"), "parent"),
                pl.concat_str(pl.lit("base_model:"), "relation", pl.lit(":"), "parent"),
            )
            .list.explode(keep_nulls=False, empty_as_null=False)
            .alias("decl_tags"),
            pl.struct(
                pl.concat_str(pl.lit("x"), pl.col("row").cast(pl.String)).alias("_id"),
                pl.col("parent").alias("id"),
            ).alias("models"),
            pl.col("relation").first(),
        )
    )
    del decl
    downloads = np.floor(rng.lognormal(1.5, 2.2, models)).astype(np.int64)
    all_time = downloads + np.floor(rng.lognormal(2.0, 2.4, models)).astype(np.int64)
    frame = (
        pl.DataFrame({"id": ids.tolist()})
        .with_row_index("row")
        .join(per_model, on="row", how="left", maintain_order="left")
        .select(
            "id",
            pl.col("id").str.extract(r"^([^/]+)/").alias("author"),
            pl.Series(
                "createdAt",
                np.datetime64(START, "us") + np.round(created * 1e6).astype("timedelta64[us]"),
            ),
            pl.Series("downloads", downloads),
            pl.Series("downloadsAllTime", all_time),
            pl.Series("likes", downloads // 50),
            pl.lit(0.0).alias("trendingScore"),
            pl.when(pl.col("decl_tags").is_null())
            .then(pl.lit(["transformers", "safetensors"]))
            .otherwise(
                pl.concat_list(
                    pl.when(pl.col("relation") == "quantized")
                    .then(pl.lit("gguf"))
                    .otherwise(pl.lit("transformers")),
                    "decl_tags",
                )
            )
            .alias("tags"),
            pl.lit(None, pl.String).alias("cardData"),
            pl.lit(None, pl.String).alias("gguf"),
            pl.when(pl.col("models").is_not_null())
            .then(pl.struct("relation", "models"))
            .alias("baseModels"),
            pl.lit("text-generation").alias("pipeline_tag"),
            pl.col("relation")
            .replace_strict(LIBRARY, default="transformers", return_dtype=pl.String)
            .alias("library_name"),
            pl.lit(
                None, pl.Struct({"parameters": pl.Struct({"BF16": pl.Int64}), "total": pl.Int64})
            ).alias("safetensors"),
        )
        .with_columns(pl.col("createdAt").alias("lastModified"))
    )
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    frame = generate(args.models, args.seed)
    frame.write_parquet(args.out)
    print(
        json.dumps(
            {
                "models": frame.height,
                "declaring": int(frame["baseModels"].is_not_null().sum()),
                "seconds": round(time.perf_counter() - started, 1),
                "path": str(args.out),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
