"""Checks of input values shared by the library's entry points, each written once.

Every check raises :class:`~lineage.errors.InputError` naming the library parameter it
concerns (``params``), so that the CLI phrases it with its own flag (``--strategy``) and a
library caller reads the parameter's name (``strategy``); see :mod:`lineage.errors`.

This module decides whether a value is acceptable; it knows no command-line flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from .errors import InputError

T = TypeVar("T")


def check_choice(param: str, value: T, choices: Iterable[T]) -> T:
    """``value`` if it is one of ``choices``, else an :class:`InputError` naming ``param``.

    Examples
    --------
    >>> check_choice("fmt", "csv", ("table", "csv", "json"))
    'csv'
    >>> check_choice("fmt", "xml", ("table", "csv", "json"))
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: fmt must be one of table, csv, json, not 'xml'
    """
    choices = tuple(choices)
    if value not in choices:
        raise InputError(
            f"{{{param}}} must be one of {', '.join(map(str, choices))}, not {value!r}",
            params=(param,),
            value=value,
        )
    return value


def check_confidence(value: float | None, param: str = "min_confidence") -> None:
    """A confidence threshold: None, or a number from 0 to 1.

    Examples
    --------
    >>> check_confidence(0.8)
    >>> check_confidence(2)
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: min_confidence must be between 0 and 1, not 2
    """
    if value is not None and not 0.0 <= value <= 1.0:
        raise InputError(
            f"{{{param}}} must be between 0 and 1, not {value}", params=(param,), value=value
        )
