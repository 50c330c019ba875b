"""hub-stats ingest: wall time and peak memory of `lineage ingest hub-stats` on a full-size dump.

Generates a synthetic dump in the real hub-stats schema (column-wise, seeded; cached under
/tmp between runs): about 28% of models declare parents (tags + baseModels + cardData), a
tenth of those are merges of 2-4 parents, 2% in their card alone (parents the Hub did not
resolve: no tags, no baseModels), tag lists of about 8 tags, cardData JSON strings of
300-1500 bytes, GGUF metadata on GGUF repos, safetensors structs. Then, each in a child
process pinned to 2 CPUs (``ingest_hub_stats``, what `lineage ingest hub-stats PATH` calls):

1. the dump into a fresh store;
2. the next day's dump into the now full store (every record replaced: a compaction), then
   the day after's, as the Hub has it: 0.2% of models new and 0.02% gone (day 1's dump lists
   exactly day 0's models, which a real next day never does);
3. an older dump (a week before: 1% of today's newest models not yet created, 0.5% of
   models since deleted, other counters) into the full store: what each dump of a backfill
   costs once the store holds the newest (only its ids and counters are read, and the rows
   it makes current parsed).

Each child's dump is read through just before it starts (in the page cache, as a dump just
downloaded is: this machine's cache empties within minutes, and a cold read's disk time
varied by seconds from run to run). Steps 1 and 2 run in rounds (``--rounds``, default 3),
each with its own runs of the competent baselines just before them: each ratio is taken
against its own round's baseline, and the median of the rounds is printed with their range
(this 2-core machine's speed drifts by a third between minutes; one baseline run for the
whole bench moved every ratio with it).

Baselines, in the same run:

- **competent polars, identical tables** (issue 21's yardstick: "outputs identical"): what
  a skilled analyst writes in an afternoon to get lineage's tables from the dump, as lineage
  keeps them: the columns the models table keeps (GGUF's architecture and parameter count
  with ``json_path_match``) in id order, keyed by that order (lineage's keys of a fresh
  store), and the day's counters by key (lineage's snapshot), both sunk from one query; then
  the columns the edges need read once, parents column-wise from the ``base_model:`` tags,
  else ``baseModels``, else the card's ``base_model`` (read only from cards that contain the
  word), each model's together and numbered (lineage's edges are in child order). No
  relation inference, problems or atomic commit. The bench checks, on the first round, that
  its edges are lineage's (child, parent) pairs. Target: ingest into a fresh store <= 1.5x
  its wall time, <= 3 GB peak RSS. The next day and the day after are held to the same
  fresh-store yardstick (an analyst's next day would also read the stored keys: more work).
- **competent polars, the same tables in the dump's order**: the same, unsorted, unkeyed,
  without the snapshot (the yardstick of the eighth pass). Ratios to it are printed beside.
- **competent polars, the floor**: that without GGUF's columns and without reading the
  cards (80% of the dump's bytes): fast, and short of the job (it misses the parents
  declared in cards alone, which the bench shows). Ratios to it are printed beside.
- the **naive** ingest, measured on a subset and extrapolated linearly (labelled as such):
  read rows as Python dicts, ``json.loads`` every cardData, rebuild the API JSON items, then
  ``raw_from_items`` + ``parse_raw`` + one commit.

Targets: ingest <= 1.5x competent polars writing identical tables and <= 3 GB (issue 21);
an older dump into the full store <= 16 s and <= 6 GB (issue 20: 110 dumps in 30 min).

    python benchmarks/bench_ingest.py              # 2,500,000 rows
    python benchmarks/bench_ingest.py --quick      # 200,000 rows
    python benchmarks/bench_ingest.py --rows 1000000 --naive-rows 50000
    python benchmarks/bench_ingest.py --dump /tmp/pop.parquet   # another dump, fresh store only

``--dump`` measures a fresh-store ingest of any hub-stats dump (such as the independent
population ``benchmarks/population.py`` writes) against the baselines, ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/support
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import self_peak_mb
from support.hubstats_dump import HUB_STATS_SCHEMA, SAFETENSORS_DTYPES

CACHE = Path(tempfile.gettempdir()) / "lineage-bench-ingest"
# Bumped when generate() changes: a cached dump of another version is not this bench's.
# (2: 2% of derivatives declare their parents in the card alone.)
DUMP_VERSION = 2
ARCHS = ["llama", "qwen2", "mistral", "gemma2", "phi3", "qwen3", "gpt2", "bert", "t5", "whisper"]
LIBRARIES = ["transformers", "peft", "gguf", "mlx", "diffusers", "sentence-transformers"]
PIPELINES = ["text-generation", "text-classification", "image-text-to-text", "feature-extraction"]
LICENSES = ["apache-2.0", "mit", "llama3.1", "other", "cc-by-4.0"]
RELATIONS = ["finetune", "quantized", "adapter", "merge"]
RELATION_P = [0.45, 0.25, 0.20, 0.10]
TEMPLATE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content"
    " + '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>"
    "assistant\\n' }}{%- endif %}"
) * 6


@functools.cache
def prose() -> pl.Series:
    """Card prose: slices of a long random text, so the dump compresses like real cards do
    (a repeated sentence would compress far better than real model cards). Built when a
    dump is generated, not at import: the measured children import this file too."""
    words = np.random.default_rng(0).integers(0, 26, (6000, 7))
    vocabulary = ["".join(chr(97 + c) for c in word[: 2 + word[0] % 6]) for word in words]
    return pl.Series(
        [" ".join(row) for row in np.random.default_rng(1).choice(vocabulary, (20_000, 260))]
    )


def generate(rows: int, seed: int = 7) -> pl.DataFrame:
    """A synthetic hub-stats models table of ``rows`` rows, built column-wise."""
    rng = np.random.default_rng(seed)
    index = np.arange(rows)
    n_authors = max(1000, rows // 12)
    author = rng.zipf(1.4, rows) % n_authors
    arch = rng.integers(0, len(ARCHS), rows)
    library = rng.choice(len(LIBRARIES), rows, p=[0.6, 0.15, 0.1, 0.05, 0.05, 0.05])
    created = np.datetime64("2022-03-02") + rng.integers(0, 4 * 365 * 86400, rows).astype(
        "timedelta64[s]"
    )
    created = np.sort(created).astype("datetime64[us]")  # parents precede children

    # Derivatives: 28% of models, none among the first 1% (they need earlier parents).
    derived = (rng.random(rows) < 0.28) & (index >= rows // 100)
    relation = np.where(derived, rng.choice(4, rows, p=RELATION_P), -1)
    n_parents = np.where(relation == 3, rng.integers(2, 5, rows), 1) * derived
    child = np.repeat(index, n_parents)
    # Most parents are popular bases among the oldest 2000 repos; the rest any earlier repo.
    popular = rng.random(child.size) < 0.6
    parent = np.where(
        popular,
        rng.integers(0, np.minimum(2000, np.maximum(child, 1))),
        (rng.random(child.size) * child).astype(np.int64),
    )

    base = pl.DataFrame(
        {
            "i": index,
            "author": pl.Series(author).cast(pl.String),
            "arch": pl.Series(np.array(ARCHS)[arch]),
            "library_name": pl.Series(np.array(LIBRARIES)[library]),
            "relation": pl.Series(np.array([*RELATIONS, ""])[relation]),
        }
    ).with_columns(
        pl.when(pl.col("i") < 50)
        .then(pl.lit("org-") + pl.col("i").cast(pl.String))
        .otherwise(pl.lit("user") + pl.col("author"))
        .alias("author"),
        pl.when(pl.col("relation") == "")
        .then(None)
        .otherwise(pl.col("relation"))
        .alias("relation"),
    )
    base = base.with_columns(
        pl.format(
            "{}/{}-{}-{}",
            "author",
            "arch",
            pl.when(pl.col("relation") == "quantized")
            .then(pl.lit("GGUF"))
            .otherwise(pl.col("relation").fill_null("base")),
            "i",
        ).alias("id")
    )
    ids = base["id"]
    edges = pl.DataFrame({"i": child, "parent": ids.gather(parent)})
    parents = edges.group_by("i", maintain_order=True).agg(pl.col("parent"))
    frame = base.join(parents, on="i", how="left").join(
        edges.join(base.select("i", "relation"), on="i")
        .group_by("i", maintain_order=True)
        .agg(
            pl.concat_list(
                pl.lit("base_model:") + pl.col("parent"),
                pl.lit("base_model:") + pl.col("relation") + pl.lit(":") + pl.col("parent"),
            )
            .list.explode(keep_nulls=False, empty_as_null=False)
            .alias("lineage_tags")
        ),
        on="i",
        how="left",
    )

    n = rows
    quoted = pl.col("parent").list.eval(pl.lit('"') + pl.element() + pl.lit('"')).list.join(", ")
    card_base = (
        pl.when(pl.col("parent").is_null())
        .then(pl.lit(""))
        .when(pl.lit(pl.Series(rng.random(n) < 0.01)))
        .then(
            pl.format('"base_model": "https://huggingface.co/{}", ', pl.col("parent").list.first())
        )
        .when((pl.col("parent").list.len() == 1) & pl.lit(pl.Series(rng.random(n) < 0.5)))
        .then(pl.format('"base_model": {}, ', quoted))
        .otherwise(pl.format('"base_model": [{}], ', quoted))
    )
    card_relation = (
        pl.when(pl.col("relation").is_not_null() & pl.lit(pl.Series(rng.random(n) < 0.3)))
        .then(pl.format('"base_model_relation": "{}", ', "relation"))
        .otherwise(pl.lit(""))
    )
    pad = pl.lit(prose().gather(rng.integers(0, prose().len(), n))).str.slice(
        pl.lit(pl.Series(rng.integers(0, 200, n))), pl.lit(pl.Series(rng.integers(100, 1200, n)))
    )
    card = pl.concat_str(
        pl.lit('{"license": "'),
        pl.lit(pl.Series(np.array(LICENSES)[rng.integers(0, len(LICENSES), n)])),
        pl.lit('", "language": ["en"], '),
        card_base,
        card_relation,
        pl.lit('"library_name": "'),
        "library_name",
        pl.lit('", "tags": ["'),
        "arch",
        pl.lit('", "generated_from_trainer"], "datasets": ["org-1/data-'),
        (pl.col("i") % 997).cast(pl.String),
        pl.lit('"], "model-index": [{"name": "'),
        "id",
        pl.lit('", "results": []}], "description": "'),
        pad,
        pl.lit('"}'),
    )
    no_card = pl.col("parent").is_null() & pl.lit(pl.Series(rng.random(n) < 0.2))

    tags = pl.concat_list(
        pl.col("library_name"),
        pl.lit("safetensors"),
        pl.col("arch"),
        pl.lit(pl.Series(np.array(PIPELINES)[rng.integers(0, len(PIPELINES), n)])),
        pl.lit("license:apache-2.0"),
        pl.lit("endpoints_compatible"),
        pl.lit("region:us"),
        pl.lit("conversational"),
    )
    tags = (
        pl.when(pl.col("lineage_tags").is_null())
        .then(tags)
        .otherwise(pl.concat_list(tags, pl.col("lineage_tags")))
    )

    total = pl.lit(pl.Series(rng.integers(10**7, 10**11, n)))
    has_weights = pl.lit(pl.Series(rng.random(n) < 0.55))
    dtype_fields = [
        (total if name == "BF16" else pl.lit(None, pl.Int64)).alias(name)
        for name in SAFETENSORS_DTYPES
    ]
    safetensors = (
        pl.when(has_weights)
        .then(pl.struct(pl.struct(dtype_fields).alias("parameters"), total.alias("total")))
        .otherwise(None)
    )
    base_models = (
        pl.when(pl.col("parent").is_not_null())
        .then(
            pl.struct(
                pl.col("relation").alias("relation"),
                pl.col("parent")
                .list.eval(
                    pl.struct(
                        pl.element().hash().cast(pl.String).str.slice(0, 24).alias("_id"),
                        pl.element().alias("id"),
                    )
                )
                .alias("models"),
            )
        )
        .otherwise(None)
    )
    gguf = (
        pl.when(pl.col("library_name") == "gguf")
        .then(
            pl.concat_str(
                pl.lit('{"total": '),
                total.cast(pl.String),
                pl.lit(', "architecture": "'),
                "arch",
                pl.lit('", "context_length": 32768, "chat_template": "'),
                pl.lit(TEMPLATE.replace('"', '\\"')),
                pl.lit('", "bos_token": "<s>", "eos_token": "</s>"}'),
            )
        )
        .otherwise(None)
    )
    downloads = rng.lognormal(1.5, 2.5, n).astype(np.int64)
    # 2% of derivatives declare their parents in the card alone: the Hub did not resolve
    # them (a repo renamed, private or gone), so no base_model: tags, no baseModels. Drawn
    # last: every other value is what the dump without them had.
    card_only = pl.col("parent").is_not_null() & pl.lit(pl.Series(rng.random(n) < 0.02))
    tags = pl.when(card_only).then(tags.list.head(8)).otherwise(tags)
    base_models = pl.when(card_only).then(None).otherwise(base_models)
    out = frame.sort("i").select(
        "id",
        "author",
        pl.lit(pl.Series(created)).cast(pl.Datetime("us")).alias("createdAt"),
        (pl.lit(pl.Series(created)).cast(pl.Datetime("us")) + pl.duration(days=3)).alias(
            "lastModified"
        ),
        pl.lit(pl.Series(downloads)).alias("downloads"),
        pl.lit(pl.Series(downloads * rng.integers(1, 20, n))).alias("downloadsAllTime"),
        pl.lit(pl.Series((downloads // 500).astype(np.int64))).alias("likes"),
        pl.lit(pl.Series(rng.random(n))).alias("trendingScore"),
        tags.alias("tags"),
        pl.when(no_card).then(None).otherwise(card).alias("cardData"),
        safetensors.alias("safetensors"),
        gguf.alias("gguf"),
        base_models.alias("baseModels"),
        pl.lit(pl.Series(np.array(PIPELINES)[rng.integers(0, len(PIPELINES), n)])).alias(
            "pipeline_tag"
        ),
        "library_name",
    )
    return out.cast(HUB_STATS_SCHEMA)


def dump_path(rows: int, seed: int, day: int) -> Path:
    """The cached dump for (rows, seed), day 0 or the next day's (counters moved on)."""
    path = CACHE / f"models-{rows}-{seed}-v{DUMP_VERSION}-day{day}.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frame = generate(rows, seed)
    if day:
        frame = frame.with_columns(pl.col("downloads") + day, pl.col("downloadsAllTime") + day)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    tmp.rename(path)
    print(
        f"generated {path} ({rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB) in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return path


def older_dump_path(rows: int, seed: int) -> Path:
    """A week before day 0: without the newest 1% of models, with 0.5% more (deleted since),
    other counters."""
    path = CACHE / f"models-{rows}-{seed}-v{DUMP_VERSION}-older.parquet"
    if path.exists():
        return path
    today = pl.read_parquet(dump_path(rows, seed, 0))
    kept = today.head(today.height - today.height // 100)
    deleted = today.sample(n=today.height // 200, seed=seed).with_columns(
        (pl.col("id") + "-deleted").alias("id")
    )
    frame = pl.concat([kept, deleted]).with_columns(
        (pl.col("downloads") // 2).alias("downloads"),
        (pl.col("downloadsAllTime") - pl.col("downloads") // 2).alias("downloadsAllTime"),
    )
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    tmp.rename(path)
    return path


def moved_dump_path(rows: int, seed: int) -> Path:
    """The day after day 1 as the Hub has it: day 1's dump with 0.2% of models new (5,000 at
    2.5M) and 0.02% gone (500), counters moved on. Day 1's own dump lists exactly day 0's
    models, which a real next day never does (the commit then pairs the records row for row)."""
    path = CACHE / f"models-{rows}-{seed}-v{DUMP_VERSION}-moved.parquet"
    if path.exists():
        return path
    day1 = pl.read_parquet(dump_path(rows, seed, 1))
    new = day1.sample(n=rows // 500, seed=seed + 1).with_columns(
        (pl.col("id") + "-new").alias("id")
    )
    gone = day1.sample(n=rows // 5000, seed=seed + 2).select("id")
    frame = pl.concat([day1.join(gone, on="id", how="anti", maintain_order="left"), new])
    frame = frame.with_columns(pl.col("downloads") + 1, pl.col("downloadsAllTime") + 1)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    tmp.rename(path)
    return path


def warm(path: Path) -> None:
    """Read a file through, so the child that reads it next finds it in the page cache.

    This machine's page cache is emptied within minutes of a read (the VM hands free pages
    back): a dump read cold costs 2 s or more of disk at ~380 MB/s, more for lineage (it
    reads the cards, 80% of the file's bytes) than for the baseline, and by chance. Warm,
    each child's time is its own work."""
    with open(path, "rb") as file:
        while file.read(1 << 23):
            pass


def measured(command: list[str], reads: Path | None = None) -> dict:
    """Run a child pinned to 2 CPUs (``reads`` warmed first); its wall and CPU seconds, peak
    RSS and JSON report."""
    if reads is not None:
        warm(reads)
    cpus = sorted(os.sched_getaffinity(0))[:2]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "POLARS_MAX_THREADS": str(len(cpus))},
        preexec_fn=lambda: os.sched_setaffinity(0, cpus),
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    report = json.loads(out) if out.strip() else {}
    return {"wall": wall, **report}


class PhaseClock:
    """A silent Progress that notes when each phase of the ingest starts."""

    def __init__(self) -> None:
        self.enabled = False
        self.marks: list[tuple[str, float]] = []

    def phase(self, description: str, **_: object) -> None:
        self.marks.append((description, time.perf_counter()))

    def advance(self, n: int = 1, **_: object) -> None:
        pass

    def close(self) -> None:
        pass


def ingest_child(path: str, store: str, date: str, how: str = "single") -> None:
    """One ingest, as `lineage ingest hub-stats PATH --date DATE` runs it; report on stdout.

    ``how``: ``single`` (a command of its own: the store checked first), or ``backfill`` (one
    dump of many: the store checked once before them, so not here; the date read again)."""
    import resource

    from lineage.hubstats import ingest_hub_stats
    from lineage.store import Store

    clock = PhaseClock()
    started = time.perf_counter()
    summary = ingest_hub_stats(
        Store(store),
        path,
        snapshot_date=dt.date.fromisoformat(date),
        progress=clock,
        verify=how == "single",
        replace=how == "backfill",
    )
    ended = time.perf_counter()
    (_, read_at), (_, commit_at) = clock.marks
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": self_peak_mb(),
        "check": read_at - started,
        "read_parse": commit_at - read_at,
        "commit": ended - commit_at,
        "models": summary.models,
        "edges": sum(summary.edges_by_relation.values()),
    }
    print(json.dumps(report))


WHATS = ("identical", "same", "floor")


def polars_child(path: str, out: str, what: str = "same") -> None:
    """A competent polars baseline: the models and edges tables from the dump, column-wise.

    ``same``: the tables lineage keeps, as an analyst writes them: the models' columns
    with GGUF's architecture and parameter count streamed to Parquet; then the columns the
    edges need read once (the card's ``base_model`` only from cards that contain the word),
    and parents from the ``base_model:`` tags, else ``baseModels``, else the card (one id
    or a list, a URL's prefix cut). ``identical``: those tables as lineage keeps them: the
    models in id order with keys by it and the day's counters by key beside them (one
    query, two sinks), each model's parents together and numbered. ``floor``: the tags and
    ``baseModels`` only, no GGUF columns, no cards (80% of the dump's bytes left unread),
    two lazy queries: its edges miss the parents declared in cards alone.

    Of the ways tried to write ``same``, the fastest: two lazy queries streamed like the
    floor's took 1.15x its time (the edges' query reads the cards twice), one
    ``collect_all`` of both 1.06x.
    """
    import resource

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    dump = pl.scan_parquet(path)
    gguf = pl.col("gguf")
    extra = (
        [
            gguf.str.json_path_match("$.architecture").alias("gguf_architecture"),
            gguf.str.json_path_match("$.total")
            .cast(pl.Int64, strict=False)
            .alias("gguf_parameters"),
        ]
        if what != "floor"
        else []
    )
    models = dump.select(
        "id",
        "author",
        "createdAt",
        "lastModified",
        "downloads",
        "downloadsAllTime",
        "likes",
        "pipeline_tag",
        "library_name",
        "tags",
        pl.col("safetensors").struct.field("total").alias("parameters"),
        *extra,
    )
    if what == "identical":
        # As lineage keeps them: in id order, keyed by that order, the day's counters by key.
        # Both files from one query (the fastest of four ways tried: collected, then written
        # as frames, took 1.1x its time; sorted by arg_sort and gathered, 2x).
        keyed = models.sort("id").with_row_index("key")
        pl.collect_all(
            [
                keyed.sink_parquet(out_dir / "models.parquet", lazy=True),
                keyed.select("key", "downloads", "downloadsAllTime", "likes").sink_parquet(
                    out_dir / "snapshot.parquet", lazy=True
                ),
            ]
        )
    else:
        models.sink_parquet(out_dir / "models.parquet")
    tag = r"^base_model:(?:(adapter|finetune|merge|quantized):)?(.+)$"

    def tag_edges(frame: pl.LazyFrame) -> pl.LazyFrame:
        return (
            frame.select("id", "tags")
            .explode("tags")
            .filter(pl.col("tags").str.starts_with("base_model:"))
            .select(
                pl.col("id").alias("child"),
                pl.col("tags").str.extract(tag, 2).alias("parent"),
                pl.col("tags").str.extract(tag, 1).alias("relation"),
            )
            .group_by("child", "parent", maintain_order=True)
            .agg(pl.col("relation").drop_nulls().first())
        )

    if what == "floor":
        from_tags = tag_edges(dump)
        from_base = (
            dump.select(
                "id",
                pl.col("baseModels").struct.field("relation").alias("relation"),
                pl.col("baseModels").struct.field("models").alias("models"),
            )
            .join(from_tags.select(pl.col("child").alias("id")).unique(), on="id", how="anti")
            .explode("models")
            .drop_nulls("models")
            .select(
                pl.col("id").alias("child"),
                pl.col("models").struct.field("id").alias("parent"),
                "relation",
            )
        )
        pl.concat([from_tags, from_base]).sink_parquet(out_dir / "edges.parquet")
    else:
        card = pl.col("cardData")
        frame = dump.select(
            "id",
            "tags",
            pl.col("baseModels").struct.field("relation").alias("relation"),
            pl.col("baseModels")
            .struct.field("models")
            .list.eval(pl.element().struct.field("id"))
            .alias("models"),
            pl.when(card.str.contains("base_model", literal=True))
            .then(card.str.json_path_match("$.base_model"))
            .alias("card"),
        ).collect()
        tagged = tag_edges(frame.lazy()).collect()
        rest = frame.drop("tags").join(
            tagged.select(pl.col("child").alias("id")).unique(), on="id", how="anti"
        )
        has_base = (pl.col("models").list.len() > 0).fill_null(False)
        from_base = (
            rest.filter(has_base)
            .explode("models")
            .select(pl.col("id").alias("child"), pl.col("models").alias("parent"), "relation")
        )
        value = pl.col("card")
        from_card = (
            rest.filter(~has_base, value.is_not_null())
            .select(
                pl.col("id").alias("child"),
                pl.when(value.str.starts_with("["))
                .then(value.str.json_decode(pl.List(pl.String)))
                .otherwise(pl.concat_list(value))
                .alias("parent"),
            )
            .explode("parent")
            .drop_nulls("parent")
            .select(
                "child",
                pl.col("parent").str.strip_prefix("https://huggingface.co/"),
                pl.lit(None, pl.String).alias("relation"),
            )
            .unique(["child", "parent"], maintain_order=True)
        )
        edges = pl.concat([tagged, from_base, from_card])
        if what == "identical":  # each model's parents together, numbered in order
            row, child = pl.int_range(pl.len()), pl.col("child")
            first = child.ne_missing(child.shift(1))  # (over("child") took 2.5x as long)
            edges = edges.sort("child", maintain_order=True).with_columns(
                (row - pl.when(first).then(row).forward_fill()).alias("position")
            )
        edges.write_parquet(out_dir / "edges.parquet")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": self_peak_mb()}))


def same_edges(store: str, out: str) -> tuple[bool, int, int]:
    """Whether a baseline's edges are the store's, as (child, parent) pairs; both counts."""
    pairs = [
        pl.read_parquet(Path(where) / "edges.parquet", columns=["child", "parent"])
        .unique()
        .sort("child", "parent")
        for where in (store, out)
    ]
    return pairs[0].equals(pairs[1]), pairs[0].height, pairs[1].height


def same_keys(store: str, out: str) -> bool:
    """Whether a baseline's models are the store's, in the same order with the same keys."""
    frames = [
        pl.read_parquet(Path(where) / "models.parquet", columns=["id", "key"])
        for where in (store, out)
    ]
    return frames[0].equals(frames[1])


def print_checks(store: str, outs: dict[str, str]) -> None:
    """Whether each baseline wrote lineage's edges, and the identical one its models."""
    for what in WHATS:
        same, mine, theirs = same_edges(store, outs[what])
        print(
            f"edges of competent polars ({what}): {theirs:,}, lineage's {mine:,}: "
            f"{'the same' if same else 'NOT the same'} (child, parent) pairs"
        )
    keyed = same_keys(store, outs["identical"])
    print(
        "models of competent polars (identical): "
        f"{'the same' if keyed else 'NOT the same'} ids in the same order, same keys"
    )


def median_range(values: list[float]) -> tuple[float, str]:
    """The median of ``values`` and "median [min-max]"."""
    values = sorted(values)
    median = values[len(values) // 2]
    return median, f"{median:.2f} [{values[0]:.2f}-{values[-1]:.2f}]"


def naive_child(path: str, rows: int, store: str) -> None:
    """The baseline: per-row Python over dicts, then the same parser and one commit."""
    import resource

    from lineage.records import parse_raw, raw_from_items
    from lineage.store import Store

    frame = pl.read_parquet(path, n_rows=rows)
    items = []
    for row in frame.iter_rows(named=True):
        card = row["cardData"]
        item = {
            **row,
            "cardData": json.loads(card) if card is not None else None,
            "createdAt": row["createdAt"].isoformat() + "Z" if row["createdAt"] else None,
            "lastModified": row["lastModified"].isoformat() + "Z" if row["lastModified"] else None,
        }
        items.append(item)
    raw, _ = raw_from_items(items)
    seen = dt.datetime.now(dt.UTC)
    batch = parse_raw(raw, seen_at=seen, source="hub-stats")
    Store(store).commit(batch, snapshot_date=dt.date(2026, 1, 5))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": self_peak_mb()}))


def fresh_rounds(dump: Path, rounds: int) -> None:
    """A fresh-store ingest of ``dump`` against the baselines, in rounds; each ratio
    against its own round's baseline, median [min-max]."""
    me = [sys.executable, __file__, "--child"]
    print(f"dump: {dump} ({count_rows(dump):,} rows); load average {os.getloadavg()[0]:.1f}")
    runs = []
    for number in range(rounds):
        outs = {what: tempfile.mkdtemp(prefix=f"bench-polars-{what}-") for what in WHATS}
        run = {what: measured([*me, "polars", str(dump), outs[what], what], dump) for what in WHATS}
        store = tempfile.mkdtemp(prefix="bench-ingest-")
        run["fresh"] = measured([*me, "ingest", str(dump), store, "2026-06-30"], dump)
        if number == 0:
            print_checks(store, outs)
        print(
            "  ".join(
                f"{k} {r['wall']:.1f} s, {r['cpu']:.1f} s CPU, {r['rss_mb']:,.0f} MB"
                for k, r in run.items()
            )
        )
        runs.append(run)
    for base in WHATS:
        wall, cpu = (
            median_range([r["fresh"][of] / r[base][of] for r in runs])[1] for of in ("wall", "cpu")
        )
        print(f"fresh ingest / competent polars ({base}): {wall} (wall), {cpu} (CPU)")
    print(f"load average now {os.getloadavg()[0]:.1f}")


def count_rows(path: Path) -> int:
    return int(pl.scan_parquet(path).select(pl.len()).collect().item())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_500_000)
    parser.add_argument("--quick", action="store_true", help="200,000 rows")
    parser.add_argument("--naive-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of (competent polars, fresh, next day, day after), each ratio taken "
        "within its round, medians printed (default 3: a 2-core machine's speed drifts)",
    )
    parser.add_argument(
        "--dump",
        type=Path,
        help="a hub-stats dump to ingest into a fresh store against the baselines instead "
        "(e.g. one benchmarks/population.py wrote)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "ingest":
            ingest_child(*rest)
        elif kind == "polars":
            polars_child(*rest)
        else:
            naive_child(rest[0], int(rest[1]), rest[2])
        return
    if args.dump:
        fresh_rounds(args.dump, max(1, args.rounds))
        return
    rows = 200_000 if args.quick else args.rows
    naive_rows = min(args.naive_rows, rows)

    day0 = dump_path(rows, args.seed, 0)
    day1 = dump_path(rows, args.seed, 1)
    meta = pl.scan_parquet(day0)
    stats = meta.select(
        pl.len().alias("rows"),
        pl.col("baseModels").is_not_null().mean().alias("derived"),
        (pl.col("baseModels").struct.field("models").list.len() > 1)
        .fill_null(False)
        .mean()
        .alias("merges"),
        pl.col("tags").list.len().mean().alias("tags"),
        pl.col("cardData").str.len_bytes().mean().alias("card_bytes"),
    ).collect()
    n_rows = stats["rows"][0]
    print(
        f"dump: {n_rows:,} rows, {day0.stat().st_size / 1e6:,.0f} MB; "
        f"{stats['derived'][0]:.0%} declare parents ({stats['merges'][0]:.1%} of all are "
        f"merges), {stats['tags'][0]:.1f} tags a model, cards {stats['card_bytes'][0]:.0f} "
        "bytes on average"
    )
    load = os.getloadavg()[0]
    print(f"cpus: pinned to 2 of {os.cpu_count()}, POLARS_MAX_THREADS=2; load average {load:.1f}")

    me = [sys.executable, __file__, "--child"]
    older = older_dump_path(rows, args.seed)
    moved_dump = moved_dump_path(rows, args.seed)
    # Each round: the baseline, then lineage's three runs into one store; a run's ratio is
    # against its own round's baseline, minutes apart, not against one baseline run.
    rounds = []
    for number in range(max(1, args.rounds)):
        store = tempfile.mkdtemp(prefix="bench-ingest-")
        outs = {what: tempfile.mkdtemp(prefix=f"bench-polars-{what}-") for what in WHATS}
        run = {what: measured([*me, "polars", str(day0), outs[what], what], day0) for what in WHATS}
        run["fresh"] = measured([*me, "ingest", str(day0), store, "2026-01-05"], day0)
        if number == 0:  # the yardstick does the same job: its edges are lineage's
            print_checks(store, outs)
        run["full"] = measured([*me, "ingest", str(day1), store, "2026-01-06"], day1)
        run["moved"] = measured([*me, "ingest", str(moved_dump), store, "2026-01-07"], moved_dump)
        print(f"round {number + 1}: " + ", ".join(f"{k} {r['wall']:.1f} s" for k, r in run.items()))
        rounds.append(run)
    # The round of the median fresh ratio stands for the table's single figures.
    by_ratio = sorted(rounds, key=lambda r: r["fresh"]["wall"] / r["identical"]["wall"])
    middle = by_ratio[len(by_ratio) // 2]
    competent, unordered, floor, fresh, full, moved = (
        middle[k] for k in ("identical", "same", "floor", "fresh", "full", "moved")
    )
    backfill_single = measured([*me, "ingest", str(older), store, "2025-12-29"], older)
    backfill = measured([*me, "ingest", str(older), store, "2025-12-29", "backfill"], older)
    naive_store = tempfile.mkdtemp(prefix="bench-ingest-naive-")
    naive = measured([*me, "naive", str(day0), str(naive_rows), naive_store], day0)
    scale = n_rows / naive_rows

    print()
    header = f"{'run':<44} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12} {'read+parse s':>13}"
    print(f"{header} {'commit s':>9}")
    for name, r in (
        ("ingest into a fresh store", fresh),
        ("next day's dump into the full store", full),
        ("a day after, 0.2% models new, 0.02% gone", moved),
        ("a week older dump into the full store", backfill_single),
        ("the same, as one dump of a backfill", backfill),
    ):
        print(
            f"{name:<44} {r['wall']:>7.1f} {r['cpu']:>7.1f} {r['rss_mb']:>12,.0f} "
            f"{r['read_parse']:>13.1f} {r['commit']:>9.1f}"
        )
    for name, r in (
        ("competent polars, identical tables", competent),
        ("competent polars, the same in the dump's order", unordered),
        ("competent polars floor: no cards, no GGUF", floor),
    ):
        print(f"{name:<44} {r['wall']:>7.1f} {r['cpu']:>7.1f} {r['rss_mb']:>12,.0f}")
    print(
        f"{f'naive baseline, {naive_rows:,} rows (measured)':<44} {naive['wall']:>7.1f} "
        f"{naive['cpu']:>7.1f} {naive['rss_mb']:>12,.0f}"
    )
    print(
        f"{f'naive, {n_rows:,} rows (extrapolated: x {scale:g})':<44} "
        f"{naive['wall'] * scale:>7.1f} {naive['cpu'] * scale:>7.1f} "
        f"{naive['rss_mb'] * scale:>12,.0f}"
    )
    print()
    print(f"stored: {fresh['models']:,} models, {fresh['edges']:,} edges (the fresh ingest)")
    print(
        f"ingest vs naive: {naive['wall'] * scale / fresh['wall']:.1f}x faster (wall), "
        f"{naive['cpu'] * scale / fresh['cpu']:.1f}x less CPU, "
        f"{naive['rss_mb'] * scale / fresh['rss_mb']:.1f}x less memory (the naive figures "
        f"are its {naive_rows:,}-row run times {scale:g}, extrapolated, not measured)"
    )
    print(f"load average now {os.getloadavg()[0]:.1f} (wall times suffer when it exceeds 2)")
    print(
        f"(table: the round of the median fresh ratio, of {len(rounds)}; ratios below: each "
        "against its own round's baseline, median [min-max])"
    )

    def ratios(key: str, of: str = "wall", base: str = "identical") -> tuple[float, str]:
        return median_range([r[key][of] / r[base][of] for r in rounds])

    print(
        "ingest / competent polars writing identical tables (target <= 1.5 and <= 3 GB), "
        "/ the same tables in the dump's order, and / the floor (no cards read):"
    )
    for name, key in (
        ("fresh store", "fresh"),
        ("next day", "full"),
        ("a day after, models new and gone", "moved"),
    ):
        ratio, spread = ratios(key)
        peak = max(r[key]["rss_mb"] for r in rounds)
        ok = ratio <= 1.5 and peak <= 3072
        print(
            f"  {name}: {spread} (wall), {ratios(key, 'cpu')[1]} (CPU), peak {peak:,.0f} MB "
            f"at most: {'met' if ok else 'MISSED'}; / in the dump's order: "
            f"{ratios(key, base='same')[1]} (wall); / the floor: {ratios(key, base='floor')[1]} "
            f"(wall), {ratios(key, 'cpu', 'floor')[1]} (CPU)"
        )
    ok = backfill["wall"] <= 16 and backfill["rss_mb"] <= 6144
    print(
        f"one dump of a backfill into the full store: {backfill['wall']:.1f} s wall, "
        f"{backfill['cpu']:.1f} s CPU, {backfill['rss_mb']:,.0f} MB (x 110 dumps = "
        f"{backfill['wall'] * 110 / 60:.0f} min); target <= 16 s and <= 6 GB: "
        f"{'met' if ok else 'MISSED'} (as a command of its own, the store checked first: "
        f"{backfill_single['wall']:.1f} s)"
    )


if __name__ == "__main__":
    main()
