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
from dataclasses import dataclass

import numpy as np
import polars as pl

from .attribution import attribute, primary_roots
from .errors import NotInStore
from .graph import graph_from_frames, with_edges
from .names import (
    ADAPTER_TOKEN,
    between_names,
    embedded_id,
    has_format,
    key_spans,
    match_key,
    model_name,
    reupload_key,
    strip_formats,
)
from .repo_id import repo_id_expr
from .schema import INFERRED_SCHEMA, MODEL_SCHEMA, UTC_US
from .store import Store
from .vocabulary import DEFAULT_MIN_CONFIDENCE

METHODS = (
    "adapter-config",
    "card-base-model",
    "card-mergekit",
    "name-id",
    "card-link",
    "config-name",
    "name-exact",
    "reupload",
    "name-contained",
    "config-shape",
    "architecture",
)
# Evidence kinds of models' own files (lineage.evidence) and the method each one is.
FILE_METHODS = {
    "base_model": "card-base-model",
    "mergekit": "card-mergekit",
    "link": "card-link",
    "name_or_path": "config-name",
}


# What each method's proposals are worth before the store says otherwise (PRIOR_WEIGHT
# pseudo-counts): set by hand, at or below what the evaluation measured for the name
# methods (docs/methodology.md); guesses for the others. They matter only where a store
# has few declared derivatives with the same evidence.
PRIORS = {
    "adapter-config": 0.9,
    "card-base-model": 0.9,
    "card-mergekit": 0.85,
    "card-link": 0.85,
    "config-name": 0.8,
    "config-shape": 0.6,
    "name-id": 0.9,
    "name-exact": 0.8,
    "reupload": 0.8,
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
_REUPLOAD_PAIRS = 500_000  # (model, possible original) pairs weighed at a time (~0.3 GB)
_SIZE_BUCKETS = [0.2e9, 0.6e9, 1.5e9, 3.5e9, 5e9, 9e9, 15e9, 25e9, 40e9, 80e9]
INFERENCE_COLUMNS = (
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

    ``edges``: one row per model given a proposal (:data:`INFERRED_SCHEMA`); a merge whose
    card names its sources has one row per source, in their order.
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
        return method_summary(self.edges, min_confidence)


def method_summary(
    edges: pl.DataFrame, min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> pl.DataFrame:
    """Per method of inferred ``edges``: models given lineage, those at ``min_confidence``
    or more, with a parent, mean confidence (a merge's several rows count once)."""
    edges = edges.unique("child", keep="first", maintain_order=True)
    order = pl.DataFrame({"method": list(METHODS), "order": range(len(METHODS))})
    return (
        edges.group_by("method")
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

    # Of the tags, only what the relations read (_tag_marks), not every model's list.
    models = complete_models(
        store.scan("models")
        .select(*(c for c in INFERENCE_COLUMNS if c != "tags"), *_tag_marks())
        .collect()
    )
    if models.height == 0:
        raise NotInStore(f"the store at {store.path} is empty; run `lineage crawl` first")
    # The store's kept declared graph and attribution (lineage.derived), not built again
    # here, when its nodes are these models in this order.
    graph = derived.graph(store)
    kept = graph.frame("nodes", ["id"])["id"].head(models.height)
    if graph.n < models.height or not kept.equals(models["id"]):
        graph = None
    del kept
    # infer_frames narrows the models frame once it has read it; a reference held here
    # would keep all of it for the whole run.
    held = [models]
    del models
    return infer_frames(
        held.pop(),
        store.read("edges"),
        store.read("lookups"),
        now=now,
        graph=graph,
        attribution=derived.attribution(store, graph) if graph is not None else None,
        calibration_sample=calibration_sample,
        evidence=store.read("file_evidence"),
    )


def save(store: Store, inference: Inference) -> None:
    """Replace the store's inferred edges (atomically, holding the writer lock)."""
    with store.lock():
        store.write_tables({"inferred_edges": inference.edges})


# -- inference over frames ------------------------------------------------------------------


def infer_frames(
    models: pl.DataFrame,
    edges: pl.DataFrame,
    lookups: pl.DataFrame,
    *,
    now: dt.datetime | None = None,
    chunk_rows: int = 50_000,
    calibration: pl.DataFrame | None = None,
    not_calibrating: pl.DataFrame | None = None,
    calibration_sample: int | None = CALIBRATION_SAMPLE,
    graph=None,
    attribution=None,
    evidence: pl.DataFrame | None = None,
    origins: pl.DataFrame | None = None,
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
    ``models`` may carry, instead of ``tags``, what they say (:func:`_tag_marks`' columns).
    """
    now = now or dt.datetime.now(dt.UTC)
    # Node idx i is row i of models (graph_from_frames numbers models in order): columns
    # of models are gathered by position, never joined on ids.
    # Memory: on a store of millions of models every frame held from here to the end is
    # paid for at the end's peak (families, buckets, relations), so each is dropped, or
    # narrowed to the columns still read, as soon as its last reader is done.
    models = complete_models(models)
    declared = graph if graph is not None else graph_from_frames(models, edges, lookups)
    del edges
    nodes = _nodes(declared, origins)
    truth = _declared_roots(declared, attribution)
    evidence = _evidence_of(nodes, evidence, lookups)
    del lookups
    subjects = _subjects(nodes, models, evidence)
    # All the end reads of models (_relations); the rest of it is in subjects now.
    marked = all(c in models.columns for c in _TAG_MARKS)
    models = models.select(
        "library_name", "adapter_base", *(_TAG_MARKS if marked else _tag_marks())
    )
    undeclared = subjects.filter(~pl.col("has_parent")).select("idx")
    # (model, one of its declared roots): a parentless model's declared descendants.
    descends = truth.select(pl.col("idx").alias("cidx"), pl.col("roots").alias("idx")).explode(
        "idx"
    )
    # The models whose proposals count: those that declare nothing, and the declared
    # derivatives the calibration measures (a sample of them on a big store).
    sample, scale = _calibration_sample(
        subjects, None if calibration is None else 0, calibration_sample
    )
    architecture = _architecture(subjects, truth)
    architecture = architecture.join(undeclared, on="idx", how="semi").vstack(
        architecture.join(sample, on="idx", how="semi")
    )
    matched = (
        subjects.filter(~pl.col("has_parent"))
        .vstack(subjects.join(sample, on="idx", how="semi"))
        .select(*_MATCHED, "adapter_base", "embedded")
    )
    del subjects
    # Known models: every node, declared parents never crawled included.
    by_id = _by_id(nodes)
    found = [
        pl.DataFrame(schema=_PROPOSAL_SCHEMA),
        _resolved(matched, by_id, "adapter_base", "adapter-config"),
        _resolved(matched, by_id, "embedded", "name-id"),
    ]
    del by_id
    matched = matched.select(_MATCHED)
    candidates = _candidates(nodes)
    found.extend(
        _name_matches(matched.slice(start, chunk_rows), candidates, descends)
        for start in range(0, matched.height, chunk_rows)
    )
    # The buckets read only which names several models share.
    shared = candidates.filter("shared").select("cidx", "ckey", "shared")
    del candidates
    found.append(_reuploads(matched, nodes, descends))
    found.append(_file_proposals(matched, evidence, nodes, descends))
    del matched, descends
    proposals = pl.concat(found, how="diagonal_relaxed")
    del found
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
    proposals = (
        _evidence_buckets(proposals, nodes, provisional, shared, family)
        .filter(pl.col("root") != pl.col("idx"))
        .with_columns(_own_bucket())
    )
    proposals = pl.concat(
        [proposals, architecture, _shapes(evidence, truth, nodes)], how="diagonal_relaxed"
    )
    del shared, architecture
    if calibration is None:
        skip = (
            nodes.join(not_calibrating.select("id"), on="id").select("idx")
            if not_calibrating is not None
            else None
        )
        calibration = _calibrate(proposals, truth.join(sample, on="idx", how="semi"), skip, scale)
    del truth, evidence
    # Only the undeclared models' proposals from here on: the calibration sample's go
    # before they are scored, and the rest once the best of each is chosen.
    proposals = proposals.join(undeclared, on="idx")
    chosen = (
        _scored(proposals, calibration)
        .filter(pl.col("root").is_not_null())
        .sort(pl.col("confidence"), order, descending=[True, False])
        .unique("idx", keep="first", maintain_order=True)
        .sort("idx")
    )
    del proposals
    ids = nodes["id"]
    chosen = chosen.with_columns(
        pl.coalesce("relation", _relations(chosen["idx"], nodes, models)).alias("relation")
    )
    del nodes, models
    # A merge's other sources: one more row each, in the order its card gives them.
    others = (
        chosen.filter(pl.col("more").list.len() > 0)
        .select(
            "idx", "method", "confidence", "evidence", "relation", pl.col("more").alias("parent")
        )
        .explode("parent")
    )
    others = others.with_columns(
        pl.Series("root", family, pl.UInt32).gather(others["parent"]).alias("root")
    )
    rows = _acyclic(
        declared,
        pl.concat(
            [
                chosen.select(
                    "idx", "parent", "root", "relation", "method", "confidence", "evidence"
                ),
                others.select(
                    "idx", "parent", "root", "relation", "method", "confidence", "evidence"
                ),
            ]
        ),
    )
    out = rows.with_columns(
        ids.gather(rows["idx"]).alias("child"),
        ids.gather(rows["parent"].fill_null(0)).alias("parent_id"),
        ids.gather(rows["root"]).alias("root_id"),
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
    # Sorted by child, a merge's sources in their order (the first is its first parent).
    return Inference(
        out.sort("child", maintain_order=True).cast(INFERRED_SCHEMA),  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
        calibration,
        undeclared.height,
    )


def _acyclic(declared, rows: pl.DataFrame) -> pl.DataFrame:
    """The inferred ``rows`` less those that would close a cycle with declared lineage and
    the other inferred rows (chains of inferred lineage reach an origin; a cycle of them,
    two merges naming each other, is refused): in each cycle the inferred edge whose
    parent is newest relative to its child goes, as :mod:`lineage.graph` breaks cycles."""
    extra = rows.select(
        pl.col("idx").alias("child"),
        pl.coalesce("parent", "root").alias("parent"),
        pl.col("relation").fill_null("finetune"),
        pl.lit(True).alias("inferred"),
        pl.int_range(pl.len(), dtype=pl.Int32).over("idx").alias("position"),
        pl.lit("inferred").alias("lineage"),
        "method",
        "confidence",
    )
    graph = with_edges(declared, extra)
    if not graph.broken.height:
        return rows
    ids = graph.nodes.select("idx", "id")
    broken = (
        graph.broken.filter(pl.col("lineage") == "inferred")
        .join(ids.rename({"id": "child", "idx": "c"}), on="child")
        .join(ids.rename({"id": "parent", "idx": "p"}), on="parent")
        .select(pl.col("c").cast(pl.UInt32).alias("idx"), pl.col("p").cast(pl.UInt32).alias("to"))
    )
    return (
        rows.with_columns(pl.coalesce("parent", "root").alias("to"))
        .join(broken, on=["idx", "to"], how="anti", maintain_order="left")
        .drop("to")
    )


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
    "own_bucket": pl.String(),
    "relation": pl.String(),  # what the evidence says the model is of its parent, if it says
    "more": pl.List(pl.UInt32()),  # a merge's other sources, in order
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
    """The models frame with every column inference reads (absent ones null), and what the
    tags say (:func:`_tag_marks`' columns) if it has that."""
    missing = [c for c in INFERENCE_COLUMNS if c not in models.columns]
    marks = [c for c in _TAG_MARKS if c in models.columns]
    return models.with_columns(pl.lit(None, MODEL_SCHEMA[c]).alias(c) for c in missing).select(
        *INFERENCE_COLUMNS, *marks
    )


def _nodes(graph, origins: pl.DataFrame | None = None) -> pl.DataFrame:
    """The declared graph's nodes (row = idx) with what matching needs: declared parents
    and children, lowercase organizations and name keys, and whether the organization is an
    origin (one the region table knows: ``origins``' ``key``, default the packaged table's).
    Held throughout :func:`infer_frames`, so it keeps no column that one step alone reads
    (the name, the lowercase id: :func:`_name`, :func:`_by_id`)."""
    if origins is None:
        from .regions import load_regions

        origins = load_regions().filter(pl.col("region") != "unknown")
    n = graph.n
    return graph.nodes.select(
        "idx", "id", "status", "org", "created_at", "downloads_all_time", "crawled"
    ).with_columns(
        pl.Series("has_parent", np.bincount(graph.edges["child"].to_numpy(), minlength=n) > 0),
        pl.Series(
            "n_children", np.bincount(graph.edges["parent"].to_numpy(), minlength=n), pl.Int64
        ),
        pl.col("org").str.to_lowercase().alias("org_key"),
        match_key(model_name(pl.col("id"))).alias("name_key"),
        pl.col("org").str.to_lowercase().is_in(origins["key"].implode()).alias("origin"),
    )


def _name() -> pl.Expr:
    """A node's model name (its id without the organization), for the steps that read it."""
    return model_name(pl.col("id")).alias("name")


def _by_id(nodes: pl.DataFrame) -> pl.DataFrame:
    """Known models by lowercase id (``id_key``; the first node of an id in any case), as
    parents: ``parent`` (idx) and ``pcreated``."""
    return nodes.select(
        pl.col("id").str.to_lowercase().alias("id_key"),
        pl.col("idx").alias("parent"),
        pl.col("created_at").alias("pcreated"),
    ).unique("id_key", keep="first", maintain_order=True)


def _declared_roots(graph, attribution=None) -> pl.DataFrame:
    """Each declared derivative's root families: idx, roots, primary (node indices)."""
    roots = (
        (attribution or attribute(graph))
        .weights.group_by(pl.col("derivative").alias("idx"))
        .agg(pl.col("root").alias("roots"))
    )
    primary = primary_roots(graph)[roots["idx"].to_numpy()]
    return roots.with_columns(pl.Series("primary", primary, pl.UInt32))


def _subjects(
    nodes: pl.DataFrame, models: pl.DataFrame, evidence: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Crawled models with the evidence every method reads: the name's stem and key
    (format affixes off), the names between, the adapter base (the listing's, else its
    adapter_config.json's), an id embedded in the name, the architecture, the size bucket,
    and whether the model's own files say it is a conversion or an adapter."""
    frame = (
        nodes.slice(0, models.height)
        .with_columns(models.select(_FACTS))
        .filter("crawled")
        .with_columns(_name())
        .select("idx", "org_key", "origin", "created_at", "has_parent", "name", "name_key", *_FACTS)
    )
    if evidence is not None and evidence.height:
        fetched = (
            evidence.filter(pl.col("kind") == "adapter_base")
            .sort("position")
            .unique("idx", keep="first")
            .select("idx", pl.col("target").alias("fetched_base"))
        )
        frame = (
            frame.join(fetched, on="idx", how="left")
            .with_columns(pl.coalesce("adapter_base", "fetched_base").alias("adapter_base"))
            .drop("fetched_base")
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


# What the proposals of the name and file methods read of a model (_name_matches,
# _reuploads, _file_proposals).
_MATCHED = (
    "idx",
    "org_key",
    "origin",
    "created_at",
    "stripped",
    "name",
    "key",
    "between",
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
            "id": nodes["id"].gather(idx),
            **{c: models[c].gather(idx) for c in ("library_name", "adapter_base", *_TAG_MARKS)},
        }
    ).with_columns(_name())
    library = pl.col("library_name").fill_null("").str.to_lowercase()
    peeled = pl.col("name").str.slice(strip_formats(pl.col("name")).str.len_chars())
    formats = peeled.str.replace_all(rf"(?i)[-_. ]+{ADAPTER_TOKEN}", "")
    adapter = (
        (library == "peft")
        | pl.col("tag_adapter")
        | pl.col("adapter_base").is_not_null()
        | peeled.str.contains(rf"(?i){ADAPTER_TOKEN}")
    )
    quantized = (
        (formats.str.len_chars() > 0) | library.is_in(["gguf", "mlx"]) | pl.col("tag_quantized")
    )
    merge = pl.col("tag_merge")
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


def _tag_marks() -> list[pl.Expr]:
    """What :func:`_relations` reads of a model's ``tags`` (any case): whether they say it
    is an adapter, quantized, a merge (:data:`_TAG_MARKS`)."""
    tags = pl.col("tags").fill_null([]).list.eval(pl.element().str.to_lowercase())
    said = {
        "tag_adapter": ["peft", "lora", "adapter"],
        "tag_quantized": _QUANTIZED_TAGS,
        "tag_merge": ["merge", "mergekit"],
    }
    return [
        tags.list.eval(pl.element().is_in(said[mark])).list.any().alias(mark) for mark in _TAG_MARKS
    ]


_TAG_MARKS = ("tag_adapter", "tag_quantized", "tag_merge")
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
        pl.col("origin").alias("corigin"),
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


def _from_origin(child: str, parent: str) -> pl.Expr:
    """A model of an origin organization (one the region table knows) is named after no
    model outside those: by names, its parent is another origin's (``Qwen/Qwen2.5-7B-
    Instruct`` is not a derivative of ``unsloth/Qwen2.5-7B-Instruct``, the other way round)."""
    return ~pl.col(child) | pl.col(parent)


def _older(child: str, parent: str) -> pl.Expr:
    """A parent must not be newer than its child (unknown dates do not exclude)."""
    return (pl.col(parent) <= pl.col(child)) | pl.col(parent).is_null() | pl.col(child).is_null()


def _copied(column: str) -> pl.Expr:
    """``column``'s strings copied into buffers of their own. A polars string column keeps
    every buffer its values point into, so the one row per model a step keeps of a join of
    millions would otherwise keep all of the join's strings alive (at 2.5M models the name
    matching's chunks kept about 1 GB so, ten times what their rows hold)."""
    return pl.concat_str(pl.col(column), pl.lit("")).alias(column)


def _name_matches(
    subjects: pl.DataFrame, candidates: pl.DataFrame, descends: pl.DataFrame
) -> pl.DataFrame:
    """Per model, the best known model whose name its own (affixes stripped) contains: the
    longest match, then the same namespace, then the best ranked. A model's own declared
    descendants are not candidates; a single token matches only a one-token name."""
    columns = ("idx", "org_key", "origin", "created_at", "stripped")
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
            & _from_origin("origin", "corigin")
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
        .with_columns(_copied("span"))
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


def _reuploads(subjects: pl.DataFrame, nodes: pl.DataFrame, descends: pl.DataFrame) -> pl.DataFrame:
    """Per model, the original it re-uploads: a model of another namespace whose name is
    the same once re-uploaders' changes are undone (:func:`lineage.names.reupload_key`).

    An original carries no format affix (a GGUF is never what a full checkpoint
    re-uploads). Among several, the original's own root first (no declared parent,
    declared children), then one of the organization the name is named after
    (:func:`_eponymous`: ``meta-llama`` for ``Llama-3-8B``), then of an origin
    organization (:func:`_from_origin`), then the oldest, then the one with most declared
    children. A model of its name's own organization is re-uploaded, never a re-upload
    (``meta-llama/Llama-3.1-8B-Instruct`` gets no original in ``NousResearch``). Keys of
    one token (``model``, ``test``) say nothing; a model's own declared descendants are
    never its original.
    """
    asked = subjects.select(
        "idx",
        "org_key",
        "origin",
        "created_at",
        "stripped",
        reupload_key(pl.col("name")).alias("rkey"),
    ).filter(pl.col("rkey").str.contains("-", literal=True))
    keyed = (
        nodes.with_columns(_name())
        .select(
            pl.col("idx").alias("cidx"),
            pl.col("org_key").alias("corg"),
            pl.col("origin").alias("corigin"),
            pl.col("created_at").alias("ccreated"),
            (~pl.col("has_parent") & (pl.col("n_children") > 0)).alias("own_root"),
            pl.col("n_children").alias("cchildren"),
            reupload_key(pl.col("name")).alias("rkey"),
            # An original is no conversion: a GGUF is never what a full checkpoint re-uploads.
            has_format(pl.col("name")).alias("converted"),
        )
        .filter(~pl.col("converted"))
        .join(asked.select("rkey").unique(), on="rkey", how="semi")
    )
    keyed = keyed.join(_eponymous(keyed, "cidx", "corg", "rkey"), on="cidx", how="left")
    eponym = _eponymous(asked, "idx", "org_key", "rkey")
    asked = asked.join(eponym.rename({"eponymous": "own_name"}), on="idx", how="left")
    # Every (model, possible original) pair of one name is weighed: a name re-uploaded by
    # a thousand namespaces and asked about by two thousand makes two million pairs. So
    # the models go in slices of about _REUPLOAD_PAIRS pairs, in idx order (the order of
    # the answer); each model's choice depends on its own pairs alone.
    asked = (
        asked.sort("idx")
        .join(keyed.group_by("rkey").len("pairs"), on="rkey", how="left", maintain_order="left")
        .with_columns((pl.col("pairs").fill_null(0).cum_sum() // _REUPLOAD_PAIRS).alias("slice"))
        .drop("pairs")
    )
    parts = asked.partition_by("slice", maintain_order=True, include_key=False)
    return pl.concat(
        [_reupload_choice(part, keyed, descends) for part in parts]
        or [_reupload_choice(asked.drop("slice"), keyed, descends)]
    )


def _reupload_choice(
    asked: pl.DataFrame, keyed: pl.DataFrame, descends: pl.DataFrame
) -> pl.DataFrame:
    """Per model of ``asked``, its original among ``keyed`` (see :func:`_reuploads`)."""
    return (
        asked.lazy()
        .join(keyed.lazy(), on="rkey")
        .with_columns(pl.col("eponymous", "own_name").fill_null(False))
        .filter(
            (pl.col("cidx") != pl.col("idx"))
            & (pl.col("corg") != pl.col("org_key")).fill_null(True)
            & _older("created_at", "ccreated")
            & _from_origin("origin", "corigin")
            & _from_origin("own_name", "eponymous")
        )
        .join(descends.lazy(), on=["idx", "cidx"], how="anti")
        .sort(
            ["idx", "own_root", "eponymous", "corigin", "ccreated", "cchildren", "cidx"],
            descending=[False, True, True, True, False, True, False],
            nulls_last=True,
        )
        .unique("idx", keep="first", maintain_order=True)
        .with_columns(_copied("rkey"))
        .select(
            "idx",
            pl.col("cidx").alias("parent"),
            pl.lit("reupload").alias("method"),
            "stripped",
            pl.lit(False).alias("same_namespace"),
            pl.col("rkey")
            .str.count_matches("-", literal=True)
            .add(1)
            .cast(pl.Int32)
            .alias("span_tokens"),
            pl.col("rkey").alias("matched"),
            pl.col("rkey").alias("evidence"),
            # What the choice rests on: a format peeled, the original its own root, of its
            # name's organization, of an origin organization, how long the name is.
            pl.concat_str(
                pl.col("stripped").fill_null(False).cast(pl.String),
                pl.col("own_root").cast(pl.String),
                pl.col("eponymous").cast(pl.String),
                pl.col("corigin").cast(pl.String),
                pl.col("rkey")
                .str.count_matches("-", literal=True)
                .add(1)
                .clip(upper_bound=5)
                .cast(pl.String),
                separator="|",
            ).alias("own_bucket"),
        )
        .collect()
    )


def _eponymous(frame: pl.DataFrame, idx: str, org: str, key: str) -> pl.DataFrame:
    """Whether a model's organization is what its name is named after: a word of three
    letters or more of the name that begins a word of the organization's, or the other
    way round (``meta-llama``: Llama; ``mistralai``: Mistral; ``Qwen``: Qwen2.5).

    >>> frame = pl.DataFrame({"i": [0, 1, 2], "o": ["meta-llama", "unsloth", "mistralai"],
    ...     "k": ["llama-3-8b", "llama-3-8b", "mistral-7b-v-0-1"]})
    >>> _eponymous(frame, "i", "o", "k").sort("i")["eponymous"].to_list()
    [True, False, True]
    """
    words = pl.element().filter(pl.element().str.len_chars() >= 3)
    org_words = frame.select(
        idx, match_key(pl.col(org)).str.split("-").list.eval(words).alias("ow")
    ).explode("ow")
    name_words = frame.select(idx, pl.col(key).str.split("-").list.eval(words).alias("nw")).explode(
        "nw"
    )
    pairs = org_words.drop_nulls().join(name_words.drop_nulls(), on=idx)
    return (
        pairs.with_columns(
            (
                pl.col("ow").str.starts_with(pl.col("nw"))
                | pl.col("nw").str.starts_with(pl.col("ow"))
            ).alias("eponymous")
        )
        .group_by(idx)
        .agg(pl.col("eponymous").any())
    )


def _evidence_of(
    nodes: pl.DataFrame, evidence: pl.DataFrame | None, lookups: pl.DataFrame
) -> pl.DataFrame | None:
    """The ``file_evidence`` findings of known models, with the node (``idx``) of the
    model and of the model each names (``target_idx``; renames and case resolved as the
    graph resolves declared parents, null for a model the store does not know)."""
    if evidence is None or not evidence.height:
        return None
    keys = nodes.select(
        pl.col("id").str.to_lowercase().alias("id_key"),
        "idx",
        pl.col("created_at").alias("tcreated"),
    )
    renamed = (
        lookups.filter(pl.col("id").is_not_null())
        .select(
            pl.col("query").str.to_lowercase().alias("tkey"),
            pl.col("id").str.to_lowercase().alias("renamed_to"),
        )
        .unique("tkey")
    )
    found = (
        evidence.filter(pl.col("kind").is_not_null())
        .join(
            keys.select("id_key", "idx"),
            left_on=pl.col("model").str.to_lowercase(),
            right_on="id_key",
        )
        .with_columns(pl.col("target").str.to_lowercase().alias("tkey"))
        .join(renamed, on="tkey", how="left")
        .with_columns(pl.coalesce("renamed_to", "tkey").alias("tkey"))
        .join(
            keys.unique("id_key", keep="first").rename({"idx": "target_idx"}),
            left_on="tkey",
            right_on="id_key",
            how="left",
        )
    )
    return found.select(
        "idx", "file", "kind", "target", "relation", "position", "target_idx", "tcreated"
    )


def _file_proposals(
    subjects: pl.DataFrame,
    evidence: pl.DataFrame | None,
    nodes: pl.DataFrame,
    descends: pl.DataFrame,
) -> pl.DataFrame:
    """Proposals from what models' own files name (:mod:`lineage.evidence`): per model and
    kind of evidence (:data:`FILE_METHODS`) the first model named that the store knows,
    is not newer and does not derive from it; a merge's other sources ride along
    (``more``). Their bucket: how many sources, what the file says the relation is,
    whether the parent is its own root, and how many other kinds of evidence name the
    same parent (cards and configs that agree)."""
    if evidence is None:
        return pl.DataFrame(schema=_PROPOSAL_SCHEMA)
    named = (
        evidence.filter(
            pl.col("kind").is_in(list(FILE_METHODS)) & pl.col("target_idx").is_not_null()
        )
        .join(subjects.select("idx", "created_at", "stripped"), on="idx")
        .rename({"target_idx": "cidx"})
        .filter((pl.col("cidx") != pl.col("idx")) & _older("created_at", "tcreated"))
        .join(descends, on=["idx", "cidx"], how="anti")
    )
    agreeing = named.group_by("idx", "cidx").agg(pl.col("kind").n_unique().alias("agree"))
    own_root = nodes.select(
        pl.col("idx").alias("cidx"),
        (~pl.col("has_parent") & (pl.col("n_children") > 0)).alias("own"),
    )
    per_kind = (
        named.sort("idx", "kind", "file", "position")
        .unique(["idx", "kind", "cidx"], keep="first", maintain_order=True)
        .group_by("idx", "kind", maintain_order=True)
        .agg(
            pl.col("cidx").first().alias("parent"),
            pl.col("cidx").slice(1).alias("more"),
            pl.col("relation").first(),
            pl.col("target").first().alias("evidence"),
            pl.col("stripped").first(),
            pl.len().alias("sources"),
        )
        .join(agreeing.rename({"cidx": "parent"}), on=["idx", "parent"], how="left")
        .join(own_root.rename({"cidx": "parent"}), on="parent", how="left")
    )
    is_merge = (pl.col("kind") == "mergekit") | (pl.col("relation") == "merge")
    return per_kind.select(
        "idx",
        pl.col("parent").cast(pl.UInt32),
        pl.col("kind").replace_strict(FILE_METHODS).alias("method"),
        "stripped",
        "evidence",
        # Only a merge has several parents; other kinds name their first model.
        pl.when(is_merge)
        .then(pl.col("more"))
        .otherwise(pl.lit([], pl.List(pl.UInt32)))
        .cast(pl.List(pl.UInt32))
        .alias("more"),
        pl.when(is_merge).then(pl.lit("merge")).otherwise(pl.col("relation")).alias("relation"),
        pl.concat_str(
            pl.col("sources").clip(upper_bound=3).cast(pl.String),
            pl.col("relation").fill_null("-"),
            pl.col("own").fill_null(False).cast(pl.String),
            pl.col("agree").clip(upper_bound=3).cast(pl.String),
            separator="|",
        ).alias("own_bucket"),
    )


def _shapes(
    evidence: pl.DataFrame | None, truth: pl.DataFrame, nodes: pl.DataFrame
) -> pl.DataFrame:
    """``config-shape``, root family only: the family most fetched configs of the same
    fingerprint (architecture and sizes) belong to, among declared derivatives (for a
    declared derivative itself: most of the others).

    A shape is shared by a family's original and by look-alikes trained from scratch, so
    it is no evidence that a model is not an original: never for a model of an origin
    organization (:func:`_from_origin`), nor for one whose own declared derivatives share
    its fingerprint.
    """
    if evidence is None:
        return pl.DataFrame(schema={"idx": pl.UInt32, "root": pl.UInt32})
    shapes = evidence.filter(pl.col("kind") == "shape").unique("idx").select("idx", "target")
    members = shapes.join(truth.select("idx", "primary"), on="idx")
    originals = members.select(pl.col("primary").alias("idx"), "target").unique()
    shapes = shapes.join(originals, on=["idx", "target"], how="anti").join(
        nodes.filter("origin").select("idx"), on="idx", how="anti"
    )
    counts = (
        members.group_by("target", "primary")
        .len("count")
        .sort(["count", "primary"], descending=[True, False])
        .group_by("target", maintain_order=True)
        .agg(
            pl.col("primary").first().alias("top"),
            pl.col("count").first().alias("top_count"),
            pl.col("primary").get(1, null_on_oob=True).alias("second"),
            pl.col("count").get(1, null_on_oob=True).fill_null(0).alias("second_count"),
            pl.col("count").sum().alias("votes"),
        )
    )
    own = pl.col("primary") == pl.col("top")
    alone = own.fill_null(False) & (pl.col("top_count") - 1 < pl.col("second_count"))
    voters = pl.col("votes") - own.fill_null(False).cast(pl.UInt32)
    return (
        shapes.join(counts, on="target")
        .join(truth.select("idx", "primary"), on="idx", how="left")
        .select(
            "idx",
            pl.lit(None, pl.UInt32).alias("parent"),
            pl.when(alone).then(pl.col("second")).otherwise(pl.col("top")).alias("root"),
            pl.lit("config-shape").alias("method"),
            pl.col("target").alias("evidence"),
            # How many configs voted, and how many of them for the family.
            pl.concat_str(
                voters.clip(upper_bound=5).cast(pl.String),
                (
                    pl.when(alone)
                    .then(pl.col("second_count"))
                    .otherwise(pl.col("top_count") - own.fill_null(False).cast(pl.UInt32))
                    / voters.clip(lower_bound=1)
                )
                .mul(4)
                .floor()
                .cast(pl.Int64)
                .cast(pl.String),
                separator="|",
            ).alias("bucket"),
            (voters > 0).alias("voted"),
        )
        .filter(pl.col("root").is_not_null() & (pl.col("root") != pl.col("idx")) & pl.col("voted"))
        .drop("voted")
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


def _own_bucket() -> pl.Expr:
    """The bucket of methods that say what their evidence is worth themselves
    (``own_bucket``), with what the parent is."""
    if_own = pl.concat_str("own_bucket", "parent_kind", separator="|")
    return (
        pl.when(pl.col("own_bucket").is_not_null())
        .then(if_own)
        .otherwise(pl.col("bucket"))
        .alias("bucket")
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
