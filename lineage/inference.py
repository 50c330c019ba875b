"""Inferring the lineage of models that declare none: a parent or a root family, a method,
and a confidence in [0, 1].

Most Hub models declare no ``base_model``; many are plainly derivatives. For each crawled
model without a declared parent, :func:`infer` proposes at most one parent (or, for the
``architecture`` method, only a root family). The methods, each its own signal, strongest
evidence first:

``adapter-config``
    A PEFT adapter's own config names its base (``config.peft.base_model_name_or_path``,
    from a crawl's listing; hub-stats dumps have no config). The base must be a valid repo
    id of a model the store knows.
``name-id``
    The name embeds a repo id, ``owner_-_name`` (``RichardErkhov/Qwen_-_Qwen2.5-7B-gguf``).
``name-exact``
    The name without its format affixes (:func:`lineage.names.strip_formats`: GGUF, AWQ,
    GPTQ, EXL2, MLX, bnb, i1, Q4_K_M, 4bit, fp8 ...) is a known model's name
    (:func:`lineage.names.match_key`: case and separators aside).
``name-contained``
    Else the longest known name it contains, in whole tokens (``Vikhr-Llama-3.2-1B-sft``
    contains ``Llama-3.2-1B``).
``architecture``
    Else, root family only, for models whose own files say they are a conversion or an
    adapter: the family most of the store's declared derivatives with the same
    architecture (``config.model_type`` or ``gguf.architecture``) and size bucket
    (safetensors or gguf parameter count) belong to.

Known models are every node of the store's graph. Among those a name matches, a parent is
never newer than its child (``createdAt``; unknown dates do not exclude) nor one of its
declared descendants; the child's own namespace comes first, then models that carry
lineage (a declared parent, or declared children), more declared children, more
downloads, the older. A base model also answers to its name without ``-base``.

**Confidence** is the estimated probability that the proposed *root family* is right, and
it is measured on the store itself: every method is also run on the store's declared
derivatives (as if they declared nothing), and a proposal's confidence is the share of
declared derivatives with the same kind of evidence (method, stripped format, same
namespace, tokens matched, how many families share the matched name, what kind of model
was matched) whose proposal names their declared root family, shrunk toward the method's
overall share (and that toward a prior) where few declared derivatives are alike.
``lineage infer --evaluate`` (:mod:`lineage.inference_eval`) checks it on declarations it
hides. Roots go through inferred lineage too: if the matched model declares nothing
either, its own inferred parent carries the family up.

Inferred edges are kept in their own table (``inferred_edges.parquet``,
:data:`INFERRED_SCHEMA`), apart from declared ones; :func:`lineage_edges` adds them to the
declared edges only when asked (``--lineage inferred|both``).

Everything is column-wise (polars string operations and joins, numpy over node indices);
nothing runs Python per model. This module must not print, nor decide what the CLI shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from .attribution import attribute, primary_roots
from .errors import InputError, NotInStore
from .graph import graph_from_frames, with_edges
from .names import (
    ADAPTER_TOKEN,
    between_names,
    embedded_id,
    has_format,
    key_spans,
    match_key,
    model_name,
    strip_formats,
)
from .records import UTC_US
from .repo_id import repo_id_expr
from .store import INFERRED_SCHEMA, Store
from .vocabulary import DEFAULT_MIN_CONFIDENCE, LINEAGES

METHODS = ("adapter-config", "name-id", "name-exact", "name-contained", "architecture")


# What each method's proposals are worth before the store says otherwise (PRIOR_WEIGHT
# pseudo-counts): set by hand, at or below what the evaluation measured for the name
# methods (docs/methodology.md); guesses for the others. They matter only where a store
# has few declared derivatives with the same evidence.
PRIORS = {
    "adapter-config": 0.9,
    "name-id": 0.9,
    "name-exact": 0.8,
    "name-contained": 0.5,
    "architecture": 0.5,
}
PRIOR_WEIGHT = 20.0
BUCKET_WEIGHT = 10.0  # pseudo-counts of the method's share in each evidence bucket
CALIBRATION_SAMPLE = 250_000
"""Declared derivatives name-matched for the calibration at most: beyond it an evenly spread
sample (every k-th by id), its counts scaled up. On the 2.5M-model independent benchmark
population it gives every model the same parent as matching all 700k declared derivatives,
with confidences 0.02 apart on average but up to 0.41 in small evidence buckets
(benchmarks/bench_inference.py --compare-sample; the README has the figures)."""
_TOP_CANDIDATES = 5  # per name, the best-ranked models kept as candidates
_SIZE_BUCKETS = [0.2e9, 0.6e9, 1.5e9, 3.5e9, 5e9, 9e9, 15e9, 25e9, 40e9, 80e9]
_MODEL_COLUMNS = (
    "id",
    "crawled",
    "created_at",
    "downloads",
    "downloads_all_time",
    "likes",
    "library_name",
    "tags",
    "parameters",
    "model_type",
    "gguf_architecture",
    "gguf_parameters",
    "adapter_base",
)


@dataclass(frozen=True)
class Inference:
    """What :func:`infer` found.

    ``edges``: one row per model given a proposal (:data:`INFERRED_SCHEMA`).
    ``calibration``: per method and evidence bucket, the declared derivatives alike
    (``declared``), how many of them the method put in their declared family (``right``),
    and the confidence given to that bucket.
    ``targets``: crawled models without a declared parent that were considered.
    """

    edges: pl.DataFrame
    calibration: pl.DataFrame
    targets: int

    def summary(self, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> pl.DataFrame:
        """Per method: proposals, those at ``min_confidence`` or more, mean confidence.

        Examples
        --------
        >>> empty = Inference(pl.DataFrame(schema=INFERRED_SCHEMA), pl.DataFrame(), 0)
        >>> empty.summary().columns
        ['method', 'proposals', 'at_min_confidence', 'with_parent', 'mean_confidence']
        """
        order = pl.DataFrame({"method": list(METHODS), "order": range(len(METHODS))})
        return (
            self.edges.group_by("method")
            .agg(
                pl.len().alias("proposals"),
                (pl.col("confidence") >= min_confidence).sum().alias("at_min_confidence"),
                pl.col("parent").is_not_null().sum().alias("with_parent"),
                pl.col("confidence").mean().alias("mean_confidence"),
            )
            .join(order, on="method", how="left")
            .sort("order")
            .drop("order")
            .with_columns(pl.col(c).cast(pl.Int64) for c in ("proposals", "at_min_confidence"))
            .with_columns(pl.col("with_parent").cast(pl.Int64))
        )


# -- the store's side -------------------------------------------------------------------------


def infer(
    store: Store,
    *,
    now: dt.datetime | None = None,
    calibration_sample: int | None = CALIBRATION_SAMPLE,
) -> Inference:
    """Propose lineage for every crawled model of ``store`` that declares no parent.

    Reads the store only (and its kept derived state, :mod:`lineage.derived`); :func:`save`
    writes the result. ``calibration_sample``: see :func:`infer_frames`.

    Examples
    --------
    >>> import tempfile
    >>> from lineage.records import parse_items
    >>> when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> store = Store(tempfile.mkdtemp())
    >>> batch, _ = parse_items([
    ...     {"id": "Qwen/Qwen2.5-7B", "createdAt": "2024-09-01T00:00:00Z", "tags": []},
    ...     {"id": "a/Qwen2.5-7B-sft", "createdAt": "2024-10-01T00:00:00Z",
    ...      "tags": ["base_model:Qwen/Qwen2.5-7B"]},
    ...     {"id": "b/Qwen2.5-7B-sft-GGUF", "createdAt": "2024-11-01T00:00:00Z",
    ...      "tags": ["gguf"]}], seen_at=when, source="doc")
    >>> _ = store.commit(batch)
    >>> infer(store, now=when).edges.select("child", "parent", "root", "method").row(0)
    ('b/Qwen2.5-7B-sft-GGUF', 'a/Qwen2.5-7B-sft', 'Qwen/Qwen2.5-7B', 'name-exact')
    """
    from . import derived

    # Tags are read at the end, for the relations of the models given a proposal.
    models = complete_models(
        store.scan("models").select(c for c in _MODEL_COLUMNS if c != "tags").collect()
    )
    if models.height == 0:
        raise NotInStore(f"the store at {store.path} is empty; run `lineage crawl` first")
    # The store's kept declared graph and attribution (lineage.derived), not built again
    # here, when its nodes are these models in this order.
    graph = derived.graph(store)
    kept = graph.frame("nodes", ["id"])["id"].head(models.height)
    if graph.n < models.height or not kept.equals(models["id"]):
        graph = None
    return infer_frames(
        models,
        store.read("edges"),
        store.read("lookups"),
        now=now,
        graph=graph,
        attribution=derived.attribution(store, graph) if graph is not None else None,
        tags=lambda: store.read("models", columns=["tags"])["tags"],
        calibration_sample=calibration_sample,
    )


def save(store: Store, inference: Inference) -> None:
    """Replace the store's inferred edges (atomically, holding the writer lock)."""
    with store.lock():
        store.write_tables({"inferred_edges": inference.edges})


def read_inferred(store: Store, *, min_confidence: float | None = None) -> pl.DataFrame:
    """The store's inferred edges at ``min_confidence`` or more (all if None)."""
    check_confidence(min_confidence)
    frame = store.read("inferred_edges")
    if min_confidence is not None:
        frame = frame.filter(pl.col("confidence") >= min_confidence)
    return frame


def check_confidence(value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InputError(
            f"{{min_confidence}} must be between 0 and 1, not {value}",
            params=("min_confidence",),
            value=value,
        )


def lineage_edges(
    declared: pl.DataFrame, inferred: pl.DataFrame, *, lineage: str = "declared"
) -> pl.DataFrame:
    """Edges for a graph under a lineage choice, each marked ``lineage`` declared|inferred.

    ``declared`` keeps the declared edges; ``inferred`` and ``both`` add the inferred ones
    (to their parent, or to their root when only a family was proposed), except for models
    that have since declared a parent. Inferred rows carry ``method`` and ``confidence``;
    their ``source`` is ``inferred:<method>``.

    Examples
    --------
    >>> from lineage.records import EDGE_SCHEMA
    >>> declared = pl.DataFrame({"child": ["a/x"], "parent": ["b/y"], "relation": ["finetune"],
    ...     "inferred": [False], "source": ["tags"], "position": [0]}, schema=EDGE_SCHEMA)
    >>> guess = pl.DataFrame({"child": ["c/z"], "parent": ["a/x"], "root": ["b/y"],
    ...     "relation": ["quantized"], "method": ["name-exact"], "confidence": [0.97],
    ...     "evidence": ["x"], "inferred_at": [None]}, schema=INFERRED_SCHEMA)
    >>> lineage_edges(declared, guess, lineage="both").select("child", "lineage").rows()
    [('a/x', 'declared'), ('c/z', 'inferred')]
    """
    if lineage not in LINEAGES:
        raise InputError(
            f"{{lineage}} must be one of {', '.join(LINEAGES)}, not {lineage!r}",
            params=("lineage",),
            value=lineage,
        )
    marked = declared.with_columns(
        pl.lit("declared").alias("lineage"),
        pl.lit(None, pl.String).alias("method"),
        pl.lit(None, pl.Float64).alias("confidence"),
    )
    if lineage == "declared":
        return marked
    extra = (
        inferred.join(declared.select("child").unique(), on="child", how="anti")
        .select(
            "child",
            pl.coalesce("parent", "root").alias("parent"),
            "relation",
            pl.lit(True).alias("inferred"),
            (pl.lit("inferred:") + pl.col("method")).alias("source"),
            pl.lit(0, pl.Int32).alias("position"),
            pl.lit("inferred").alias("lineage"),
            "method",
            "confidence",
        )
        .filter(pl.col("parent").is_not_null())
    )
    return pl.concat([marked, extra.cast(marked.schema)])


# -- inference over frames ------------------------------------------------------------------


def infer_frames(
    models: pl.DataFrame,
    edges: pl.DataFrame,
    lookups: pl.DataFrame,
    *,
    now: dt.datetime | None = None,
    chunk_rows: int = 100_000,
    calibration: pl.DataFrame | None = None,
    not_calibrating: pl.DataFrame | None = None,
    calibration_sample: int | None = CALIBRATION_SAMPLE,
    graph=None,
    attribution=None,
    tags: Callable[[], pl.Series] | None = None,
) -> Inference:
    """:func:`infer` over a store's models, edges and lookups tables.

    ``chunk_rows`` models are name-matched at a time (bounds memory on big stores).
    ``calibration`` (an :attr:`Inference.calibration` from another run) gives the
    confidences instead of this store's own declared derivatives; ``not_calibrating``
    (column ``id``) names declared derivatives to leave out of this store's calibration.
    :mod:`lineage.inference_eval` uses both: it calibrates on the whole store without the
    sample it hides, then infers the sample with its declarations hidden.
    ``calibration_sample``: at most this many declared derivatives are matched to calibrate
    (None: all of them; :data:`CALIBRATION_SAMPLE`); with ``calibration`` given, none are.
    ``graph`` and ``attribution``: the declared graph of these frames and its default
    attribution, if already at hand (:func:`infer` reads the store's kept ones).
    ``tags``: the models' tags, read when needed (at the end, once the matching's frames
    are gone) instead of held in ``models`` throughout.
    """
    now = now or dt.datetime.now(dt.UTC)
    # Node idx i is row i of models (graph_from_frames numbers models in order): columns
    # of models are gathered by position, never joined on ids.
    models = complete_models(models)
    declared = graph if graph is not None else graph_from_frames(models, edges, lookups)
    nodes = _nodes(declared)
    truth = _declared_roots(declared, attribution)
    subjects = _subjects(nodes, models)
    undeclared = subjects.filter(~pl.col("has_parent")).select("idx")
    candidates = _candidates(nodes)
    # Known models: every node, declared parents never crawled included.
    by_id = nodes.unique("id_key", keep="first", maintain_order=True).select(
        "id_key", pl.col("idx").alias("parent"), pl.col("created_at").alias("pcreated")
    )
    # (model, one of its declared roots): a parentless model's declared descendants.
    descends = truth.select(pl.col("idx").alias("cidx"), pl.col("roots").alias("idx")).explode(
        "idx"
    )
    # The models whose proposals count: those that declare nothing, and the declared
    # derivatives the calibration measures (a sample of them on a big store).
    sample, scale = _calibration_sample(
        subjects, None if calibration is None else 0, calibration_sample
    )
    matched = subjects.filter(~pl.col("has_parent")).vstack(
        subjects.join(sample, on="idx", how="semi")
    )
    proposals = pl.concat(
        [
            pl.DataFrame(schema=_PROPOSAL_SCHEMA),
            _resolved(matched, by_id, "adapter_base", "adapter-config"),
            _resolved(matched, by_id, "embedded", "name-id"),
            *(
                _name_matches(matched.slice(start, chunk_rows), candidates, descends)
                for start in range(0, matched.height, chunk_rows)
            ),
        ],
        how="diagonal_relaxed",
    )
    del matched
    order = pl.col("method").replace_strict(METHODS, list(range(len(METHODS))))
    # Provisional lineage of the undeclared (strongest method first), so that a match on a
    # model which itself declares nothing takes that model's own inferred family. Family
    # heads (no declared parent, declared children) stay roots here: their family is
    # declared, and calibration compares with declared families.
    provisional = (
        proposals.join(undeclared, on="idx")
        .sort(order)
        .unique("idx", keep="first", maintain_order=True)
        .select("idx", "parent")
    )
    leaves = nodes.filter(pl.col("n_children") == 0).select("idx")
    family = _families(declared, provisional.join(leaves, on="idx", how="semi"))
    # A proposal whose parent's family is the model itself (the parent derives from it, or
    # the two proposals point at each other) says nothing.
    proposals = _evidence_buckets(proposals, nodes, provisional, candidates, family).filter(
        pl.col("root") != pl.col("idx")
    )
    architecture = _architecture(subjects, truth)
    architecture = architecture.join(undeclared, on="idx", how="semi").vstack(
        architecture.join(sample, on="idx", how="semi")
    )
    proposals = pl.concat([proposals, architecture], how="diagonal_relaxed")
    del subjects, candidates, descends, by_id, architecture
    if calibration is None:
        skip = (
            nodes.join(not_calibrating.select("id"), on="id").select("idx")
            if not_calibrating is not None
            else None
        )
        calibration = _calibrate(proposals, truth.join(sample, on="idx", how="semi"), skip, scale)
    chosen = (
        _scored(proposals.join(undeclared, on="idx"), calibration)
        .filter(pl.col("root").is_not_null())
        .sort(pl.col("confidence"), order, descending=[True, False])
        .unique("idx", keep="first", maintain_order=True)
        .sort("idx")
    )
    ids = nodes["id"]
    if tags is not None:
        models = models.with_columns(tags())
    out = chosen.with_columns(
        ids.gather(chosen["idx"]).alias("child"),
        ids.gather(chosen["parent"].fill_null(0)).alias("parent_id"),
        ids.gather(chosen["root"]).alias("root_id"),
        _relations(chosen["idx"], nodes, models),
    ).select(
        "child",
        pl.when(pl.col("parent").is_not_null()).then(pl.col("parent_id")).alias("parent"),
        pl.col("root_id").alias("root"),
        "relation",
        "method",
        "confidence",
        "evidence",
        pl.lit(now).cast(UTC_US).alias("inferred_at"),
    )
    return Inference(out.sort("child").cast(INFERRED_SCHEMA), calibration, undeclared.height)


# What every method's proposals hold (the name methods fill the last three).
_PROPOSAL_SCHEMA = {
    "idx": pl.UInt32(),
    "parent": pl.UInt32(),
    "method": pl.String(),
    "stripped": pl.Boolean(),
    "evidence": pl.String(),
    "same_namespace": pl.Boolean(),
    "span_tokens": pl.Int32(),
    "matched": pl.String(),
}


def _calibration_sample(
    subjects: pl.DataFrame, wanted: int | None, limit: int | None
) -> tuple[pl.DataFrame, float]:
    """The declared derivatives (``idx``) the calibration measures, and how many declared
    derivatives each stands for: all of them (1.0) up to ``limit``, else every k-th by
    index (ids in order, so namespaces and formats are spread evenly). ``wanted`` 0: none
    (a calibration was given)."""
    declared = subjects.filter(pl.col("has_parent")).select("idx")
    if wanted == 0:
        return declared.clear(), 1.0
    if limit is None or declared.height <= limit:
        return declared, 1.0
    step = -(-declared.height // limit)  # ceil
    sample = declared.gather_every(step)
    return sample, declared.height / sample.height


def complete_models(models: pl.DataFrame) -> pl.DataFrame:
    """The models frame with every column inference reads (absent ones null)."""
    from .records import MODEL_SCHEMA

    missing = [c for c in _MODEL_COLUMNS if c not in models.columns]
    return models.with_columns(pl.lit(None, MODEL_SCHEMA[c]).alias(c) for c in missing).select(
        _MODEL_COLUMNS
    )


def _nodes(graph) -> pl.DataFrame:
    """The declared graph's nodes (row = idx) with what matching needs: declared parents
    and children, lowercase ids and name keys."""
    n = graph.n
    return graph.nodes.select(
        "idx", "id", "status", "org", "created_at", "downloads_all_time", "crawled"
    ).with_columns(
        pl.Series("has_parent", np.bincount(graph.edges["child"].to_numpy(), minlength=n) > 0),
        pl.Series(
            "n_children", np.bincount(graph.edges["parent"].to_numpy(), minlength=n), pl.Int64
        ),
        pl.col("id").str.to_lowercase().alias("id_key"),
        pl.col("org").str.to_lowercase().alias("org_key"),
        model_name(pl.col("id")).alias("name"),
        match_key(model_name(pl.col("id"))).alias("name_key"),
    )


def _declared_roots(graph, attribution=None) -> pl.DataFrame:
    """Each declared derivative's root families: idx, roots, primary (node indices)."""
    roots = (
        (attribution or attribute(graph))
        .weights.group_by(pl.col("derivative").alias("idx"))
        .agg(pl.col("root").alias("roots"))
    )
    primary = primary_roots(graph)[roots["idx"].to_numpy()]
    return roots.with_columns(pl.Series("primary", primary, pl.UInt32))


def _subjects(nodes: pl.DataFrame, models: pl.DataFrame) -> pl.DataFrame:
    """Crawled models with the evidence every method reads: the name's stem and key
    (format affixes off), the names between, the adapter base, an id embedded in the
    name, the architecture, the size bucket, and whether the model's own files say it is
    a conversion or an adapter."""
    frame = (
        nodes.slice(0, models.height)
        .with_columns(models.select(_FACTS))
        .filter("crawled")
        .select("idx", "org_key", "created_at", "has_parent", "name", "name_key", *_FACTS)
    )
    # Most names carry no affix: one regex pass finds those that do, and only they are
    # peeled; the others keep the key computed once for every node.
    affixed = frame.filter(has_format(pl.col("name"))).select("idx", "name")
    peeled = (
        affixed.with_columns(strip_formats(pl.col("name")).alias("stem"))
        .filter(pl.col("stem") != pl.col("name"))
        .select("idx", "stem", match_key(pl.col("stem")).alias("key"))
    )
    between = between_names(affixed, "name", ["idx"]).group_by("idx").agg(pl.col("between"))
    size = pl.coalesce("parameters", "gguf_parameters")
    library = pl.col("library_name").fill_null("").str.to_lowercase()
    return (
        frame.join(peeled, on="idx", how="left")
        .join(between, on="idx", how="left")
        .with_columns(
            pl.col("key").is_not_null().alias("stripped"),
            pl.coalesce("key", "name_key").alias("key"),
            pl.coalesce("stem", "name").alias("stem"),
        )
        .with_columns(
            pl.col("adapter_base").str.strip_chars(),
            embedded_id(pl.col("stem")).alias("embedded"),
            pl.coalesce("model_type", "gguf_architecture").str.to_lowercase().alias("architecture"),
            pl.when(size > 0)
            .then(
                pl.sum_horizontal(
                    [(size > b).cast(pl.Int64) for b in _SIZE_BUCKETS]
                ).replace_strict(
                    list(range(len(_SIZE_LABELS))), _SIZE_LABELS, return_dtype=pl.String
                )
            )
            .alias("size"),
            # A conversion or an adapter by its own files: the architecture method is only
            # for these (a plain checkpoint of some architecture may well be an original).
            (
                pl.col("stripped")
                | library.is_in(["gguf", "mlx", "peft"])
                | pl.col("gguf_architecture").is_not_null()
                | pl.col("adapter_base").is_not_null()
            ).alias("looks_derived"),
        )
        .drop("name_key", "model_type", "gguf_architecture", "parameters", "gguf_parameters")
    )


_FACTS = (
    "library_name",
    "adapter_base",
    "model_type",
    "gguf_architecture",
    "parameters",
    "gguf_parameters",
)


def _relations(idx: pl.Series, nodes: pl.DataFrame, models: pl.DataFrame) -> pl.Series:
    """The relation each chosen model suggests: adapter (peft library or tags, an adapter
    config, a LoRA name), quantized (a format affix, gguf/mlx library, quantization tags),
    merge (merge tags), else finetune."""
    frame = pl.DataFrame(
        {
            "name": nodes["name"].gather(idx),
            **{c: models[c].gather(idx) for c in ("library_name", "tags", "adapter_base")},
        }
    )
    tags = pl.col("tags").fill_null([]).list.eval(pl.element().str.to_lowercase())
    library = pl.col("library_name").fill_null("").str.to_lowercase()
    peeled = pl.col("name").str.slice(strip_formats(pl.col("name")).str.len_chars())
    formats = peeled.str.replace_all(rf"(?i)[-_. ]+{ADAPTER_TOKEN}", "")
    adapter = (
        (library == "peft")
        | tags.list.eval(pl.element().is_in(["peft", "lora", "adapter"])).list.any()
        | pl.col("adapter_base").is_not_null()
        | peeled.str.contains(rf"(?i){ADAPTER_TOKEN}")
    )
    quantized = (
        (formats.str.len_chars() > 0)
        | library.is_in(["gguf", "mlx"])
        | tags.list.eval(pl.element().is_in(_QUANTIZED_TAGS)).list.any()
    )
    merge = tags.list.eval(pl.element().is_in(["merge", "mergekit"])).list.any()
    return frame.select(
        pl.when(adapter)
        .then(pl.lit("adapter"))
        .when(quantized)
        .then(pl.lit("quantized"))
        .when(merge)
        .then(pl.lit("merge"))
        .otherwise(pl.lit("finetune"))
        .alias("relation")
    ).to_series()


_QUANTIZED_TAGS = ["gguf", "awq", "gptq", "exl2", "mlx", "bitsandbytes", "4-bit", "8-bit"]
_SIZE_LABELS = [
    "<0.2B",
    "0.2-0.6B",
    "0.6-1.5B",
    "1.5-3.5B",
    "3.5-5B",
    "5-9B",
    "9-15B",
    "15-25B",
    "25-40B",
    "40-80B",
    ">80B",
]


def _candidates(nodes: pl.DataFrame) -> pl.DataFrame:
    """Known models by name key: for a name several models share, the best-ranked few,
    the best of each namespace and the oldest.

    Rank (``crank``, lower is better; ties: older, then lower idx): carries lineage (a
    declared parent or declared children), more declared children, more downloads. The
    oldest of each name is kept so that a name whose best models are all newer than a
    child still offers one. A base model is also known by its name without ``-base`` (the
    name ``Qwen3-4B`` of ``Qwen3-4B-Instruct`` means ``Qwen3-4B-Base``).
    """
    informative = (pl.col("has_parent") | (pl.col("n_children") > 0)).cast(pl.Int64)
    children = pl.col("n_children").clip(0, (1 << 20) - 1)
    downloads = pl.col("downloads_all_time").fill_null(0).clip(0, (1 << 41) - 1)
    known = nodes.filter(pl.col("name_key") != "").select(
        pl.col("idx").alias("cidx"),
        pl.col("name_key").alias("ckey"),
        pl.col("org_key").alias("corg"),
        pl.col("created_at").alias("ccreated"),
        # One sortable number instead of a sort of every model on four keys.
        (-(informative * (1 << 62) + children * (1 << 41) + downloads)).alias("crank"),
    )
    known = pl.concat(
        [
            known,
            known.filter(pl.col("ckey").str.ends_with("-base")).with_columns(
                pl.col("ckey").str.strip_suffix("-base")
            ),
        ]
    )
    shared = pl.col("ckey").is_duplicated()
    alone = known.filter(~shared).with_columns(pl.lit(False).alias("shared"))
    ranked = known.filter(shared).sort(["crank", "ccreated", "cidx"], nulls_last=True)
    top = ranked.group_by("ckey", maintain_order=True).head(_TOP_CANDIDATES)
    per_namespace = ranked.group_by("ckey", "corg", maintain_order=True).head(1)
    oldest = (
        ranked.sort("ccreated", "crank", nulls_last=True)
        .group_by("ckey", maintain_order=True)
        .head(1)
    )
    # ``general``: a candidate for every model with the name (the best few and the oldest);
    # the others are the best of their own namespace only, which a model of another
    # namespace needs only when none of the best few can be its parent (_name_matches).
    # ``top``: among the best few (every other candidate ranks after them).
    marks = (
        pl.concat(
            [
                top.select("cidx", "ckey", pl.lit(True).alias("top")),
                oldest.select("cidx", "ckey", pl.lit(False).alias("top")),
            ]
        )
        .group_by("cidx", "ckey")
        .agg(pl.col("top").any(), pl.lit(True).alias("general"))
    )
    pruned = (
        pl.concat([top, per_namespace, oldest], how="diagonal")
        .unique(["cidx", "ckey"])
        .select(*alone.columns[:-1], pl.lit(True).alias("shared"))
        .join(marks, on=["cidx", "ckey"], how="left")
        .with_columns(pl.col("general", "top").fill_null(False))
    )
    return pl.concat(
        [alone.with_columns(pl.lit(True).alias("general"), pl.lit(True).alias("top")), pruned],
        how="diagonal",
    )


def _older(child: str, parent: str) -> pl.Expr:
    """A parent must not be newer than its child (unknown dates do not exclude)."""
    return (pl.col(parent) <= pl.col(child)) | pl.col(parent).is_null() | pl.col(child).is_null()


def _name_matches(
    subjects: pl.DataFrame, candidates: pl.DataFrame, descends: pl.DataFrame
) -> pl.DataFrame:
    """Per model, the best known model whose name its own (affixes stripped) contains: the
    longest match, then the same namespace, then the best ranked. A model's own declared
    descendants are not candidates; a single token matches only a one-token name."""
    columns = ("idx", "org_key", "created_at", "stripped")
    # A name between the model's own and its stem (one conversion of another) is matched
    # whole, before the stem's spans (being longer), and only in the model's own namespace:
    # elsewhere it is more often a sibling conversion than the parent.
    between = (
        subjects.filter(pl.col("between").is_not_null())
        .select(*columns, pl.col("between").alias("span"))
        .explode("span")
        .with_columns(match_key(pl.col("span")).alias("span"))
        .with_columns(
            pl.col("span")
            .str.count_matches("-", literal=True)
            .add(1)
            .cast(pl.Int32)
            .alias("span_tokens")
        )
        .with_columns(pl.col("span_tokens").alias("key_tokens"), pl.lit(True).alias("between"))
    )
    spans = (
        key_spans(subjects, "key", "idx")
        .filter((pl.col("span_tokens") > 1) | (pl.col("key_tokens") == 1))
        .join(subjects.select(columns), on="idx")
    )
    rows = pl.concat([between, spans], how="diagonal").lazy()
    # Joined with every candidate of a name, a name shared by thousands of namespaces
    # (``Llama-3-8B-Instruct-GGUF``) made millions of rows. The best-of-a-namespace
    # candidates (not ``general``) are joined only where they can win: the model's own
    # namespace always, another namespace only for the names none of whose general
    # candidates can be the model's parent (the general ones rank before them otherwise).
    general = candidates.lazy().filter("general")
    own = candidates.lazy().filter(~pl.col("general"))

    def allowed(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(
            (pl.col("cidx") != pl.col("idx"))
            & (pl.col("between").is_null() | (pl.col("corg") == pl.col("org_key")))
            & _older("created_at", "ccreated")
        ).join(descends.lazy(), on=["idx", "cidx"], how="anti")

    first = allowed(
        pl.concat(
            [
                rows.join(general, left_on="span", right_on="ckey"),
                rows.join(own, left_on=["span", "org_key"], right_on=["ckey", "corg"]).with_columns(
                    pl.col("org_key").alias("corg")
                ),
            ],
            how="diagonal",
        )
    ).collect()
    # Spans whose best few were all ruled out: the best of every other namespace too.
    settled = first.filter(pl.col("top") & pl.col("between").is_null()).select("idx", "span")
    others = allowed(
        rows.filter(pl.col("between").is_null())
        .join(settled.lazy().unique(), on=["idx", "span"], how="anti")
        .join(own, left_on="span", right_on="ckey")
        .filter(~(pl.col("corg") == pl.col("org_key")).fill_null(False))
    ).collect()
    return (
        pl.concat([first, others], how="diagonal")
        .lazy()
        .with_columns(
            (pl.col("corg") == pl.col("org_key")).fill_null(False).alias("same_namespace")
        )
        .sort(
            ["idx", "span_tokens", "same_namespace", "crank", "ccreated", "cidx"],
            descending=[False, True, True, False, False, False],
            nulls_last=True,
        )
        .unique("idx", keep="first", maintain_order=True)
        .select(
            "idx",
            pl.col("cidx").alias("parent"),
            pl.when(pl.col("span_tokens") == pl.col("key_tokens"))
            .then(pl.lit("name-exact"))
            .otherwise(pl.lit("name-contained"))
            .alias("method"),
            "stripped",
            "same_namespace",
            "span_tokens",
            pl.col("span").alias("matched"),
            pl.col("span").alias("evidence"),
        )
        .collect()
    )


def _resolved(
    subjects: pl.DataFrame, by_id: pl.DataFrame, column: str, method: str
) -> pl.DataFrame:
    """Models whose ``column`` is a valid repo id of an older known model (any case)."""
    value = pl.col("evidence")
    return (
        subjects.filter(pl.col(column).is_not_null())
        .select("idx", "created_at", "stripped", pl.col(column).alias("evidence"))
        .filter(repo_id_expr(value))
        .with_columns(value.str.to_lowercase().alias("id_key"))
        .join(by_id, on="id_key")
        .filter((pl.col("parent") != pl.col("idx")) & _older("created_at", "pcreated"))
        .select("idx", "parent", pl.lit(method).alias("method"), "stripped", "evidence")
    )


def _families(declared, provisional: pl.DataFrame) -> np.ndarray:
    """Every node's primary root family (node idx -> family idx) through declared lineage
    and the provisional inferred edges (a model with no parent is its own family)."""
    extra = provisional.select(
        pl.col("idx").cast(pl.UInt32).alias("child"),
        pl.col("parent").cast(pl.UInt32),
        pl.lit("finetune").alias("relation"),
        pl.lit(True).alias("inferred"),
        pl.lit(0, pl.Int32).alias("position"),
        pl.lit("inferred").alias("lineage"),
        pl.lit(None, pl.String).alias("method"),
        pl.lit(None, pl.Float64).alias("confidence"),
    )
    return primary_roots(with_edges(declared, extra))


def _evidence_buckets(
    proposals: pl.DataFrame,
    nodes: pl.DataFrame,
    provisional: pl.DataFrame,
    candidates: pl.DataFrame,
    family: np.ndarray,
) -> pl.DataFrame:
    """Each proposal's root family and the evidence bucket its confidence is measured in:
    format stripped, same namespace, tokens matched (up to 6), families sharing the matched
    name (up to 3), and what the parent is (a declared derivative, a family head with
    declared children, a model with an inferred parent of its own, or bare)."""
    families = pl.Series("family", family, pl.UInt32)
    guessed = np.zeros(nodes.height, dtype=bool)
    guessed[provisional["idx"].to_numpy()] = True
    kind = np.select(
        [
            nodes["has_parent"].to_numpy(),
            nodes["n_children"].to_numpy() > 0,
            guessed,
        ],
        ["derivative", "head", "inferred"],
        "bare",
    )
    shared = candidates.filter("shared")
    sharing = (
        shared.with_columns(families.gather(shared["cidx"]))
        .group_by(pl.col("ckey").alias("matched"))
        .agg(pl.col("family").n_unique().alias("families"))
    )
    parent = proposals["parent"]
    return (
        proposals.with_columns(
            families.gather(parent).alias("root"),
            pl.Series("parent_kind", kind).gather(parent),
        )
        .join(sharing, on="matched", how="left")
        .with_columns(
            pl.when(pl.col("matched").is_not_null())
            .then(pl.col("families").fill_null(1))
            .alias("families")
        )
        .with_columns(
            pl.concat_str(
                pl.col("stripped").fill_null(False).cast(pl.String),
                pl.col("same_namespace").cast(pl.String),
                pl.col("span_tokens").clip(upper_bound=6).cast(pl.String),
                pl.col("families").clip(upper_bound=3).cast(pl.String),
                pl.col("parent_kind"),
                separator="|",
                ignore_nulls=True,
            ).alias("bucket")
        )
    )


def _architecture(subjects: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Root family only: the family most declared derivatives of the same architecture and
    size bucket have (for a declared derivative itself: most of the others). Only for
    models whose own files say they are a conversion or an adapter."""
    known = subjects.filter(pl.col("architecture").is_not_null() & pl.col("size").is_not_null())
    members = known.join(truth.select("idx", "primary"), on="idx")
    counts = (
        members.group_by("architecture", "size", "primary")
        .len("count")
        .sort(["count", "primary"], descending=[True, False])
        .group_by("architecture", "size", maintain_order=True)
        .agg(
            pl.col("primary").first().alias("top"),
            pl.col("count").first().alias("top_count"),
            pl.col("primary").get(1, null_on_oob=True).alias("second"),
            pl.col("count").get(1, null_on_oob=True).fill_null(0).alias("second_count"),
        )
    )
    own = pl.col("primary") == pl.col("top")
    return (
        known.filter(pl.col("looks_derived") | pl.col("has_parent"))
        .join(counts, on=["architecture", "size"])
        .join(truth.select("idx", "primary"), on="idx", how="left")
        .select(
            "idx",
            pl.lit(None, pl.UInt32).alias("parent"),
            # Leave a declared member out of its own group's vote.
            pl.when(own.fill_null(False) & (pl.col("top_count") - 1 < pl.col("second_count")))
            .then(pl.col("second"))
            .otherwise(pl.col("top"))
            .alias("root"),
            pl.lit("architecture").alias("method"),
            pl.concat_str("architecture", "size", separator=" ").alias("evidence"),
            pl.concat_str("architecture", "size", separator="|").alias("bucket"),
        )
        .filter(pl.col("root").is_not_null() & (pl.col("root") != pl.col("idx")))
    )


def _calibrate(
    proposals: pl.DataFrame,
    truth: pl.DataFrame,
    skip: pl.DataFrame | None = None,
    scale: float = 1.0,
) -> pl.DataFrame:
    """Confidence per (method, bucket): the share of declared derivatives alike whose
    proposal names one of their declared root families, shrunk toward the method's share
    (:data:`BUCKET_WEIGHT` pseudo-counts), itself shrunk toward :data:`PRIORS`. A row with
    bucket ``*`` per method holds the method's share, for buckets no declared derivative
    is in. Models in ``skip`` (idx) are left out. ``truth`` may be a sample of the declared
    derivatives, each standing for ``scale`` of them: counts are scaled back up (so the
    pseudo-counts weigh what they weigh on the whole store) and rounded in the table."""
    if skip is not None:
        truth = truth.join(skip, on="idx", how="anti")
    scored = (
        proposals.filter(pl.col("root").is_not_null())
        .join(truth.select("idx", "roots"), on="idx", how="left")
        .with_columns(
            pl.col("roots").is_not_null().alias("declared"),
            pl.col("roots").list.contains(pl.col("root")).fill_null(False).alias("right"),
        )
    )
    prior = pl.col("method").replace_strict(PRIORS, return_dtype=pl.Float64)
    by_method = (
        scored.group_by("method")
        .agg(
            (pl.col("declared").sum() * scale).alias("m_n"),
            (pl.col("right").sum() * scale).alias("m_right"),
        )
        .with_columns(
            ((pl.col("m_right") + PRIOR_WEIGHT * prior) / (pl.col("m_n") + PRIOR_WEIGHT)).alias(
                "method_share"
            )
        )
    )
    return (
        scored.group_by("method", "bucket")
        .agg(
            (pl.col("declared").sum() * scale).alias("declared"),
            (pl.col("right").sum() * scale).alias("right"),
            (~pl.col("declared")).sum().cast(pl.Int64).alias("undeclared"),
        )
        .join(by_method, on="method")
        .with_columns(
            (
                (pl.col("right") + BUCKET_WEIGHT * pl.col("method_share"))
                / (pl.col("declared") + BUCKET_WEIGHT)
            ).alias("confidence")
        )
        .select(
            "method",
            "bucket",
            pl.col("declared").round().cast(pl.Int64),
            pl.col("right").round().cast(pl.Int64),
            "undeclared",
            "confidence",
        )
        .vstack(
            by_method.select(
                "method",
                pl.lit("*").alias("bucket"),
                pl.col("m_n").round().cast(pl.Int64).alias("declared"),
                pl.col("m_right").round().cast(pl.Int64).alias("right"),
                pl.lit(0, pl.Int64).alias("undeclared"),
                pl.col("method_share").alias("confidence"),
            )
        )
        .sort("method", "bucket")
    )


def _scored(proposals: pl.DataFrame, calibration: pl.DataFrame) -> pl.DataFrame:
    """Proposals with the confidence of their bucket, else of their method, else the
    method's prior."""
    shares = calibration.filter(pl.col("bucket") == "*").select(
        "method", pl.col("confidence").alias("method_share")
    )
    return (
        proposals.join(
            calibration.filter(pl.col("bucket") != "*").select("method", "bucket", "confidence"),
            on=["method", "bucket"],
            how="left",
        )
        .join(shares, on="method", how="left")
        .with_columns(
            pl.coalesce(
                "confidence",
                "method_share",
                pl.col("method").replace_strict(PRIORS, return_dtype=pl.Float64),
            ).alias("confidence")
        )
        .drop("method_share")
    )
