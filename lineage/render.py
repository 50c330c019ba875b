"""Rendering result tables for the terminal, CSV and JSON.

Every listing command takes ``--format table|csv|json``; this module is the one place
those formats are produced. Tables are polars frames; JSON is a list of row objects
(dates as ISO strings), CSV has a header row.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

FORMATS = ("table", "csv", "json")


def render(frame: pl.DataFrame, fmt: str, *, title: str | None = None) -> str:
    """Render a frame as ``table``, ``csv`` or ``json`` text.

    >>> print(render(pl.DataFrame({"region": ["china"], "share": [0.7]}), "csv"), end="")
    region,share
    china,0.7
    """
    if fmt == "csv":
        return _flatten(frame).write_csv()
    if fmt == "json":
        return json.dumps(frame.to_dicts(), default=_json_default, indent=2) + "\n"
    if fmt != "table":
        raise ValueError(f"format must be one of {FORMATS}")
    with pl.Config(
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        tbl_rows=max(frame.height, 1),
        tbl_cols=-1,
        tbl_width_chars=200,
        fmt_str_lengths=80,
        fmt_table_cell_list_len=4,
        thousands_separator=",",
        float_precision=4,
    ):
        text = str(_flatten_lists(frame))
    return (f"{title}\n" if title else "") + text + "\n"


def render_json(value: Any) -> str:
    """Render a plain value (dicts, lists, dates) as JSON text."""
    return json.dumps(value, default=_json_default, indent=2) + "\n"


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
