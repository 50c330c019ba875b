"""Rendering result tables for the terminal, CSV and JSON.

Every command that prints data takes ``--format table|csv|json``; this module is the one
place those formats are produced. Tables are polars frames; JSON is a list of row objects
(dates as ISO strings), CSV has a header row. A ``month`` column prints as ``YYYY-MM``
(:mod:`lineage.months`) in every format. Table cells are never cut short: a row is as wide
as its longest value, so an id or an example is always whole.

A result made of several tables (``diff``, ``tree``, ``info``) is rendered by
:func:`render_sections`: titled tables, one JSON object, or one CSV whose first column,
``section``, says which table each row belongs to.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import polars as pl

from .checks import check_choice
from .months import months_as_text

FORMATS = ("table", "csv", "json")


def render(frame: pl.DataFrame, fmt: str, *, title: str | None = None) -> str:
    """Render a frame as ``table``, ``csv`` or ``json`` text.

    >>> print(render(pl.DataFrame({"region": ["china"], "share": [0.7]}), "csv"), end="")
    region,share
    china,0.7
    """
    frame = months_as_text(frame)
    if fmt == "csv":
        return _flatten(frame).write_csv()
    if fmt == "json":
        return json.dumps(frame.to_dicts(), default=_json_default, indent=2) + "\n"
    check_choice("fmt", fmt, FORMATS)
    with pl.Config(
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        tbl_rows=max(frame.height, 1),
        tbl_cols=-1,
        tbl_width_chars=-1,  # never wrap or cut a cell: ids and examples stay whole
        fmt_str_lengths=1_000_000,
        fmt_table_cell_list_len=-1,
        thousands_separator=",",
        float_precision=4,
    ):
        text = str(_flatten_lists(frame))
    return (f"{title}\n" if title else "") + text + "\n"


def render_sections(
    sections: dict[str, pl.DataFrame], fmt: str, *, titles: dict[str, str] | None = None
) -> str:
    """Render several tables as one output: titled tables, a JSON object, or one CSV.

    The CSV has a first column ``section`` and the union of the tables' columns (empty
    where a table lacks one), so it loads as one table and filters by section.

    >>> parts = {"a": pl.DataFrame({"x": [1]}), "b": pl.DataFrame({"y": ["z"]})}
    >>> print(render_sections(parts, "csv"), end="")
    section,x,y
    a,1,
    b,,z
    """
    if fmt == "csv":
        frames = [
            _flatten(months_as_text(f)).select(pl.lit(name).alias("section"), pl.all())
            for name, f in sections.items()
        ]
        return pl.concat(frames, how="diagonal_relaxed").write_csv()
    if fmt == "json":
        return render_json({name: months_as_text(f).to_dicts() for name, f in sections.items()})
    check_choice("fmt", fmt, FORMATS)
    titles = titles or {}
    return "\n".join(
        render(f, "table", title=titles.get(name, name)) for name, f in sections.items()
    )


def render_json(value: Any) -> str:
    """Render a result as JSON text: see :func:`json_value` for what becomes what.

    >>> import datetime as dt
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Result:
    ...     day: dt.date
    ...     table: pl.DataFrame
    >>> print(render_json(Result(dt.date(2026, 1, 5), pl.DataFrame({"n": [1]}))), end="")
    {
      "day": "2026-01-05",
      "table": [
        {
          "n": 1
        }
      ]
    }
    """
    return json.dumps(json_value(value), default=_json_default, indent=2) + "\n"


def json_value(value: Any) -> Any:
    """A result as plain JSON values: a dataclass or named tuple as an object of its fields
    (in their order), a frame as a list of row objects (months as ``YYYY-MM``), dicts,
    lists and tuples item by item; dates are left for the encoder (ISO text)."""
    if isinstance(value, pl.DataFrame):
        return months_as_text(value).to_dicts()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: json_value(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def scalar_fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields that are not frames (a result's summary figures)."""
    return {
        f.name: getattr(value, f.name)
        for f in dataclasses.fields(value)
        if not isinstance(getattr(value, f.name), pl.DataFrame)
    }


def frame_fields(value: Any) -> dict[str, pl.DataFrame]:
    """A dataclass's fields that are frames (a result's tables), in their order."""
    return {
        f.name: getattr(value, f.name)
        for f in dataclasses.fields(value)
        if isinstance(getattr(value, f.name), pl.DataFrame)
    }


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV cannot hold lists: join them with '|'."""
    return _flatten_lists(frame, sep="|")


def _flatten_lists(frame: pl.DataFrame, sep: str = ", ") -> pl.DataFrame:
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    if not lists:
        return frame
    return frame.with_columns(
        pl.col(n).cast(pl.List(pl.String)).list.join(sep).alias(n) for n in lists
    )


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
