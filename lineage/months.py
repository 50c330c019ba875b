"""Months, the unit of lineage's time axis: read as ``YYYY-MM``, printed as ``YYYY-MM``.

A month is held as the date of its first day (``datetime.date``, polars ``Date``), so it
sorts, joins and plots as a date; it is written the way ``--since`` and ``--until`` take
it. This module is the one place that reads and writes that text; it must not decide which
months an analysis covers.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .errors import InputError

MONTH_FORMAT = "%Y-%m"


def parse_month(value: str | dt.date | None, name: str = "month") -> dt.date | None:
    """The first day of the month ``value`` names (``"2025-01"``), ``None`` for ``None``.

    ``name`` is the parameter the value was given as, named in the error.

    Examples
    --------
    >>> parse_month("2025-01")
    datetime.date(2025, 1, 1)
    >>> parse_month("2025-13", "since")
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: since must be a month like 2025-01 (YYYY-MM), not '2025-13'
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    try:
        text = value.strip()
        if len(text) != 7:
            raise ValueError(text)
        return dt.datetime.strptime(text, MONTH_FORMAT).date()
    except (ValueError, AttributeError) as exc:
        raise InputError(
            f"{{{name}}} must be a month like 2025-01 (YYYY-MM), not {value!r}",
            params=(name,),
            value=value,
        ) from exc


def check_month_range(since: dt.date | None, until: dt.date | None) -> None:
    """:class:`InputError` unless ``since`` is at or before ``until`` (either may be open).

    >>> check_month_range(dt.date(2025, 6, 1), dt.date(2025, 1, 1))
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: since 2025-06 is after until 2025-01: no month is both
    """
    if since is not None and until is not None and since > until:
        raise InputError(
            f"{{since}} {format_month(since)} is after {{until}} {format_month(until)}: "
            "no month is both",
            params=("since", "until"),
            value=(since, until),
        )


def format_month(value: dt.date) -> str:
    """``2025-01`` for any day of January 2025.

    >>> format_month(dt.date(2025, 1, 1))
    '2025-01'
    """
    return value.strftime(MONTH_FORMAT)


def months_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its ``month`` column (dates) written as ``YYYY-MM`` text.

    >>> months_as_text(pl.DataFrame({"month": [dt.date(2025, 1, 1)]}))["month"].to_list()
    ['2025-01']
    """
    if "month" not in frame.columns or not frame.schema["month"].is_temporal():
        return frame
    return frame.with_columns(pl.col("month").dt.strftime(MONTH_FORMAT))
