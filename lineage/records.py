"""Model records: the typed tables every source is parsed into, once, at the edge.

A batch of Hub answers (a listing page, a ``model_info`` answer, a slice of a hub-stats
dump) first becomes a *raw* frame (:data:`RAW_SCHEMA`, plain values, no interpretation),
then :func:`parse_raw` turns it, column-wise, into a :class:`Batch` of three typed frames:

- ``models`` (:data:`MODEL_SCHEMA`): one row per model;
- ``edges`` (:data:`EDGE_SCHEMA`): one row per declared (child, parent) pair, with the
  relation, whether lineage had to infer it, and where it was read;
- ``problems`` (:data:`PROBLEM_SCHEMA`): what was malformed or repaired in the declarations.

Where parents come from, in order: the Hub's ``base_model:[<relation>:]<id>`` tags (the Hub's
own reading of the card, renames resolved), then ``baseModels`` (``model_info`` and hub-stats
only), then the card's ``base_model`` (ids the Hub did not accept, such as URL forms).
A relation missing from all three is inferred from the repo's name, tags and library and
marked ``inferred``. Nothing downstream of this module reads raw JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from .cards import encode_card_value, parse_card_parents
from .repo_id import is_repo_id, quote_expr, repo_id_expr
from .schema import EDGE_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA, RAW_SCHEMA, UTC_US
from .vocabulary import (
    ADAPTER_TAGS,
    MERGE_TAGS,
    QUANTIZED_LIBRARIES,
    QUANTIZED_NAME,
    QUANTIZED_TAGS,
    RELATIONS,
)

_TAG = r"^base_model:(?:(adapter|finetune|merge|quantized):)?(.*)$"


@dataclass(frozen=True)
class Batch:
    """Parsed models, their declared edges and their card problems."""

    models: pl.DataFrame
    edges: pl.DataFrame
    problems: pl.DataFrame

    @classmethod
    def empty(cls) -> Batch:
        return cls(
            pl.DataFrame(schema=MODEL_SCHEMA),
            pl.DataFrame(schema=EDGE_SCHEMA),
            pl.DataFrame(schema=PROBLEM_SCHEMA),
        )

    @classmethod
    def concat(cls, batches: Iterable[Batch]) -> Batch:
        batches = list(batches)
        if not batches:
            return cls.empty()
        return cls(
            pl.concat([b.models for b in batches]),
            pl.concat([b.edges for b in batches]),
            pl.concat([b.problems for b in batches]),
        )


def int_or_none(value: object) -> int | None:
    """An integer JSON value, else None (booleans are not counts)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


# The API item's plain fields, each with its one reader. raw_from_items lays them out for
# parsing; the hub-stats dump writer of the tests (tests/support) lays them out as the dump
# does: both through append_fields, so the two cannot read a field differently.
API_FIELDS: dict[str, Callable[[object], object]] = {
    "author": str_or_none,
    "createdAt": str_or_none,
    "lastModified": str_or_none,
    "downloads": int_or_none,
    "downloadsAllTime": int_or_none,
    "likes": int_or_none,
    "pipeline_tag": str_or_none,
    "library_name": str_or_none,
}
# Where the raw frame's column names differ from the API's.
_RAW_NAMES = {
    "createdAt": "created_at",
    "lastModified": "last_modified",
    "downloadsAllTime": "downloads_all_time",
}


def append_fields(
    columns: dict[str, list[Any]],
    item: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
    *,
    empty_tags: bool = False,
) -> None:
    """Append ``item``'s :data:`API_FIELDS` and its string tags to ``columns`` (by API
    name, or as ``names`` renames them). Tags that are not a list are None (the dump's
    null), or an empty list with ``empty_tags`` (what parsing wants)."""
    names = names or {}
    for key, read in API_FIELDS.items():
        columns[names.get(key, key)].append(read(item.get(key)))
    tags = item.get("tags")
    if isinstance(tags, list):
        columns["tags"].append([t for t in tags if isinstance(t, str)])
    else:
        columns["tags"].append([] if empty_tags else None)


def api_time(name: str) -> pl.Expr:
    """An API time string column (``2024-11-01T00:00:00.000Z``) as UTC microseconds; null
    where it is no time."""
    return pl.col(name).str.to_datetime(time_unit="us", time_zone="UTC", strict=False)


def raw_from_items(items: Iterable[object]) -> tuple[pl.DataFrame, int]:
    """Lay out Hub API JSON items (listing items or ``model_info`` answers) as a raw frame.

    Returns the frame and the number of items skipped because they were not a model
    object with a valid repo ``id``.
    """
    rows: dict[str, list[Any]] = {name: [] for name in RAW_SCHEMA}
    skipped = 0
    for item in items:
        # A model's own id goes into later URLs (its children listing, lookups): the
        # same rule as for every declared parent.
        if not isinstance(item, Mapping) or not is_repo_id(item.get("id")):
            skipped += 1
            continue
        card = item.get("cardData")
        card = card if isinstance(card, Mapping) else {}
        base = item.get("baseModels")
        base = base if isinstance(base, Mapping) else {}
        base_list = base.get("models")
        safetensors = item.get("safetensors")
        config = item.get("config")
        config = config if isinstance(config, Mapping) else {}
        peft = config.get("peft")
        peft = peft if isinstance(peft, Mapping) else {}
        gguf = item.get("gguf")
        gguf = gguf if isinstance(gguf, Mapping) else {}
        rows["id"].append(item["id"])
        append_fields(rows, item, _RAW_NAMES, empty_tags=True)
        rows["parameters"].append(
            int_or_none(safetensors.get("total")) if isinstance(safetensors, Mapping) else None
        )
        rows["model_type"].append(str_or_none(config.get("model_type")))
        rows["gguf_architecture"].append(str_or_none(gguf.get("architecture")))
        rows["gguf_parameters"].append(int_or_none(gguf.get("total")))
        rows["adapter_base"].append(str_or_none(peft.get("base_model_name_or_path")))
        rows["base_models_relation"].append(str_or_none(base.get("relation")))
        rows["base_models"].append(
            [m["id"] for m in base_list if isinstance(m, Mapping) and isinstance(m.get("id"), str)]
            if isinstance(base_list, list)
            else None
        )
        rows["card_base_model"].append(encode_card_value(card.get("base_model")))
        rows["card_base_model_relation"].append(encode_card_value(card.get("base_model_relation")))
    schema = {**RAW_SCHEMA, "created_at": pl.String(), "last_modified": pl.String()}
    frame = pl.DataFrame(rows, schema=schema).with_columns(
        api_time(name) for name in ("created_at", "last_modified")
    )
    return frame, skipped


def parse_raw(
    raw: pl.DataFrame, *, seen_at: dt.datetime, source: str, crawled: bool = True
) -> Batch:
    """Turn a raw frame into typed models, edges and problems (column-wise)."""
    if raw["id"].n_unique() < raw.height:  # (a copy of every column only if needed)
        raw = raw.unique("id", keep="last", maintain_order=True)
    models = raw.select(
        pl.col("id"),
        pl.coalesce(
            "author",
            pl.when(pl.col("author").is_null()).then(pl.col("id")).str.extract(r"^([^/]+)/"),
        ).alias("author"),
        *[pl.col(c) for c in MODEL_SCHEMA if c in RAW_SCHEMA and c not in ("id", "author")],
        pl.lit(crawled).alias("crawled"),
        pl.lit(seen_at).cast(UTC_US).alias("seen_at"),
        pl.lit(source).alias("source"),
    )

    # The parsers keep the number of each edge's row: who has which parents is found by
    # row, not by hashing ids.
    tag_edges, bad_tags = _tag_edges(raw)
    base_edges, bad_base_models = _base_model_edges(
        raw.select(_ROW, "id", "base_models", "base_models_relation").filter(
            pl.col("base_models").list.len() > 0, ~_rows(raw.height, tag_edges)
        )
    )
    card_parents, card_relation, card_problems = _card_parents(raw)

    declared = pl.concat([tag_edges, base_edges]).with_columns(_KEY)
    card_parents = card_parents.with_columns(
        _KEY, _rows(raw.height, declared).gather(card_parents.get_column("row")).alias("have")
    )
    card_edges = (
        card_parents.filter(~pl.col("have"))
        .with_columns(pl.lit(None, pl.String).alias("relation"), pl.lit("card").alias("source"))
        .select("child", "parent", "relation", "source", "card_position")
    )
    # Parents the card names but the Hub did not turn into tags: the Hub could not
    # resolve them (missing repo, malformed id). Worth counting, not following.
    not_on_hub = (
        card_parents.filter("have")
        .join(declared.select("row", "key"), on=["row", "key"], how="anti")
        .select(
            pl.col("child").alias("model"),
            pl.lit("not_on_hub").alias("kind"),
            pl.col("parent").alias("detail"),
        )
    )

    edges = pl.concat(
        [
            declared.join(
                card_parents.select("row", "key", "card_position"),
                on=["row", "key"],
                how="left",
                maintain_order="left",
            ).select("child", "parent", "relation", "source", "card_position", "tag_position"),
            card_edges.with_columns(pl.lit(None, pl.Int64).alias("tag_position")),
        ],
        how="vertical_relaxed",
    )
    edges = edges.with_columns(
        (pl.col("child").str.to_lowercase() == pl.col("parent").str.to_lowercase()).alias("self")
    )
    self_refs = edges.filter("self")
    edges = edges.filter(~pl.col("self")).drop("self")

    edges = _fill_relations(edges, raw, card_relation)
    # A model's parents in the card's order, then the tags' (or baseModels'): one sort by
    # model and those positions, each model's rows then numbered from 0. (No two of a
    # model's edges have the same positions: the order is the same however the sort goes.)
    edges = edges.sort(
        "child", pl.col("card_position").fill_null(1 << 30), pl.col("tag_position").fill_null(0)
    )
    row = pl.int_range(pl.len(), dtype=pl.Int32)
    first = pl.col("child").ne_missing(pl.col("child").shift(1)).fill_null(True)
    edges = edges.with_columns(
        (row - pl.when(first).then(row).forward_fill()).alias("position")
    ).select(list(EDGE_SCHEMA))

    problems = pl.concat(
        [
            bad_tags,
            bad_base_models,
            card_problems,
            not_on_hub,
            self_refs.select(
                pl.col("child").alias("model"),
                pl.lit("self_reference").alias("kind"),
                pl.col("parent").alias("detail"),
            ),
        ]
    ).unique(maintain_order=True)
    return Batch(
        models.cast(MODEL_SCHEMA),  # type: ignore[arg-type]  # polars' stub: str keys are valid
        edges.cast(EDGE_SCHEMA),  # type: ignore[arg-type]
        problems.cast(PROBLEM_SCHEMA),  # type: ignore[arg-type]
    )


_ROW = pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
_KEY = pl.col("parent").str.to_lowercase().alias("key")


def _rows(height: int, edges: pl.DataFrame) -> pl.Series:
    """Which of ``height`` rows have a row in ``edges`` (column ``row``)."""
    return pl.repeat(False, height, eager=True).scatter(edges.get_column("row"), True)


def _tag_edges(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    # Every tag with the number of its row (not the id: copying an integer per tag is
    # cheap), kept only if it is a base_model: one. In the order of the rows and of each
    # row's tags: that order is the tags' order of the parents (tag_position, below).
    tags = (
        raw.select(_ROW, "tags")
        .explode("tags")
        .filter(pl.col("tags").str.starts_with("base_model:"))
    )
    # _TAG without a pattern over every tag: what follows the prefix, split at its first
    # colon; the part before it is the relation if it is one, the rest is the parent.
    # (Otherwise the parent is the whole text, colon included: no repo id, a bad tag. So
    # is one with a line break, where _TAG does not match.)
    rest = pl.col("tags").str.strip_prefix("base_model:")
    # (Each expression once: an eager frame computes what two expressions share twice.)
    tags = tags.with_columns(rest.str.splitn(":", 2).alias("split"))
    head, tail = pl.col("split").struct.field("field_0"), pl.col("split").struct.field("field_1")
    tags = tags.with_columns(
        (tail.is_not_null() & head.is_in(RELATIONS)).alias("declared")
    ).with_columns(
        pl.when("declared").then(head).alias("relation"),
        pl.when("declared").then(tail).otherwise(rest).alias("parent"),
    )
    tags = tags.with_columns(repo_id_expr("parent").alias("ok"))
    ids = raw.get_column("id")
    bad = tags.filter(~pl.col("ok"))
    bad = bad.select(
        ids.gather(bad.get_column("row")).alias("model"),
        pl.lit("bad_tag").alias("kind"),
        quote_expr(pl.col("tags")).alias("detail"),
    )
    edges = (
        tags.filter(pl.col("ok"))
        .group_by("row", _KEY, maintain_order=True)
        .agg(pl.col("parent").first(), pl.col("relation").drop_nulls().first())
    )
    # The groups are in the order of their first tags: a row's parents in its tags' order.
    # A number that grows with it orders them (only a model's own parents are compared).
    edges = edges.select(
        "row",
        ids.gather(edges.get_column("row")).alias("child"),
        "parent",
        "relation",
        pl.lit("tags").alias("source"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("tag_position"),
    )
    return edges, bad


def _base_model_edges(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    relation = pl.col("base_models_relation").str.to_lowercase()
    declared = (
        raw.select(
            "row",
            pl.col("id").alias("child"),
            pl.col("base_models").alias("parent"),
            pl.when(relation.is_in(RELATIONS)).then(relation).alias("relation"),
        )
        .with_columns(pl.int_ranges(pl.col("parent").list.len()).alias("tag_position"))
        .explode("parent", "tag_position")
        .drop_nulls("parent")
    )
    ok = repo_id_expr("parent")
    bad = declared.filter(~ok).select(
        pl.col("child").alias("model"),
        pl.lit("invalid_id").alias("kind"),
        pl.format("baseModels: {}", quote_expr(pl.col("parent"))).alias("detail"),
    )
    edges = (
        declared.filter(ok)
        .with_columns(_KEY)
        .unique(["row", "key"], keep="first", maintain_order=True)
        .select(
            "row",
            "child",
            "parent",
            "relation",
            pl.lit("baseModels").alias("source"),
            pl.col("tag_position").cast(pl.Int64),
        )
    )
    return edges, bad


# A card value the reader would take as it is: a namespaced repo id, not a URL, or a
# compact JSON list of such ids (no escapes). Everything else goes through the reader.
_PLAIN_LIST = r'^\["[^"\\]*"(?:,"[^"\\]*")*\]$'


def _plain_id(value: pl.Expr, lower: pl.Expr) -> pl.Expr:
    """Whether ``value`` (``lower`` in lower case) is a namespaced repo id, not a URL."""
    return (
        value.str.contains("/", literal=True)
        & repo_id_expr(value)
        & ~lower.str.contains("huggingface.co", literal=True)
        & ~lower.str.contains("hf.co", literal=True)
    ).fill_null(False)


def _card_parents(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Read the cards of the rows whose card says anything.

    Cards that declare plain, distinct, namespaced ids (nearly all) are read column-wise,
    giving exactly what :func:`~lineage.cards.parse_card_parents` gives them; the rest go
    through it, one row at a time. The parents keep the number of their model's row.
    """
    value, relation = pl.col("card_base_model"), pl.col("card_base_model_relation")
    cards = (
        raw.select(_ROW, "id", "card_base_model", "card_base_model_relation")
        .filter(value.is_not_null() | relation.is_not_null())
        .with_columns(value.str.contains(_PLAIN_LIST).alias("listed"))
    )
    listed = pl.col("listed")
    # A plain list's items hold no '"': the text inside its brackets and outer quotes,
    # split at every '","', is the list.
    items = (
        cards.filter(listed)
        .select(
            "row",
            "id",
            value.str.strip_prefix('["').str.strip_suffix('"]').str.split('","').alias("parent"),
        )
        .with_columns(pl.int_ranges(pl.col("parent").list.len()).alias("card_position"))
    )
    several = items.filter(pl.col("parent").list.len() > 1).explode("parent", "card_position")
    items = items.explode("parent", "card_position")
    single = cards.filter(value.is_not_null() & ~value.str.starts_with("[")).select(
        "row", "id", value.alias("parent"), pl.lit(0, pl.Int64).alias("card_position")
    )
    candidates = pl.concat([single, items]).with_columns(_KEY)
    key = pl.col("key")
    bad_rows = pl.concat(
        [
            candidates.filter(
                ~_plain_id(pl.col("parent"), key) | (key == pl.col("id").str.to_lowercase())
            ).select("row"),
            # A parent twice on one card (only a list of several can name one twice).
            several.filter(
                pl.struct("row", pl.col("parent").str.to_lowercase()).is_duplicated()
            ).select("row"),
        ]
    )
    plain_relation = relation.is_null() | relation.is_in(list(RELATIONS))
    fast = cards.filter(
        plain_relation & (value.is_null() | listed | ~value.str.starts_with("["))
    ).join(bad_rows, on="row", how="anti")
    fast_parents = candidates.join(fast.select("row"), on="row", how="semi").select(
        "row", pl.col("id").alias("child"), "parent", "card_position"
    )
    fast_relations = fast.filter(relation.is_not_null()).select(
        "row", pl.col("id").alias("child"), relation.alias("card_relation")
    )
    slow = cards.join(fast.select("row"), on="row", how="anti").drop("listed")

    parents: dict[str, list[Any]] = {"row": [], "child": [], "parent": [], "card_position": []}
    relations: dict[str, list[Any]] = {"row": [], "child": [], "card_relation": []}
    problems: dict[str, list[Any]] = {"model": [], "kind": [], "detail": []}
    for row, model_id, base_model, declared_relation in slow.iter_rows():
        found, declared, issues = parse_card_parents(model_id, base_model, declared_relation)
        for position, parent in enumerate(found):
            parents["row"].append(row)
            parents["child"].append(model_id)
            parents["parent"].append(parent)
            parents["card_position"].append(position)
        if declared is not None:
            relations["row"].append(row)
            relations["child"].append(model_id)
            relations["card_relation"].append(declared)
        for issue in issues:
            problems["model"].append(model_id)
            problems["kind"].append(issue.kind)
            problems["detail"].append(issue.detail)
    parent_schema = {
        "row": pl.UInt32,
        "child": pl.String,
        "parent": pl.String,
        "card_position": pl.Int64,
    }
    relation_schema = {"row": pl.UInt32, "child": pl.String, "card_relation": pl.String}
    # In the cards' order, as the reader alone would give them.
    return (
        pl.concat(
            [
                fast_parents.cast(parent_schema),  # type: ignore[arg-type]
                pl.DataFrame(parents, schema=parent_schema),
            ]
        ).sort("row", "card_position"),
        pl.concat(
            [
                fast_relations.cast(relation_schema),  # type: ignore[arg-type]
                pl.DataFrame(relations, schema=relation_schema),
            ]
        )
        .sort("row")
        .drop("row"),
        pl.DataFrame(problems, schema=PROBLEM_SCHEMA),
    )


def _library() -> pl.Expr:
    return pl.col("library_name").fill_null("").str.to_lowercase()


def looks_adapter() -> pl.Expr:
    """A model (columns ``library_name``, ``tags``) that looks like an adapter: PEFT, LoRA."""
    return (_library() == "peft") | pl.col("tags").list.eval(
        pl.element().is_in(ADAPTER_TAGS)
    ).list.any()


def looks_quantized() -> pl.Expr:
    """A model (columns ``id``, ``library_name``, ``tags``) that looks quantized: the one
    rule of :data:`lineage.vocabulary.QUANTIZED_NAME` and its libraries and tags.

    >>> frame = pl.DataFrame({"id": ["a/x-Q4_K_M", "a/x-it", "a/y"], "library_name": [None,
    ...     None, "mlx"], "tags": [[], ["text-generation"], []]})
    >>> frame.select(looks_quantized())["id"].to_list()
    [True, False, True]
    """
    return (
        pl.col("id").str.contains(QUANTIZED_NAME)
        | _library().is_in(QUANTIZED_LIBRARIES)
        | pl.col("tags").list.eval(pl.element().str.to_lowercase().is_in(QUANTIZED_TAGS)).list.any()
    )


def looks_merged() -> pl.Expr:
    """A model (column ``tags``) that its tags call a merge (mergekit)."""
    return pl.col("tags").list.eval(pl.element().str.to_lowercase().is_in(MERGE_TAGS)).list.any()


def _fill_relations(
    edges: pl.DataFrame, raw: pl.DataFrame, card_relation: pl.DataFrame
) -> pl.DataFrame:
    """Give every edge a relation: declared if the Hub or card says, inferred otherwise.

    Only the edges without one (few: the Hub writes the relation into the tags of most)
    look further, and only for their models are the other edges, baseModels and the card
    read.
    """
    relation = pl.col("relation")
    rest = edges.select("child", "relation").with_row_index("edge").filter(relation.is_null())
    if rest.height == 0:
        return edges.with_columns(pl.lit(False).alias("inferred"))
    children = rest.select("child").unique()
    # A relation the Hub wrote on one parent's tag applies to the parents it left bare:
    # the model's first.
    tagged = (
        edges.select("child", "relation")
        .filter(relation.is_not_null())
        .join(children, on="child", how="semi", maintain_order="left")
        .group_by("child")
        .agg(relation.first().alias("model_relation"))
    )
    # Then baseModels' relation (where the Hub knows it), then the card's.
    hub = (
        raw.select(
            pl.col("id").alias("child"), pl.col("base_models_relation").alias("hub_relation")
        )
        .filter(pl.col("hub_relation").is_not_null())
        .join(children, on="child", how="semi")
        .with_columns(pl.col("hub_relation").str.to_lowercase())
        .filter(pl.col("hub_relation").is_in(RELATIONS))
    )
    rest = (
        rest.join(tagged, on="child", how="left", maintain_order="left")
        .join(hub, on="child", how="left", maintain_order="left")
        .join(card_relation, on="child", how="left", maintain_order="left")
        .select(
            "edge",
            "child",
            pl.coalesce("model_relation", "hub_relation", "card_relation").alias("declared"),
        )
    )
    # Guessed from the model's name, library and tags, only where nothing declares one.
    # (Nothing declares a relation for any of such a model's parents: all are counted here.)
    bare = rest.filter(pl.col("declared").is_null())
    guesses = (
        raw.select("id", "library_name", "tags")
        .join(bare.select("child").unique(), left_on="id", right_on="child", how="semi")
        .join(
            bare.group_by("child").agg(pl.len().alias("n_parents")), left_on="id", right_on="child"
        )
        .select(
            pl.col("id").alias("child"),
            pl.when(looks_adapter())
            .then(pl.lit("adapter"))
            .when(looks_quantized())
            .then(pl.lit("quantized"))
            .when((pl.col("n_parents") > 1) | looks_merged())
            .then(pl.lit("merge"))
            .otherwise(pl.lit("finetune"))
            .alias("guess"),
        )
    )
    rest = rest.join(guesses, on="child", how="left", maintain_order="left")
    edge = rest.get_column("edge")
    return edges.with_columns(
        edges.get_column("relation").scatter(
            edge, rest.select(pl.coalesce("declared", "guess")).to_series()
        ),
        pl.repeat(False, edges.height, eager=True)
        .alias("inferred")
        .scatter(edge, rest.get_column("declared").is_null()),
    )


def parse_items(
    items: Iterable[object], *, seen_at: dt.datetime, source: str, crawled: bool = True
) -> tuple[Batch, int]:
    """Parse Hub API JSON items straight into a :class:`Batch` (and a skipped count).

    Examples
    --------
    >>> import datetime as dt
    >>> batch, skipped = parse_items(
    ...     [{"id": "me/m-GGUF", "tags": ["gguf", "base_model:Qwen/Qwen2.5-7B"]}],
    ...     seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), source="list")
    >>> batch.edges.select("parent", "relation", "inferred").row(0)
    ('Qwen/Qwen2.5-7B', 'quantized', True)
    """
    items = list(items)
    if not items:  # a walk's leaves: most pages are empty, skip polars' fixed cost
        return Batch.empty(), 0
    raw, skipped = raw_from_items(items)
    return parse_raw(raw, seen_at=seen_at, source=source, crawled=crawled), skipped
