"""Writing hub-stats dumps from Hub API JSON dicts: ``lineage ingest hub-stats`` without the Hub.

:func:`write_hub_stats_dump` lays out model dicts in the shape FakeHub serves (and
``fixtures/hub/toy.jsonl`` holds) as a Parquet file with the column names and types of the
real ``models.parquet`` of ``cfahlgren1/hub-stats``: naive-UTC datetimes, ``cardData`` and
``gguf`` as JSON strings, ``safetensors`` and ``baseModels`` as structs. Values a typed
column cannot hold (a string where the Hub has a number, a non-string tag) become nulls or
are left out, as the Hub's own exporter does; that is also how ``raw_from_items`` reads them,
so a dump and a crawl of the same dicts describe the same models.

:data:`HUB_STATS_SCHEMA` is the real dump's schema; :data:`SAFETENSORS_DTYPES` its
``safetensors.parameters`` fields in their order.

From a shell, ``python -m lineage.testing.synthetic hub N --hub-stats models.parquet`` (a
synthetic population) or ``python -m lineage.testing.fakehub FILE.jsonl --write-hub-stats
models.parquet`` (a population a fake Hub serves) write one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from lineage.records import api_time, append_fields, int_or_none, str_or_none

# The dtype fields of safetensors.parameters in the real dump, in its order; a dtype the
# models use beyond these is appended (the real dump's struct is the union of those seen).
SAFETENSORS_DTYPES = (
    "BF16",
    "F32",
    "F8_E4M3",
    "U8",
    "I64",
    "F8_E8M0",
    "I8",
    "I32",
    "F16",
    "U32",
    "BOOL",
    "I16",
    "U16",
    "C64",
    "F64",
    "miku",
    "fastllm",
    "F8_E5M2",
    "U64",
    "F6_E2M3",
)

_BASE_MODELS = pl.Struct(
    {
        "relation": pl.String(),
        "models": pl.List(pl.Struct({"_id": pl.String(), "id": pl.String()})),
    }
)


def safetensors_type(dtypes: Iterable[str] = SAFETENSORS_DTYPES) -> pl.Struct:
    """The ``safetensors`` struct type with the given ``parameters`` fields."""
    fields = {name: pl.Int64() for name in dtypes}
    return pl.Struct({"parameters": pl.Struct(fields), "total": pl.Int64()})


HUB_STATS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "author": pl.String(),
    "createdAt": pl.Datetime("us"),
    "lastModified": pl.Datetime("us"),
    "downloads": pl.Int64(),
    "downloadsAllTime": pl.Int64(),
    "likes": pl.Int64(),
    "trendingScore": pl.Float64(),
    "tags": pl.List(pl.String()),
    "cardData": pl.String(),
    "safetensors": safetensors_type(),
    "gguf": pl.String(),
    "baseModels": _BASE_MODELS,
    "pipeline_tag": pl.String(),
    "library_name": pl.String(),
}


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _json(value: object) -> str | None:
    # The real dump's JSON strings are Python's json.dumps defaults (ASCII, ", " separators).
    return json.dumps(value) if value is not None else None


def write_hub_stats_dump(
    models: Iterable[Mapping],
    path: str | os.PathLike[str],
    *,
    exclude: Iterable[str] = (),
    row_group_size: int | None = None,
) -> Path:
    """Write model dicts as a hub-stats ``models.parquet`` with the real schema and types.

    Parameters
    ----------
    models : dicts in the Hub's API JSON shape (``toy.jsonl``, FakeHub populations); items
        that are not a dict with a string ``id`` are skipped, as the Hub lists none.
    path : the Parquet file to write.
    exclude : columns to leave out (to imitate older or trimmed dumps).
    row_group_size : rows per Parquet row group (the writer's default if None).

    Returns
    -------
    The path written.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> path = write_hub_stats_dump(
    ...     [{"id": "me/x", "tags": ["base_model:a/b"], "cardData": {"base_model": "a/b"}}],
    ...     tempfile.mkdtemp() + "/models.parquet")
    >>> pl.read_parquet(path).select("id", "cardData").row(0)
    ('me/x', '{"base_model": "a/b"}')
    """
    columns: dict[str, list] = {name: [] for name in HUB_STATS_SCHEMA}
    extra_dtypes: dict[str, None] = {}
    for item in models:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue
        card = item.get("cardData")
        columns["id"].append(item["id"])
        append_fields(columns, item)
        columns["trendingScore"].append(_float(item.get("trendingScore")))
        columns["cardData"].append(_json(card) if isinstance(card, Mapping) else None)
        columns["safetensors"].append(_safetensors(item.get("safetensors"), extra_dtypes))
        columns["gguf"].append(_json(item.get("gguf")))
        columns["baseModels"].append(_base_models(item.get("baseModels")))

    schema = {
        **HUB_STATS_SCHEMA,
        "createdAt": pl.String(),
        "lastModified": pl.String(),
        "safetensors": safetensors_type([*SAFETENSORS_DTYPES, *extra_dtypes]),
    }
    frame = pl.DataFrame(columns, schema=schema).with_columns(
        # Parsed as raw_from_items parses the API's strings, then stored naive as the dump does.
        api_time(name).dt.replace_time_zone(None)
        for name in ("createdAt", "lastModified")
    )
    path = Path(path)
    frame.drop(list(exclude), strict=False).write_parquet(path, row_group_size=row_group_size)
    return path


def _safetensors(value: object, extra_dtypes: dict[str, None]) -> dict | None:
    if not isinstance(value, Mapping):
        return None
    parameters = value.get("parameters")
    counts = {}
    if isinstance(parameters, Mapping):
        for dtype, count in parameters.items():
            if isinstance(dtype, str) and int_or_none(count) is not None:
                counts[dtype] = int_or_none(count)
                if dtype not in SAFETENSORS_DTYPES:
                    extra_dtypes[dtype] = None
    return {"parameters": counts or None, "total": int_or_none(value.get("total"))}


def _base_models(value: object) -> dict | None:
    if not isinstance(value, Mapping):
        return None
    models = value.get("models")
    return {
        "relation": str_or_none(value.get("relation")),
        "models": [
            {"_id": str_or_none(m.get("_id")), "id": str_or_none(m.get("id"))}
            for m in models
            if isinstance(m, Mapping)
        ]
        if isinstance(models, list)
        else None,
    }
